"""The cocotb test that runs a bench program (:mod:`neurogate.sim.harness`) inside a simulator.

It is not a test of neurogate's own suite: :func:`neurogate.sim.cosim.run_program` names it as
the cocotb test module. The run directory (``NEUROGATE_COSIM_RUN``) holds ``program.json``:
``{"program": "module:function", "configs": [...], "inputs": [...]}``. The test drives the
clock itself (no edge triggers, so Verilator and Icarus behave alike), sets every top-level
input to 0, asserts ``rst`` for one rising edge, then runs the programs cycle by cycle: inputs
change with the falling edge, outputs are read 4 ns later, then the rising edge, as in
:mod:`neurogate.sim._cocotb_tb`. It writes ``result.json``: the programs' results, or the
description of the exception one of them raised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

try:
    import cocotb
except ImportError:  # imported outside a simulator without cocotb (e.g. doctest collection)
    cocotb = None


class CocotbIO:
    """The ports of the top level ``ng_top`` for :func:`neurogate.sim.harness.drive`."""

    def __init__(self, dut):
        self._dut = dut
        self._handles = {}

    def _handle(self, name):
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = getattr(self._dut, name)
        return handle

    def drive(self, name: str, value: int) -> None:
        self._handle(name).value = value

    def read(self, name: str) -> int:
        value = self._handle(name).value
        if not value.is_resolvable:
            raise ValueError(f"output {name} is undefined (x or z): {value}")
        # one bit reads as a Logic, wider ports as a LogicArray
        return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)

    async def settle(self) -> None:
        from cocotb.triggers import Timer

        await Timer(4, "ns")

    async def edge(self) -> None:
        from cocotb.triggers import Timer

        self._dut.clk.value = 1
        await Timer(6, "ns")
        self._dut.clk.value = 0

    async def reset(self, inputs=()) -> None:
        """Start every input at 0 (as in ``pysim``), then one cycle with ``rst`` high."""
        from cocotb.triggers import Timer

        clk, rst = self._dut.clk, self._dut.rst
        for name in inputs:
            self.drive(name, 0)
        clk.value = 0
        rst.value = 0
        await Timer(1, "ns")
        rst.value = 1  # a change after time 0 wakes every always @* (Icarus start-up race)
        await Timer(4, "ns")
        clk.value = 1  # the reset edge
        await Timer(5, "ns")
        rst.value = 0
        clk.value = 0


async def play(dut) -> None:
    """Run the programs named in ``program.json``; write ``result.json``."""
    from neurogate.sim.harness import describe_error, drive, load_program

    run_dir = Path(os.environ["NEUROGATE_COSIM_RUN"])
    spec = json.loads((run_dir / "program.json").read_text())
    program = load_program(spec["program"])
    configs = spec["configs"]
    io = CocotbIO(dut)
    await io.reset(spec.get("inputs", ()))
    try:
        out = {"results": await drive(io, [program] * len(configs), configs)}
    except Exception as exc:  # the parent rebuilds and raises it
        out = {"error": describe_error(exc)}
    (run_dir / "result.json").write_text(json.dumps(out))


if cocotb is not None:

    @cocotb.test()
    async def run_program(dut):
        """The one test: see :func:`play`."""
        await play(dut)
