"""neurogate's pytest plugin and neurogate.testing: run on throwaway test files with pytester.

Each test writes a small test session (components that are right, and ones that are wrong on
purpose) and checks what pytest reports, failure messages included. The comparisons use the
``pysim`` backend only (``--ng-backends=pysim`` or ``backends=``), so they stay fast whatever
co-simulators are installed.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import zlib

import pytest

import neurogate as ng
from neurogate.testing import (
    ConformanceError,
    check_bit_true,
    check_conformance,
    default_seed,
    parameter_sets,
)

pytest_plugins = ["pytester"]

# Components for the throwaway sessions: an accumulator done right, and done wrong in each way
# the checks must catch.
COMPS = '''
import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import neurogate as ng
from neurogate.core.component import Int, Param
from neurogate.gateware.aer import event_layout


class Acc(ng.Component):
    """acc += x, wrapping at width bits; registered."""

    name = "t_acc"
    kind = "arith"
    width = Param(8, Int(1, 16), "bits of x and acc")

    @property
    def ports(self):
        return {"x": ng.Port("in", self.width), "acc": ng.Port("out", self.width)}

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return AccModel(self, n)

    def create(self):
        return AccGateware(self)


class AccModel(ng.Model):
    def reset(self):
        self.acc = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        out = (self.acc + np.cumsum(inputs["x"], axis=0)) & ((1 << self.component.width) - 1)
        if steps:
            self.acc = out[-1].copy()
        return {"acc": out}


class AccGateware(ng.Gateware):
    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.acc.eq(self.acc + self.x)
        return m


class OffByOne(Acc):
    name = "t_off_by_one"

    def model(self, n=1):
        return OffByOneModel(self, n)


class OffByOneModel(AccModel):
    """Right, except that step 5 is one too high."""

    def reset(self):
        super().reset()
        self.t = 0

    def _run(self, inputs, steps):
        out = super()._run(inputs, steps)["acc"]
        t = self.t + np.arange(steps)[:, None]
        self.t += steps
        return {"acc": (out + (t == 5)) & ((1 << self.component.width) - 1)}


class Shared(Acc):
    name = "t_shared"

    def model(self, n=1):
        return SharedModel(self, n)


class SharedModel(AccModel):
    """Not vectorised: every instance is fed instance 0's input."""

    def _run(self, inputs, steps):
        return super()._run({"x": np.repeat(inputs["x"][:, :1], self.n, axis=1)}, steps)


class OneInstance(Acc):
    name = "t_one_instance"

    def model(self, n=1):
        return OneInstanceModel(self, n)


class OneInstanceModel(AccModel):
    """Not vectorised: models instance 0 only."""

    def _run(self, inputs, steps):
        return {"acc": super()._run(inputs, steps)["acc"][:, :1]}


class WideGateware(wiring.Component):
    def __init__(self):
        super().__init__({"x": In(8), "acc": Out(16)})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.acc.eq(self.acc + self.x)
        return m


class WrongPorts(Acc):
    """Its gateware's acc is 16 bits; its ports say 8."""

    name = "t_wrong_ports"

    def create(self):
        return WideGateware()


class NoXGateware(wiring.Component):
    def __init__(self):
        super().__init__({"acc": Out(8)})

    def elaborate(self, platform):
        return Module()


class MissingPort(Acc):
    name = "t_missing_port"

    def create(self):
        return NoXGateware()


class Unchecked(Acc):
    name = "t_unchecked"
    gain = Param(1, None, "a parameter nobody validates")


class Pass(ng.Component):
    """An AER register stage: events out as they came in."""

    name = "t_pass"
    kind = "router"
    plus = 0

    @property
    def ports(self):
        layout = event_layout(4)
        return {"i": ng.StreamPort("in", layout), "o": ng.StreamPort("out", layout)}

    def model(self, n=1):
        return PassModel()

    def create(self):
        return PassGateware(self)


class PassModel:
    def run(self, streams):
        return {"o": list(streams["i"])}


class PassGateware(ng.Gateware):
    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.ready):
            m.d.sync += [
                self.o.valid.eq(self.i.valid),
                self.o.payload.addr.eq(self.i.payload.addr + type(self.params).plus),
            ]
        return m


