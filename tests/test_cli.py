"""The command line: every subcommand, its errors, and `python -m neurogate` equivalence."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import neurogate as ng
from neurogate.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurogate {ng.__version__}"


def test_no_command_shows_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "usage: neurogate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "params", "ports"),
    [
        ("lif", ["v_threshold=300"], ["clk", "rst", "current", "spike", "v"]),
        ("lif", ["leak_k=None", "gain_k=None", "noise=True", "overflow=wrap"],
         ["current", "leak_k", "gain_k", "noise", "spike", "v"]),
        ("lfsr", ["width=8", "seed=0x5A"], ["x", "bit", "state"]),
    ],
)  # fmt: skip
def test_rtl_writes_verilog(tmp_path, capsys, name, params, ports):
    out = tmp_path / "top.v"
    args = ["rtl", name, "-o", str(out)]
    for p in params:
        args += ["--param", p]
    assert main(args) == 0
    text = out.read_text()
    assert re.search(rf"^module {name}\(", text, re.M)
    for port in ports:
        # `bit` is a SystemVerilog keyword, so Yosys writes it as the escaped identifier `\bit `.
        assert re.search(rf"^\s*(input|output)\s.*\b{port} ?;", text, re.M), port
    assert "endmodule" in text
    assert f"wrote {out} (module {name}," in capsys.readouterr().err


def test_rtl_constant_folds_parameters(tmp_path):
    # A different threshold is a different constant in the netlist.
    a, b = tmp_path / "a.v", tmp_path / "b.v"
    main(["rtl", "lif", "-o", str(a), "--param", "v_threshold=300"])
    main(["rtl", "lif", "-o", str(b), "--param", "v_threshold=301"])
    assert "16'h012c" in a.read_text() or "300" in a.read_text()
    assert a.read_text().split("\n", 1)[1] != b.read_text().split("\n", 1)[1]


def test_rtl_to_stdout_with_top_name(capsys):
    assert main(["rtl", "lfsr", "--top", "sng0"]) == 0
    assert re.search(r"^module sng0\(", capsys.readouterr().out, re.M)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rtl", "nope"], "no component named 'nope'; known components: "),
        (["rtl", "lif", "--param", "v_threshold"], "--param must look like KEY=VALUE, not "
         "'v_threshold'"),
        (["rtl", "lif", "-p", "data_width=8"],
         "lif.v_threshold must fit signed 8-bit [-128, 127], not 256"),
        (["rtl", "lfsr", "-p", "seed=0"],
         "lfsr.seed must be nonzero (0 is the LFSR lock-up state), not 0"),
        (["info", "lif", "-p", "colour=3"], "lif has no parameter 'colour'; its parameters are: "
         "data_width, fraction, v_rest, v_reset, v_threshold, refractory, leak_k, gain_k, noise, "
         "overflow"),
        (["verify", "lif", "--backends", "model,warp"], "no simulation backend named 'warp'; "
         "known: model, pysim"),
        (["verify", "lif", "--backends", "model"], "compare needs at least two backends, not "
         "('model',)"),
    ],
)  # fmt: skip
def test_errors_are_one_clear_line(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neurogate: error: {message}")
    assert "Traceback" not in err


def test_info(capsys):
    assert main(["info", "lif", "--param", "refractory=3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lif (neuron) — Fixed-point leaky integrate-and-fire neuron")
    assert re.search(r"^  refractory += 3 +steps clamped at v_rest after a spike$", out, re.M)
    assert re.search(r"^  current +in +signed 16 +input current$", out, re.M)
    assert "latency: 1 cycle(s)" in out


def test_verify_ok(capsys):
    assert main(["verify", "lfsr", "-p", "width=5", "--steps", "100", "--n", "2",
                 "--seed", "9"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "model == pysim on every output, 100 steps x 2 instances, seed=9" in out


def test_demo(capsys):
    assert main(["demo", "--neurons", "3", "--steps", "80"]) == 0
    out = capsys.readouterr().out
    assert "3 LIF neurons" in out
    assert out.rstrip().endswith(
        "model == gateware: OK (480 values: spike and v of 3 neurons x 80 steps, bit for bit)"
    )


def test_python_dash_m_is_the_same_program():
    a = subprocess.run(
        [sys.executable, "-m", "neurogate", "info", "lfsr"], capture_output=True, text=True
    )
    assert a.returncode == 0, a.stderr
    assert a.stdout.startswith("lfsr (encoder)")
    b = subprocess.run(
        [sys.executable, "-m", "neurogate", "rtl", "lfsr", "-p", "seed=0"],
        capture_output=True,
        text=True,
    )
    assert b.returncode == 2
    assert (
        b.stderr == "neurogate: error: lfsr.seed must be nonzero (0 is the LFSR lock-up "
        "state), not 0\n"
    )


DESIGN = """\
[network]
name = "ff"

[inputs.x]
size = 6

[inputs.bias]
size = 4
kind = "value"
width = 10

[populations.hidden]
neuron = "if_neuron"
size = 4
params = { threshold = 200 }
probe = ["v"]

[[connections]]
from = "bias"
to = "hidden"
delay = 0
"""


def test_sim_design_json_and_plot(tmp_path, capsys):
    design = tmp_path / "ff.toml"
    design.write_text(DESIGN.replace("[inputs.x]\nsize = 6\n\n", ""))
    out_json, out_png = tmp_path / "run.json", tmp_path / "run.png"
    argv = [str(design), "--steps", "50", "--value", "30", "--json", str(out_json)]
    assert main(["sim", *argv, "--plot", str(out_png)]) == 0
    text = capsys.readouterr().out
    # 30 per step against a threshold of 200: every neuron fires on steps 6, 13, 19, ... (by
    # subtraction: 7 steps of 30 reach 210, leaving 10), 7 spikes each in 50 steps
    assert ["hidden", "if_neuron", "4", "28", "0.1400"] in [
        line.split() for line in text.splitlines()
    ]
    data = json.loads(out_json.read_text())
    assert data["populations"]["hidden"] == {"neuron": "if_neuron", "size": 4, "spikes": 28}
    assert sorted(set(data["spikes"]["hidden"])) == [6, 13, 19, 26, 33, 39, 46]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out_png.stat().st_size > 10_000


def test_sim_errors(tmp_path, capsys):
    design = tmp_path / "ff.toml"
    design.write_text(DESIGN)  # input x drives nothing
    assert main(["sim", str(design), "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"neurogate: error: {design}:1: network: ff: input 'x' is not connected to anything\n"
    )
    design.write_text(DESIGN.replace("[inputs.x]\nsize = 6\n\n", ""))
    assert main(["sim", str(design), "--input", "nope=a.npy"]) == 2
    err = capsys.readouterr().err
    assert "--input must be NAME=FILE.npy with NAME one of: bias; not 'nope=a.npy'" in err
    assert main(["sim", str(design), "--steps", "0"]) == 2
    assert "--steps must be >= 1, not 0" in capsys.readouterr().err


def test_verify_design_file(tmp_path, capsys):
    design = tmp_path / "ff.toml"
    design.write_text(DESIGN.replace("[inputs.x]\nsize = 6\n\n", ""))
    assert main(["verify", str(design), "--steps", "12", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: Network('ff': 1 inputs, 1 populations, 1 connections)\n")
    assert "model == pysim on every spike and probed state, 12 timesteps, seed=4" in out
    assert main(["verify", str(design), "--backends", "model,verilator-bulk"]) == 2
    assert capsys.readouterr().err == (
        "neurogate: error: a design file is verified on two or more of "
        "model,pysim,verilator,icarus, not model,verilator-bulk\n"
    )
