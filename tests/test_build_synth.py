"""Real builds with the YoWASP tools: one iCE40 and one ECP5 bitstream from the example network.

Marked ``synth`` and ``slow`` (``pytest -m synth`` runs only these, ``-m "not synth"`` skips
them); the test command installs the ``build`` extra, so they run in CI. Each takes about
15-30 s here once the WebAssembly is compiled (the first YoWASP run of a tool compiles it,
about 40 s, and caches it in the user's cache folder).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import neurogate as ng
from neurogate.boards.toolchain import Toolchain, ToolchainError
from neurogate.cli import main

FEEDFORWARD = Path(__file__).resolve().parent.parent / "examples" / "feedforward.toml"

pytestmark = [pytest.mark.synth, pytest.mark.slow]


def _need(*tools):
    try:
        Toolchain("yowasp").check(tools)
    except ToolchainError as exc:
        pytest.skip(f"the build extra is not installed: {exc}")


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NEUROGATE_TOOLCHAIN", raising=False)


def test_icebreaker_build_then_cached(tmp_path, capsys):
    _need("yosys", "nextpnr-ice40", "icepack")
    out = tmp_path / "ice"
    start = time.perf_counter()
    assert main(["build", str(FEEDFORWARD), "--board", "icebreaker", "-o", str(out)]) == 0
    cold = time.perf_counter() - start
    printed = capsys.readouterr()
    # a UP5K bitstream (icepack, no compression) has a fixed size
    assert (out / "ff.bin").stat().st_size == 104090
    assert "module top" in (out / "ff.v").read_text()
    report = json.loads((out / "report.json").read_text())
    assert report["fits"] is True
    assert report["timing_met"] is True
    assert report["toolchain"]["kind"] == "yowasp"
    assert report["utilisation"]["logic"]["available"] == 5280
    assert 0 < report["cells"]["lut"] < 3000  # the network and the host link
    assert json.loads((out / "hostlink.json").read_text())["clk_freq"] == 12e6
    assert report["cells"]["ff"] > 0
    (clock,) = report["clocks"].values()
    assert clock["requested_mhz"] == 12.0
    assert clock["achieved_mhz"] > 12.0
    assert "logic cells" in printed.out
    assert "synthesis (Yosys)  done in" in printed.err
    # the same build again: from the cache, the same bitstream
    start = time.perf_counter()
    again = ng.boards.build(FEEDFORWARD, "icebreaker", tmp_path / "again", progress=False)
    warm = time.perf_counter() - start
    assert again.cached
    assert again.bitstream.read_bytes() == (out / "ff.bin").read_bytes()
    print(f"icebreaker: first build {cold:.1f} s, cached {warm:.1f} s")
    assert warm < 10


def test_ulx3s_85f_build(tmp_path):
    _need("yosys", "nextpnr-ecp5", "ecppack")
    result = ng.boards.build(FEEDFORWARD, "ulx3s_85f", tmp_path / "ecp5", seed=3, progress=False)
    assert not result.cached
    assert result.bitstream.name == "ff.bit"
    assert result.bitstream.stat().st_size > 10_000
    report = result.report
    assert (report["device"], report["seed"]) == ("LFE5U-85F", 3)
    assert report["utilisation"]["logic"]["available"] == 83640
    assert report["utilisation"]["bram"]["available"] == 208
    assert report["fits"] is True
    assert report["timing_met"] is True
    (clock,) = report["clocks"].values()
    assert clock["requested_mhz"] == 25.0
    print(f"ulx3s_85f: {result.seconds:.1f} s, {report['seconds']}")