class PlusOne(Pass):
    """Its gateware adds 1 to every address; its model does not."""

    name = "t_plus_one"
    plus = 1
'''


@pytest.fixture
def session(pytester):
    """A pytester directory with the components module ``comps``."""
    pytester.makepyfile(comps=COMPS)
    # pytest marks the modules of a distribution with a pytest11 entry point (neurogate's) for
    # assertion rewriting; in a session run inside this one they are already imported.
    pytester.makeini("[pytest]\nfilterwarnings =\n    ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester


class NoSim:
    """A backend whose simulator is missing."""

    name = "nosim"
    description = "a simulator that is not installed"

    @classmethod
    def unavailable_reason(cls):
        return "the nosim command is not on PATH (pip install nosim-bin)"


@pytest.fixture
def nosim(monkeypatch):
    """Register the unavailable backend ``nosim`` next to the built-in ones."""
    real = ng.sim.available_backends

    def with_nosim(pm=None):
        return {**real(pm), "nosim": NoSim}

    monkeypatch.setattr(ng.sim, "available_backends", with_nosim)


def _outcomes(result) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if v}


# -- the plugin is installed and cheap ------------------------------------------------------------
def test_entry_point_is_installed():
    eps = importlib.metadata.entry_points(group="pytest11")
    found = [ep.value for ep in eps if ep.name == "neurogate"]
    assert found == ["_neurogate_pytestplugin"], (
        "the pytest11 entry point is missing: reinstall neurogate (pip install -e .)"
    )


def test_loading_the_plugin_imports_nothing_of_neurogate():
    code = (
        "import sys, _neurogate_pytestplugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('neurogate', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- component_tests ------------------------------------------------------------------------------
def test_three_line_test_file_passes_and_names_its_items(session, nosim):
    session.makepyfile(
        test_acc="""
        from neurogate.testing import component_tests
        from comps import Acc
        test_acc = component_tests(Acc, sweep={"width": [1, 8]}, backends=["pysim", "nosim"],
                                   steps=40, n=3)
        """
    )
    result = session.runpytest("-v", "-rs")
    assert _outcomes(result) == {"passed": 4, "skipped": 2}
    result.stdout.fnmatch_lines(
        [
            "*test_acc.py::test_acc[[]conformance-width=1[]] PASSED*",
            "*test_acc.py::test_acc[[]pysim-width=1[]] PASSED*",
            "*test_acc.py::test_acc[[]nosim-width=1[]] SKIPPED*",
            "*test_acc.py::test_acc[[]pysim-width=8[]] PASSED*",
            "SKIPPED [[]2[]] *: backend 'nosim' is unavailable: the nosim command is not on "
            "PATH (pip install nosim-bin)",
        ]
    )


def test_default_backends_are_every_registered_one_but_model(session, nosim):
    session.makepyfile(
        test_acc="""
        from neurogate.testing import component_tests
        test_acc = component_tests("lif", steps=20, n=2)
        """
    )
    result = session.runpytest("--collect-only", "-q")
    names = {n for n in ng.sim.available_backends() if n != "model"} | {"nosim"}
    for backend in names:
        result.stdout.fnmatch_lines([f"*test_acc[[]{backend}-defaults[]]"])
    assert "model-defaults" not in result.stdout.str()


def test_ng_backends_option_deselects_the_others(session, nosim):
    session.makepyfile(
        test_acc="""
        from neurogate.testing import component_tests
        from comps import Acc
        test_acc = component_tests(Acc, backends=["pysim", "nosim"], steps=20, n=2)
        """
    )
    result = session.runpytest("--ng-backends=pysim")
    assert _outcomes(result) == {"passed": 2, "deselected": 1}


def test_unknown_backend_is_an_error_not_a_skip(session):
    session.makepyfile(
        test_acc="""
        from neurogate.testing import component_tests
        from comps import Acc
        test_acc = component_tests(Acc, backends=["verilatr"])
        """
    )
    result = session.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ValueError: no simulation backend named 'verilatr'; known: *"])


def test_off_by_one_model_fails_with_the_first_difference(session):
    session.makepyfile(
        test_off="""
        from neurogate.testing import component_tests
        from comps import OffByOne
        test_off = component_tests(OffByOne, backends=["pysim"], steps=30, n=3)
        """
    )
    result = session.runpytest("--ng-seed=11")
    assert _outcomes(result) == {"passed": 1, "failed": 1}  # conformance passes: it is bit-true
    text = result.stdout.str()
    found = re.search(
        r"MismatchError: model and pysim differ first at step 5 \(cycle 6\), port 'acc', "
        r"instance 0: model=(\d+), pysim=(\d+) \[inputs: x=\d+\] \(3 differing values; "
        r"seed=11; t_off_by_one\(width=8\)\)",
        text,
    )
    assert found, text
    assert int(found[1]) == (int(found[2]) + 1) % 256
    assert "ng_seed=11 (replay: pytest --ng-seed=11 'test_off.py::test_off[pysim-defaults]')" in (
        text
    )


@pytest.mark.parametrize(
    ("comp", "message"),
    [
        (
            "Shared",
            r"ConformanceError: t_shared model is not vectorised: instance 1 of model\(n=4\) "
            r"differs from model\(n=1\) run on the same inputs at step \d+, 'acc': \d+ != \d+\. "
            r"The n instances of a model must be independent \(no Python loop over instances, "
            r"no state shared between them\); seed=5$",
        ),
        (
            "OneInstance",
            r"ConformanceError: t_one_instance: model\(n=4\)\.run returned 'acc' with shape "
            r"\(24, 1\), not \(steps, n\) = \(24, 4\); a model is vectorised over its n "
            r"instances$",
        ),
        (
            "WrongPorts",
            r"ConformanceError: t_wrong_ports: gateware port 'acc' is out unsigned 16, but "
            r"ports declares out unsigned 8$",
        ),
        (
            "MissingPort",
            r"ConformanceError: t_missing_port: the gateware has no port 'x' \(ports declares "
            r"in unsigned 8\); build the gateware's signature from ports \(subclass "
            r"neurogate\.Gateware\)$",
        ),
        (
            "Unchecked",
            r"ConformanceError: t_unchecked\.gain has no rule: give its Param a rule \(Int, "
            r"Bool, Choice, \.\.\.\) that validates it$",
        ),
    ],
)
def test_conformance_failures_say_what_is_wrong(session, comp, message):
    session.makepyfile(
        test_bad=f"""
        from neurogate.testing import component_tests
        from comps import {comp}
        test_bad = component_tests({comp}, backends=[])
        """
    )
    result = session.runpytest("--ng-seed=5")
    assert _outcomes(result) == {"failed": 1}
    lines = [line.strip() for line in result.stdout.lines if line.startswith("E ")]
    assert any(re.search(message, line[1:].strip()) for line in lines), "\n".join(lines)


def test_stream_component_is_checked_at_transaction_level(session, nosim):
    session.makepyfile(
        test_stream_comps="""
        from neurogate.testing import component_tests
        from comps import Pass, PlusOne
        test_pass = component_tests(Pass, backends=["pysim", "nosim"], steps=12)
        test_plus_one = component_tests(PlusOne, backends=["pysim"], steps=12)
        """
    )
    result = session.runpytest("--ng-seed=3", "-rs")
    assert _outcomes(result) == {"passed": 3, "failed": 1, "skipped": 1}
    text = result.stdout.str()
    found = re.search(
        r"MismatchError: model and pysim differ first at transfer 0 of output stream 'o': "
        r"model=\{'addr': (\d+)\}, pysim=\{'addr': (\d+)\} \(model 12 payloads, pysim 12; "
        r"p_valid=1\.0, p_ready=1\.0, seed=3; t_plus_one\(\)\)",
        text,
    )
    assert found, text
    assert int(found[2]) == (int(found[1]) + 1) % 16


def test_component_by_name_must_be_registered(session):
    session.makepyfile(
        test_name="""
        from neurogate.testing import component_tests
        test_name = component_tests("no_such_component", backends=[])
        """
    )
    result = session.runpytest()
    result.stdout.fnmatch_lines(
        [
            "E *ConformanceError: no component named 'no_such_component' is registered: "
            "install its plugin package (e.g. `pip install -e .`) so that its neurogate.plugins "
            "entry point is found*"
        ]
    )


# -- fixtures -------------------------------------------------------------------------------------
def test_fixtures_seed_conformance_and_bit_true(session, nosim):
    session.makepyfile(
        test_fixtures="""
        import zlib
        from comps import Acc, OffByOne

        def test_seed(ng_seed, request):
            assert ng_seed == zlib.crc32(request.node.nodeid.encode())

        def test_conformance(ng_conformance):
            assert [c.width for c in ng_conformance(Acc, sweep={"width": [2, 3]})] == [2, 3]

        def test_bit_true(ng_bit_true):
            (result,) = ng_bit_true(Acc, [{"width": 5}], steps=30, n=2)
            assert result.backends == ("model", "pysim")

        def test_bit_true_with_a_missing_backend(ng_bit_true):
            ng_bit_true(Acc, steps=30, n=2, backends=("model", "pysim", "nosim"))

        def test_only_missing_backends(ng_bit_true):
            ng_bit_true(Acc, backends=("model", "nosim"))

        def test_bit_true_failure(ng_bit_true):
            ng_bit_true(OffByOne, steps=30, n=2)
        """
    )
    result = session.runpytest("-rs")
    assert _outcomes(result) == {"passed": 3, "skipped": 2, "failed": 1}
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED [[]1[]] test_fixtures.py:*: model == pysim passed; backend 'nosim' is "
            "unavailable: the nosim command is not on PATH (pip install nosim-bin)",
            "SKIPPED [[]1[]] test_fixtures.py:*: backend 'nosim' is unavailable: the nosim "
            "command is not on PATH (pip install nosim-bin)",
        ]
    )
    seed = zlib.crc32(b"test_fixtures.py::test_bit_true_failure")
    result.stdout.fnmatch_lines(
        [f"E *MismatchError: model and pysim differ first at step 5 (cycle 6)*seed={seed};*"]
    )


# -- the helpers without pytest ---------------------------------------------------------------
def test_helpers_check_builtins_and_report_mismatches(rng_seed):
    assert default_seed("a::b") == zlib.crc32(b"a::b")
    comps = check_conformance("if_neuron", [{"data_width": 2, "threshold": 1}, {}],
                              {"reset": ["zero", "subtract"]}, seed=rng_seed)  # fmt: skip
    assert [(c.data_width, c.reset) for c in comps] == [
        (2, "zero"), (2, "subtract"), (16, "zero"), (16, "subtract")]  # fmt: skip
    (result,) = check_bit_true("lif_shift", steps=40, n=2, seed=rng_seed)
    assert result.backends == ("model", "pysim")
    with pytest.raises(ConformanceError, match=r"^if_neuron cannot be built with threshold=0: "):
        check_conformance("if_neuron", {"threshold": 0})
    with pytest.raises(TypeError, match=r"^sweep\['width'\] must be a non-empty list of values, "):
        parameter_sets(sweep={"width": 8})


def _lax(where, value):
    return value


def _anonymous(where, value):
    if not isinstance(value, int):
        raise TypeError(f"expected an int, got {value!r}")
    return value


def _clumsy(where, value):
    return value.bit_length() and value


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (_lax, "t_rules.k accepts <wrong value>: its rule validates nothing"),
        (
            _anonymous,
            "t_rules.k=<wrong value> raised TypeError: expected an int, got <wrong value>: the "
            "message must name the parameter (t_rules.k must be ..., not ...)",
        ),
        (
            _clumsy,
            "t_rules.k=<wrong value> raised AttributeError: '_Wrong' object has no attribute "
            "'bit_length': a rule raises TypeError or ValueError",
        ),
    ],
)
def test_parameter_rules_must_reject_and_name(rule, message):
    from neurogate.core.component import Param
    from neurogate.plugins.arith.counter import Counter

    class Rules(Counter):
        name = "t_rules"
        k = Param(1, rule, "a parameter")

    with pytest.raises(ConformanceError, match=f"^{re.escape(message)}$"):
        check_conformance(Rules)


def test_every_builtin_value_component_conforms(rng_seed):
    pm = ng.get_plugin_manager(autoload=False)
    for name in pm.components():
        check_conformance(name, seed=rng_seed, pm=pm, steps=12, n=3)
