"""Conformance and bit-true checks for component authors (used by neurogate's pytest plugin).

A plugin package gets its tests from three lines::

    from neurogate.testing import component_tests

    test_my_neuron = component_tests("my_neuron", sweep={"threshold": [1, 100]})

:func:`component_tests` makes one pytest test per parameter set and check: the contract
(:func:`check_conformance`), and the model against every registered simulation backend
(:func:`check_bit_true`), each backend its own test, skipped with the reason when its simulator
is missing. The same checks are plain functions for use outside pytest, and fixtures
(``ng_conformance``, ``ng_bit_true``, ``ng_seed``; option ``--ng-seed``) inside it; see
:doc:`/plugins-authoring`.

A component passes :func:`check_conformance` when

* its class is a :class:`~neurogate.core.component.Component` with a name and a known kind,
  and every parameter has a rule that rejects a wrong value with a message naming it
  (``<name>.<param> must be ...``);
* its ports are well formed and :meth:`~neurogate.core.component.Component.create` returns
  gateware whose signature has exactly those ports (names, directions, shapes, reset values);
* its model (components with value ports) returns every output port and documented state value
  as a ``(steps, n)`` integer array within the port's range; is **vectorised**: the ``n``
  instances of ``model(n)`` are independent, so they equal ``n`` runs of ``model(1)`` on the
  same inputs; continues from where the last ``run`` stopped; and ``reset()`` starts it again.

>>> import neurogate as ng
>>> from neurogate.testing import check_bit_true, check_conformance
>>> checked = check_conformance("if_neuron", sweep={"reset": ["subtract", "zero"]})
>>> [c.reset for c in checked]
['subtract', 'zero']
>>> results = check_bit_true("if_neuron", [{"threshold": 7}], steps=50, n=2, seed=3)
>>> results[0].backends
('model', 'pysim')
"""

from __future__ import annotations

import itertools
import keyword
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import wiring

from neurogate.core.component import KINDS, Component, Port, StreamPort

__all__ = [
    "ConformanceError",
    "StreamComparison",
    "check_bit_true",
    "check_conformance",
    "component_tests",
    "default_seed",
    "ou_current",
    "parameter_sets",
    "run_neuron_core",
    "spike_match",
]


class ConformanceError(AssertionError):
    """A component breaks the component contract; the message says which rule and where."""


def default_seed(nodeid: str) -> int:
    """Return the stimulus seed of the test ``nodeid`` when ``--ng-seed`` is not given."""
    return zlib.crc32(nodeid.encode())


# -- parameter sets -------------------------------------------------------------------------------
def parameter_sets(
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence] | None = None,
) -> list[dict[str, Any]]:
    """Return the parameter sets to check: each of ``params`` times the product of ``sweep``.

    >>> parameter_sets([{"width": 8}], {"reset": ["zero", "subtract"], "threshold": [1, 9]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'width': 8, 'reset': 'zero', 'threshold': 1}, {'width': 8, 'reset': 'zero', 'threshold': 9},
     {'width': 8, 'reset': 'subtract', 'threshold': 1},
     {'width': 8, 'reset': 'subtract', 'threshold': 9}]
    >>> parameter_sets()
    [{}]
    """
    if params is None:
        params = [{}]
    elif isinstance(params, Mapping):
        params = [params]
    sets = []
    for i, base in enumerate(params):
        if not isinstance(base, Mapping):
            raise TypeError(f"params[{i}] must be a dict of parameters, not {base!r}")
        sets.append(dict(base))
    if sweep:
        if not isinstance(sweep, Mapping):
            raise TypeError(f"sweep must be a dict of parameter -> values, not {sweep!r}")
        for key, values in sweep.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise TypeError(
                    f"sweep[{key!r}] must be a non-empty list of values, not {values!r}"
                )
        keys = list(sweep)
        sets = [
            {**base, **dict(zip(keys, combo, strict=True))}
            for base in sets
            for combo in itertools.product(*(sweep[k] for k in keys))
        ]
    return sets


