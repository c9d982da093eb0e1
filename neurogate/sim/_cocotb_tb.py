"""The cocotb test that the ``verilator`` and ``icarus`` backends run inside the simulator.

It is not a test of neurogate's own suite: :mod:`neurogate.sim.cosim` names it as the cocotb
test module. The run directory (``NEUROGATE_COSIM_RUN``) holds ``stim.npy``, one row of bytes
per clock cycle (the ``stim`` bus, little-endian). The test drives the clock itself, asserts
``rst`` for one rising edge, then on every cycle sets ``stim`` with the falling edge, samples
``resp`` once it has settled (before the rising edge) and writes the samples to ``resp.npy`` in
the same byte layout.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

try:
    import cocotb
except ImportError:  # imported outside a simulator without cocotb (e.g. doctest collection)
    cocotb = None


async def drive(dut) -> None:
    """Play ``stim.npy`` into ``dut`` one row per clock cycle; record ``resp.npy``."""
    from cocotb.triggers import Timer

    run_dir = Path(os.environ["NEUROGATE_COSIM_RUN"])
    stim = np.load(run_dir / "stim.npy")
    out_bytes = int(os.environ["NEUROGATE_COSIM_RESP_BYTES"])
    cycles = stim.shape[0]
    rows = [int.from_bytes(row, "little") for row in map(bytes, stim)] if stim.shape[1] else None
    stim_h = dut.stim if rows is not None else None
    resp_h, clk = dut.resp, dut.clk
    # The clock is driven from here (no edge triggers: Verilator and Icarus behave alike).
    # Period 10 ns: inputs change with the falling edge, outputs are read 4 ns later, then
    # the rising edge.
    clk.value = 0
    dut.rst.value = 1
    if stim_h is not None:
        stim_h.value = 0
    await Timer(5, "ns")
    clk.value = 1  # the reset edge
    await Timer(5, "ns")
    dut.rst.value = 0
    samples = []
    append = samples.append
    for cycle in range(cycles):
        clk.value = 0
        if stim_h is not None:
            stim_h.value = rows[cycle]
        await Timer(4, "ns")
        append(resp_h.value.to_unsigned())
        clk.value = 1
        await Timer(6, "ns")
    data = b"".join(v.to_bytes(out_bytes, "little") for v in samples)
    resp = np.frombuffer(data, dtype=np.uint8).reshape(cycles, out_bytes)
    np.save(run_dir / "resp.npy", resp)


if cocotb is not None:

    @cocotb.test()
    async def run_stimulus(dut):
        """The one test: see :func:`drive`."""
        await drive(dut)
