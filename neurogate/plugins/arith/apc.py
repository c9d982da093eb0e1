"""``apc``: accumulative parallel counter, the popcount of ``n_inputs`` streams.

Semantics (one clock cycle per step; ``N`` is ``n_inputs``)::

    count_t = a0_t + a1_t + ... + a{N-1}_t          (0 .. N)

``count_t / N`` is the unipolar value of the *exact* scaled sum of the ``N`` streams at step
``t`` (no select stream, no information lost, unlike ``mux_add``). Edges: all inputs 0 give 0,
all inputs 1 give ``N``.

With ``window=W`` the counter also accumulates (the APC proper: a parallel counter feeding an
accumulator) and behaves, on the per-step ``count``, as ``counter`` does on one stream::

    windows are steps [k*W, (k+1)*W - 1], counted from reset
    at the last step of a window (t % W == W - 1):
        total_t = count summed over that window's W steps (0 .. N*W),  valid_t = 1
    at every other step:
        total_t = total_{t-1} (the last completed window's total; 0 before the first), valid_t = 0

``total / (N * W)`` then estimates the mean value of the ``N`` streams over the window.

The outputs are registered by default (latency 1: after step ``t`` the ports show ``count_t``,
``total_t`` and ``valid_t``); ``registered=False`` shows them combinationally in the same step
(latency 0). Reset: every output 0, the window starts at step 0.

>>> import neurogate as ng
>>> apc = ng.component("apc", n_inputs=3, window=2)
>>> out = apc.model().run({"a0": [1, 1, 0, 1], "a1": [0, 1, 0, 1], "a2": [0, 1, 1, 1]})
>>> out["count"][:, 0].tolist(), out["total"][:, 0].tolist(), out["valid"][:, 0].tolist()
([1, 3, 1, 3], [0, 4, 4, 4], [0, 1, 0, 1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module

from neurogate.core.component import (
    Component,
    Gateware,
    Int,
    Model,
    Optional,
    Param,
    Port,
    bits_for,
)
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import registered_param
from neurogate.plugins.arith.counter import MAX_WINDOW, WindowTotals, window_totals_hdl

__all__ = ["APC"]


class APC(Component):
    """Accumulative parallel counter: popcount of ``n_inputs`` streams, optionally windowed.

    Members
    -------
    a0, a1, ... : in, 1
        The ``n_inputs`` streams, ``a0`` to ``a{n_inputs - 1}``.
    count : out, ``bits_for(n_inputs)``
        The number of inputs that are 1 this step; registered unless ``registered=False``.
    total : out, ``bits_for(n_inputs * window)``
        Present only with ``window``: ``count`` summed over the last completed window.
    valid : out, 1
        Present only with ``window``: 1 on the last step of each window.
    """

    name = "apc"
    kind = "arith"

    n_inputs = Param(4, Int(1, 1024), "number of 1-bit input streams a0 .. a{n_inputs - 1}")
    window = Param(
        None, Optional(Int(1, MAX_WINDOW)), "accumulate count over windows of this many steps"
    )
    registered = registered_param()

    @property
    def ports(self):
        ports = {f"a{i}": Port("in", 1, False, f"input stream {i}") for i in range(self.n_inputs)}
        ports["count"] = Port("out", bits_for(self.n_inputs), False, "inputs that are 1")
        if self.window is not None:
            width = bits_for(self.n_inputs * self.window)
            ports["total"] = Port("out", width, False, "count summed over the last window")
            ports["valid"] = Port("out", 1, False, "1 on the last step of each window")
        return ports

    @property
    def latency(self):
        return 1 if self.registered else 0

    def model(self, n=1):
        return APCModel(self, n)

    def create(self):
        return APCGateware(self)


class APCModel(Model):
    """Bit-true model of :class:`APC` (a sum over ports, then a windowed cumulative sum)."""

    def reset(self):
        p = self.component
        self._windows = None if p.window is None else WindowTotals(p.window, self.n)

    def _run(self, inputs, steps):
        p = self.component
        count = np.zeros((steps, self.n), dtype=np.int64)
        for i in range(p.n_inputs):
            count += inputs[f"a{i}"]
        out = {"count": count}
        if self._windows is not None:
            out["total"], out["valid"] = self._windows.run(count)
        return out


def _popcount(bits):
    """A balanced adder tree over 1-bit values (depth log2 of their number)."""
    while len(bits) > 1:
        pairs = [bits[i] + bits[i + 1] for i in range(0, len(bits) - 1, 2)]
        bits = pairs + bits[len(pairs) * 2 :]
    return bits[0]


class APCGateware(Gateware):
    """Gateware of :class:`APC` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        count = _popcount([getattr(self, f"a{i}") for i in range(p.n_inputs)])
        domain = m.d.sync if p.registered else m.d.comb
        domain += self.count.eq(count)
        if p.window is not None:
            window_totals_hdl(m, count, p.window, self.total, self.valid, p.registered)
        return m


@hookimpl
def neurogate_register_components():
    return [APC]