def _class_of(target, pm=None) -> type[Component]:
    __tracebackhide__ = True  # pytest shows the caller's line
    if isinstance(target, Component):
        return type(target)
    if isinstance(target, type):
        if not issubclass(target, Component):
            raise ConformanceError(f"{target.__qualname__} is not a neurogate Component subclass")
        return target
    if isinstance(target, str):
        import neurogate as ng

        pm = pm or ng.plugin_manager()
        found = pm.components()
        if target not in found:
            broken = "; ".join(f"{u.name} ({u.origin}): {u.reason}" for u in pm.unavailable)
            raise ConformanceError(
                f"no component named {target!r} is registered: install its plugin package "
                "(e.g. `pip install -e .`) so that its neurogate.plugins entry point is found"
                + (f"; unavailable plugins: {broken}" if broken else "")
            )
        return found[target].obj
    raise TypeError(f"expected a component, component class or name, not {target!r}")


def _build(target, params: Mapping[str, Any], pm=None) -> Component:
    """The component ``target`` (instance, class or registry name) with ``params`` applied."""
    __tracebackhide__ = True  # pytest shows the caller's line
    if isinstance(target, Component):
        return target.replace(**params) if params else target
    cls = _class_of(target, pm)
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "its defaults"
        raise ConformanceError(
            f"{cls.name or cls.__qualname__} cannot be built with {shown}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _components(target, params, sweep, pm) -> list[Component]:
    __tracebackhide__ = True  # pytest shows the caller's line
    comps = []
    for p in parameter_sets(params, sweep):
        comps.append(_build(target, p, pm))
    return comps


def _has_streams(comp: Component) -> bool:
    return any(isinstance(p, StreamPort) for p in comp.ports.values())


# -- conformance ----------------------------------------------------------------------------------
class _Wrong:
    """A parameter value that no rule should accept."""

    def __repr__(self):
        return "<wrong value>"


def _check_class(cls: type[Component]) -> None:
    __tracebackhide__ = True  # pytest shows the caller's line
    where = cls.__qualname__
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise ConformanceError(f"{where}.name must be a registry name (an identifier), not "
                               f"{cls.name!r}")  # fmt: skip
    if cls.kind not in KINDS:
        raise ConformanceError(
            f"{cls.name}: kind must be one of {', '.join(KINDS)}, not {cls.kind!r}"
        )


def _check_params(comp: Component) -> None:
    __tracebackhide__ = True  # pytest shows the caller's line
    cls, name = type(comp), comp.name
    for key, spec in cls._params.items():
        if spec.rule is None:
            raise ConformanceError(
                f"{name}.{key} has no rule: give its Param a rule (Int, Bool, Choice, ...) that "
                "validates it"
            )
        if not spec.doc:
            raise ConformanceError(f"{name}.{key} has no doc: give its Param a one-line doc")
        wrong = _Wrong()
        try:
            cls(**{**comp._given, key: wrong})
        except Exception as exc:
            if not isinstance(exc, TypeError | ValueError):
                raise ConformanceError(
                    f"{name}.{key}={wrong!r} raised {type(exc).__name__}: {exc!s}: a rule "
                    "raises TypeError or ValueError"
                ) from None
            if f"{name}.{key}" not in str(exc):
                raise ConformanceError(
                    f"{name}.{key}={wrong!r} raised {type(exc).__name__}: {exc!s}: the message "
                    f"must name the parameter ({name}.{key} must be ..., not ...)"
                ) from None
        else:
            raise ConformanceError(f"{name}.{key} accepts {wrong!r}: its rule validates nothing")
    same = cls(**comp.params)
    if same != comp or hash(same) != hash(comp) or comp.replace() != comp:
        raise ConformanceError(
            f"{name}: rebuilding {comp!r} from its own params gives {same!r}, not an equal one"
        )
    if not isinstance(comp.latency, int) or isinstance(comp.latency, bool) or comp.latency < 0:
        raise ConformanceError(f"{name}: latency must be an int >= 0, not {comp.latency!r}")


def _describe(member) -> str:
    flow = "in" if member.flow == wiring.In else "out"
    if member.is_signature:
        sig = member.signature
        if isinstance(sig, wiring.FlippedSignature):
            sig = sig.flip()
        payload = sig.members["payload"].shape if "payload" in sig.members else "?"
        return f"{flow} stream of {payload!r}"
    shape = Shape.cast(member.shape)
    sign = "signed" if shape.signed else "unsigned"
    init = f", init {member.init}" if member.init else ""
    return f"{flow} {sign} {shape.width}{init}"


def _check_ports(comp: Component) -> None:
    __tracebackhide__ = True  # pytest shows the caller's line
    name = comp.name
    ports = comp.ports
    if not isinstance(ports, Mapping) or not ports:
        raise ConformanceError(f"{name}: ports must be a non-empty dict of Port, not {ports!r}")
    for key, port in ports.items():
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ConformanceError(f"{name}: port name {key!r} is not an identifier")
        if not isinstance(port, Port | StreamPort):
            raise ConformanceError(f"{name}: port {key!r} must be a Port or StreamPort, not "
                                   f"{port!r}")  # fmt: skip
        if port.direction not in ("in", "out"):
            raise ConformanceError(
                f"{name}: port {key!r} direction must be 'in' or 'out', not {port.direction!r}"
            )
        if isinstance(port, Port):
            if not isinstance(port.width, int) or port.width < 1:
                raise ConformanceError(f"{name}: port {key!r} width must be an int >= 1, not "
                                       f"{port.width!r}")  # fmt: skip
            if not port.format.contains(port.init):
                raise ConformanceError(f"{name}: port {key!r} init {port.init} does not fit "
                                       f"{port.format.describe()}")  # fmt: skip
    if not comp.outputs:
        raise ConformanceError(f"{name}: has no output port")
    want = comp.signature().members
    gw = comp.create()
    if not isinstance(gw, wiring.Component):
        raise ConformanceError(
            f"{name}: create() must return an amaranth.lib.wiring.Component, not {gw!r}"
        )
    gw._MustUse__silence = True  # checked, never simulated: no "created but never used" warning
    got = gw.signature.members
    for key in want:
        if key not in got:
            raise ConformanceError(
                f"{name}: the gateware has no port {key!r} (ports declares "
                f"{_describe(want[key])}); build the gateware's signature from ports "
                "(subclass neurogate.Gateware)"
            )
    for key in got:
        if key not in want:
            raise ConformanceError(
                f"{name}: the gateware has a port {key!r} ({_describe(got[key])}) that ports "
                "does not declare"
            )
        if _describe(got[key]) != _describe(want[key]):
            raise ConformanceError(
                f"{name}: gateware port {key!r} is {_describe(got[key])}, but ports declares "
                f"{_describe(want[key])}"
            )


def _run_model(comp: Component, stim: dict, steps: int, n: int, what: str) -> dict:
    __tracebackhide__ = True  # pytest shows the caller's line
    try:
        model = comp.model(n)
        return model.run(stim, steps=steps)
    except Exception as exc:
        raise ConformanceError(
            f"{comp.name}: {what} raised {type(exc).__name__}: {exc} (a model runs n "
            "independent instances at once on {port: (steps, n) arrays})"
        ) from exc


def _check_outputs(comp: Component, out, steps: int, n: int, what: str) -> None:
    __tracebackhide__ = True  # pytest shows the caller's line
    name = comp.name
    if not isinstance(out, Mapping):
        raise ConformanceError(f"{name}: {what} must return a dict of arrays, not {out!r}")
    for key in [*comp.outputs, *comp.state]:
        if key not in out:
            role = "output port" if key in comp.outputs else "documented state value"
            raise ConformanceError(f"{name}: {what} returned no {key!r} (an {role})")
    for key, value in out.items():
        if key not in comp.outputs and key not in comp.state:
            raise ConformanceError(
                f"{name}: {what} returned {key!r}, which is neither an output port nor a "
                "documented state value (list it in the class attribute `state`)"
            )
        arr = np.asarray(value)
        if arr.shape != (steps, n):
            raise ConformanceError(
                f"{name}: {what} returned {key!r} with shape {arr.shape}, not (steps, n) = "
                f"{(steps, n)}; a model is vectorised over its n instances"
            )
        if arr.dtype.kind not in "iub":
            raise ConformanceError(
                f"{name}: {what} returned {key!r} as {arr.dtype}, not an integer array"
            )
        port = comp.outputs.get(key)
        if port is not None and arr.size:
            fmt = port.format
            bad = np.argwhere((arr < fmt.min) | (arr > fmt.max))
            if len(bad):
                t, i = (int(x) for x in bad[0])
                raise ConformanceError(
                    f"{name}: {what} returned {key!r} = {int(arr[t, i])} at step {t}, instance "
                    f"{i}, outside its port's range {fmt.describe()}"
                )


def _first_difference(comp, a: Mapping, b: Mapping):
    """``(step, port, value in a, value in b)`` of the earliest difference, or None."""
    first = None
    for order, key in enumerate([*comp.outputs, *comp.state]):
        x, y = np.asarray(a[key]), np.asarray(b[key])
        diff = np.argwhere(x != y)
        if len(diff):
            t = int(diff[0][0])
            if first is None or (t, order) < first[:2]:
                first = (t, order, key, diff[0], int(x[tuple(diff[0])]), int(y[tuple(diff[0])]))
    return None if first is None else (first[0], first[2], first[3], first[4], first[5])


def _check_model(comp: Component, steps: int, n: int, seed: int) -> None:
    __tracebackhide__ = True  # pytest shows the caller's line
    from neurogate.sim import random_inputs

    name = comp.name
    stim = random_inputs(comp, steps, n, seed)
    what = f"model(n={n}).run"
    out = _run_model(comp, stim, steps, n, what)
    _check_outputs(comp, out, steps, n, what)
    # Vectorised: instance i of model(n) is model(1) on column i.
    for i in range(n):
        one = _run_model(comp, {k: v[:, i : i + 1] for k, v in stim.items()}, steps, 1,
                         "model(n=1).run")  # fmt: skip
        _check_outputs(comp, one, steps, 1, "model(n=1).run")
        column = {k: np.asarray(out[k])[:, i : i + 1] for k in one}
        diff = _first_difference(comp, column, one)
        if diff is not None:
            t, key, _, got, want = diff
            raise ConformanceError(
                f"{name} model is not vectorised: instance {i} of model(n={n}) differs from "
                f"model(n=1) run on the same inputs at step {t}, {key!r}: {got} != {want}. "
                f"The n instances of a model must be independent (no Python loop over "
                f"instances, no state shared between them); seed={seed}"
            )
    # Continuation: two runs back to back equal one run; reset() starts again.
    half = steps // 2
    model = comp.model(n)
    parts = [
        model.run({k: v[:half] for k, v in stim.items()}, steps=half),
        model.run({k: v[half:] for k, v in stim.items()}, steps=steps - half),
    ]
    joined = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in out}
    diff = _first_difference(comp, joined, out)
    if diff is not None:
        t, key, where, got, want = diff
        raise ConformanceError(
            f"{name}: model.run does not continue from the state the last run left: steps "
            f"0..{half - 1} then {half}..{steps - 1} differ from one run at step {t}, {key!r}, "
            f"instance {int(where[1])}: {got} != {want}; seed={seed}"
        )
    model.reset()
    again = model.run(stim, steps=steps)
    diff = _first_difference(comp, again, out)
    if diff is not None:
        t, key, where, got, want = diff
        raise ConformanceError(
            f"{name}: model.reset() does not return to the reset state: a run after it differs "
            f"from a fresh model's at step {t}, {key!r}, instance {int(where[1])}: {got} != "
            f"{want}; seed={seed}"
        )


def check_conformance(
    target,
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence] | None = None,
    *,
    steps: int = 24,
    n: int = 4,
    seed: int = 0,
    pm=None,
) -> list[Component]:
    """Check ``target`` against the component contract for each parameter set.

    Parameters
    ----------
    target : Component, Component subclass or str
        A component (``params`` are applied with ``replace``), its class, or its registry name
        (looked up among the installed plugins, so this also checks that it is registered).
    params, sweep
        The parameter sets (see :func:`parameter_sets`); by default the defaults.
    steps, n, seed : int
        Size and seed of the random stimulus of the model checks.
    pm : PluginManager, optional
        Where to look up a name (default: the process-wide manager).

    Returns
    -------
    list of Component
        The components checked.

    Raises
    ------
    ConformanceError
        At the first broken rule, with a message naming the component, the rule and the port.
    """
    __tracebackhide__ = True  # pytest shows the caller's line
    comps = _components(target, params, sweep, pm)
    for comp in comps:
        _check_class(type(comp))
        _check_params(comp)
        _check_ports(comp)
        if not _has_streams(comp):
            _check_model(comp, steps, n, seed)
    return comps


# -- bit-true -------------------------------------------------------------------------------------
@dataclass
class StreamComparison:
    """The outcome of a successful stream check: the model's payloads moved by the gateware.

    Members
    -------
    component : Component
        The component checked.
    backends : tuple of str
        ``("model", "pysim")``.
    inputs : dict
        ``{input stream: [payload, ...]}``.
    outputs : dict
        ``{output stream: [payload, ...]}`` (the model's, equal to the gateware's on every
        handshake schedule tried).
    seed : int
        Seed of the payloads and of the random ``valid``/``ready``.
    """

    component: Component
    backends: tuple[str, ...]
    inputs: dict = field(repr=False)
    outputs: dict = field(repr=False)
    seed: int | None = None


#: ``(p_valid, p_ready)`` of the handshake schedules a stream component is checked under.
STREAM_SCHEDULES = ((1.0, 1.0), (0.5, 0.5), (0.9, 0.3), (0.3, 0.9))


def _random_payloads(port: StreamPort, count: int, rng) -> list:
    from neurogate.sim.streams import decode

    width = port.width
    raw = [int.from_bytes(rng.bytes((width + 7) // 8), "little") & ((1 << width) - 1)
           for _ in range(count)]  # fmt: skip
    return [decode(port.layout, bits) for bits in raw]


def _compare_streams(comp: Component, backends, steps: int, seed: int) -> StreamComparison:
    """Check a stream component's transaction model against its gateware on each backend."""
    __tracebackhide__ = True  # pytest shows the caller's line
    from neurogate.sim import MismatchError
    from neurogate.sim import streams as bench
    from neurogate.sim.harness import GATEWARE_BACKENDS

    name = comp.name
    gateware = list(backends[1:])
    if (
        not backends
        or backends[0] != "model"
        or not gateware
        or any(b not in GATEWARE_BACKENDS for b in gateware)
    ):
        raise ValueError(
            f"{name} has stream ports: it is checked as model against "
            f"{', '.join(GATEWARE_BACKENDS)} (neurogate.sim.streams), not on "
            f"{', '.join(backends)}"
        )
    values = [k for k, p in comp.ports.items() if not isinstance(p, StreamPort)]
    if values:
        raise ValueError(
            f"{name} has value ports ({', '.join(values)}) besides its streams: write its "
            "bit-true test with neurogate.sim.streams"
        )
    ins = {k: p for k, p in comp.ports.items() if p.direction == "in"}
    outs = [k for k, p in comp.ports.items() if p.direction == "out"]
    rng = np.random.default_rng(seed)
    feeds = {k: _random_payloads(p, steps, rng) for k, p in ins.items()}
    try:
        expected = comp.model(1).run(feeds)
        expected = {k: list(expected[k]) for k in outs}
    except Exception as exc:
        raise ConformanceError(
            f"{name}: a stream component's model(1).run({{input stream: [payload, ...]}}) must "
            f"return {{output stream: [payload, ...]}} (the payloads in order); it raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    jobs = [
        (comp, feeds, None, {"p_valid": p_valid, "p_ready": p_ready, "seed": seed,
                             "max_cycles": 64 * (steps + 16)})
        for p_valid, p_ready in STREAM_SCHEDULES
    ]  # fmt: skip
    for backend in gateware:
        runs = bench.run_many(jobs, backend)  # every schedule in one simulation
        for (p_valid, p_ready), got in zip(STREAM_SCHEDULES, runs, strict=True):
            for key in outs:
                want, have = expected[key], got.payloads(key)
                for k in range(max(len(want), len(have))):
                    a = want[k] if k < len(want) else "(none)"
                    b = have[k] if k < len(have) else "(none)"
                    if a != b:
                        raise MismatchError(
                            f"model and {backend} differ first at transfer {k} of output "
                            f"stream {key!r}: model={a}, {backend}={b} (model {len(want)} "
                            f"payloads, {backend} {len(have)}; p_valid={p_valid}, "
                            f"p_ready={p_ready}, seed={seed}; {comp!r})",
                            step=k, port=key, instance=0, expected=a, actual=b,
                            backends=("model", backend), seed=seed)  # fmt: skip
    return StreamComparison(comp, tuple(backends), feeds, expected, seed)


def unavailable_backends(backends: Sequence[str]) -> dict[str, str]:
    """Return ``{backend: reason}`` for those of ``backends`` that cannot run here.

    A name that no plugin registers raises ``ValueError`` (a typo must not pass as a skip).
    """
    __tracebackhide__ = True  # pytest shows the caller's line
    from neurogate.sim import available_backends

    known = available_backends()
    missing = {}
    for name in backends:
        if name not in known:
            raise ValueError(
                f"no simulation backend named {name!r}; known: {', '.join(sorted(known))}"
            )
        reason = known[name].unavailable_reason()
        if reason:
            missing[name] = f"backend {name!r} is unavailable: {reason}"
    return missing


def check_bit_true(
    target,
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence] | None = None,
    *,
    backends: Sequence[str] = ("model", "pysim"),
    steps: int = 200,
    n: int = 4,
    seed: int = 0,
    pm=None,
) -> list:
    """Compare ``backends`` bit for bit on seeded random stimulus, for each parameter set.

    Value-port components go through :func:`neurogate.sim.compare` (``steps`` x ``n`` random
    inputs over each port's full range). Components with stream ports are checked at the
    transaction level: their model's ``model(1).run({input stream: [payload, ...]})`` returns
    ``{output stream: [payload, ...]}``, and the gateware, run by :mod:`neurogate.sim.streams`
    on ``steps`` random payloads per input under several random ``valid``/``ready``
    schedules, must move exactly those payloads in that order (``model`` against ``pysim``,
    ``verilator`` and ``icarus``; the bulk backends take value ports only).

    Returns the :class:`~neurogate.sim.Comparison` (or :class:`StreamComparison`) of each set;
    raises :class:`~neurogate.sim.MismatchError` at the first difference (its message holds the
    parameters and the seed) and :class:`~neurogate.sim.BackendUnavailableError` for a backend
    that cannot run here.
    """
    __tracebackhide__ = True  # pytest shows the caller's line
    import neurogate as ng

    results = []
    for comp in _components(target, params, sweep, pm):
        if _has_streams(comp):
            results.append(_compare_streams(comp, backends, steps, seed))
            continue
        try:
            results.append(ng.sim.compare(comp, backends=tuple(backends), steps=steps, n=n,
                                          seed=seed, progress=False))  # fmt: skip
        except ng.sim.MismatchError as exc:
            # The message says it all; the simulator's frames would bury it.
            raise exc.with_traceback(None) from None
    return results


# -- pytest ---------------------------------------------------------------------------------------
def _param_id(params: Mapping[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def component_tests(
    target,
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence] | None = None,
    *,
    backends: Sequence[str] | None = None,
    steps: int = 200,
    n: int = 4,
):
    """Return a pytest test function checking ``target`` on every parameter set and backend.

    Assign it to a ``test_...`` name in a test module. It is parametrized over the parameter
    sets (:func:`parameter_sets`) and the checks: ``conformance`` (:func:`check_conformance`)
    and one bit-true comparison of the model with each backend (:func:`check_bit_true`). A
    backend whose simulator is missing is skipped with the reason. The stimulus seed comes from
    the ``ng_seed`` fixture (printed; ``pytest --ng-seed=S`` replays it).

    Parameters
    ----------
    target : Component, Component subclass or str
        What to check; a registry name also checks that the plugin is installed.
    params, sweep
        The parameter sets.
    backends : sequence of str, optional
        The backends compared with ``model`` (default: every registered backend but ``model``).
    steps, n : int
        Random stimulus of each comparison: ``steps`` steps of ``n`` instances (stream
        components: ``steps`` payloads per input).
    """
    import pytest

    from neurogate.sim import available_backends
    from neurogate.sim.harness import GATEWARE_BACKENDS

    sets = parameter_sets(params, sweep)
    if backends is None:
        backends = [b for b in available_backends() if b != "model"]
    missing = unavailable_backends(backends)
    cases = []
    for p in sets:
        pid = _param_id(p)
        cases.append(pytest.param("conformance", p, id=f"conformance-{pid}"))
        for b in backends:
            marks = [pytest.mark.skip(reason=missing[b])] if b in missing else []
            cases.append(pytest.param(b, p, id=f"{b}-{pid}", marks=marks))

    @pytest.mark.parametrize(("ng_check", "ng_params"), cases)
    def test_component(ng_check, ng_params, ng_seed):
        __tracebackhide__ = True  # pytest shows the caller's line
        if ng_check == "conformance":
            check_conformance(target, [ng_params], seed=ng_seed)
            return
        comp = _build(target, ng_params)
        if _has_streams(comp) and ng_check not in GATEWARE_BACKENDS:
            pytest.skip(
                f"{comp.name} has stream ports: it is checked on "
                f"{', '.join(GATEWARE_BACKENDS)} (neurogate.sim.streams); backend "
                f"{ng_check!r} takes value ports only"
            )
        check_bit_true(comp, backends=("model", ng_check), steps=steps, n=n, seed=ng_seed)

    label = target if isinstance(target, str) else getattr(target, "name", repr(target))
    test_component.__doc__ = f"{label}: conformance, and its model against each backend."
    return test_component


# -- the time-multiplexed core ------------------------------------------------------------------
def run_neuron_core(
    core, inputs: Mapping[str, Any], *, p_ready: float = 1.0, seed: int | None = None
):
    """Run a :class:`~neurogate.gateware.neuron_core.NeuronCore` in the Amaranth simulator.

    ``core`` is the core (a component: kernel, size, memory, ...), ``inputs`` maps each input
    word field to a ``(T, n_neurons)`` int array. Per timestep the bench writes every neuron's
    input word, strobes ``step``, records the address-events the core sends, waits for ``done``
    and the FIFO to drain, and reads every neuron's state back. ``aer.ready`` is high in each
    cycle with probability ``p_ready`` (drawn from ``numpy.random.default_rng(seed)``; below 1
    the spike FIFO fills and the core stalls). Returns ``(events, states)``: per timestep the
    list of spiking neurons in the order sent, and ``{field: [value per neuron]}``; compare
    them with the kernel's parallel model.
    """
    from amaranth.hdl import ClockDomain, Module

    from neurogate.sim.backends import reset, simulate

    n = core.n_neurons
    arrays = {key: np.asarray(value) for key, value in inputs.items()}
    steps = next(iter(arrays.values())).shape[0] if arrays else 0
    dut = core.create()
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    fields = list(core.kernel.state_fields())
    events, states = [], []
    ready_rng = np.random.default_rng(seed)

    async def bench(ctx):
        await reset(ctx, domain)
        ctx.set(dut.aer.ready, 1)
        for t in range(steps):
            for i in range(n):
                ctx.set(dut.in_addr, i)
                for key, arr in arrays.items():
                    ctx.set(getattr(dut.in_data, key), int(arr[t, i]))
                ctx.set(dut.in_we, 1)
                await ctx.tick()
            ctx.set(dut.in_we, 0)
            ctx.set(dut.step, 1)
            await ctx.tick()
            ctx.set(dut.step, 0)
            step_events, after_done = [], None
            limit = (4 * n + 64) if p_ready >= 1 else int((4 * n + 64) / max(p_ready, 0.01))
            for _ in range(limit):
                ready = p_ready >= 1 or bool(ready_rng.random() < p_ready)
                ctx.set(dut.aer.ready, ready)
                if ready and ctx.get(dut.aer.valid):  # transferred at this edge
                    step_events.append(ctx.get(dut.aer.payload.addr))
                if after_done is None and ctx.get(dut.done):
                    after_done = 4  # let the FIFO drain
                await ctx.tick()
                if after_done is not None and ctx.get(dut.idle):
                    after_done -= 1
                    if not after_done:
                        break
            else:
                raise AssertionError(f"NeuronCore timestep {t} never finished")
            ctx.set(dut.aer.ready, 1)
            events.append(step_events)
            state = {key: [] for key in fields}
            for i in range(n):
                ctx.set(dut.rd_addr, i)
                await ctx.tick()
                for key in fields:
                    state[key].append(ctx.get(getattr(dut.rd_data, key)))
            states.append(state)

    simulate(top, bench)
    return events, states


# -- fidelity against float references ------------------------------------------------------------
def spike_match(ref: np.ndarray, got: np.ndarray, window: int) -> float:
    """Fraction of the spike steps in ``ref`` with a spike of ``got`` within ``window`` steps.

    >>> spike_match(np.array([10, 50, 90]), np.array([11, 60, 89]), 1)
    0.6666666666666666
    """
    if not ref.size:
        return 1.0
    if not got.size:
        return 0.0
    idx = np.clip(np.searchsorted(got, ref), 1, got.size) - 1
    near = np.minimum(np.abs(got[idx] - ref), np.abs(got[np.minimum(idx + 1, got.size - 1)] - ref))
    return float(np.mean(near <= window))


def ou_current(rng, steps: int, n: int, dt: float, tau: float = 5.0, sd: float = 200.0):
    """An Ornstein-Uhlenbeck noise current ``(steps, n)``: time constant ``tau`` (same unit as
    ``dt``), stationary standard deviation ``sd``, starting at 0; drawn from ``rng``."""
    decay = math.exp(-dt / tau)
    kick = sd * math.sqrt(1 - decay**2)
    noise, x = np.zeros((steps, n)), np.zeros(n)
    for t in range(steps):
        x = decay * x + kick * rng.standard_normal(n)
        noise[t] = x
    return noise
