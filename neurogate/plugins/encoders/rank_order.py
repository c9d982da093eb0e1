"""``rank_order``: rank-order code, one spike per input per window, in order of decreasing value.

There are ``n_inputs`` inputs ``x0 .. x{n_inputs - 1}`` (each unsigned ``width`` bits) and as
many outputs ``s0 ..``. Time is divided into windows of ``window`` steps (``window >=
n_inputs``; by default ``n_inputs``), the first starting at step 0 after reset. All inputs are
sampled together on the first step of each window and ignored on the others. Input ``i``'s rank
is the number of inputs that come before it: larger values first, equal values in index order::

    rank_i = #{j : x_j > x_i} + #{j < i : x_j == x_i}

The ranks are a permutation of ``0 .. n_inputs - 1``, and output ``s_i`` spikes exactly once per
window, on phase (0-based step within the window) ``rank_i``: one spike per step on the first
``n_inputs`` steps, the largest input first; the window's remaining steps are silent. Only the
order is coded, not the values: ``x = 0`` and ``x = 2**width - 1`` spike like any other value
(all inputs equal: ``s0, s1, ...`` in turn). Reset: phase 0 (a window starts at step 0). The
outputs are registered (latency 1): row ``t`` of the model is the spikes of step ``t``.

>>> import neurogate as ng
>>> enc = ng.component("rank_order", n_inputs=3, width=4, window=4)
>>> out = enc.model().run({"x0": [5] * 4, "x1": [9] * 4, "x2": [5] * 4})   # ranks 1, 0, 2
>>> [out[f"s{i}"][:, 0].tolist() for i in range(3)]
[[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import (
    WindowClock,
    held,
    window_phase_hdl,
)

__all__ = ["RankOrderEncoder", "ranks"]


def ranks(x: np.ndarray) -> np.ndarray:
    """Return the rank of each value along the last axis (larger first, ties by index)."""
    x = np.asarray(x)
    xi, xj = x[..., :, None], x[..., None, :]  # [..., i, j]
    count = x.shape[-1]
    before = np.tri(count, count, -1, dtype=bool)  # j < i
    return ((xj > xi) | ((xj == xi) & before)).sum(axis=-1)


class RankOrderEncoder(Component):
    """Rank-order code: each output spikes once per window, at its input's rank.

    Members
    -------
    x0, x1, ... : in, unsigned ``width``
        The ``n_inputs`` values to order, sampled on the first step of each window.
    s0, s1, ... : out, 1
        ``s{i}`` spikes on phase ``rank_i`` of each window; registered.
    """

    name = "rank_order"
    kind = "encoder"

    n_inputs = Param(4, Int(1, 64), "number of inputs (and of outputs)")
    width = Param(8, Int(1, 32), "bits of each input")
    window = Param(
        None, Optional(Int(1, 65536)), "steps per window, >= n_inputs (default n_inputs)"
    )

    def validate(self):
        if self.window is None:
            self._values["window"] = self.n_inputs
        elif self.window < self.n_inputs:
            raise ValueError(
                f"rank_order.window must be None or an int in {self.n_inputs}..65536 "
                f"(at least n_inputs), not {self.window!r}"
            )

    @property
    def ports(self):
        ports = {f"x{i}": Port("in", self.width, False, f"value {i}") for i in range(self.n_inputs)}
        for i in range(self.n_inputs):
            ports[f"s{i}"] = Port("out", 1, False, f"spike at input {i}'s rank")
        return ports

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return RankOrderModel(self, n)

    def create(self):
        return RankOrderGateware(self)


class RankOrderModel(Model):
    """Bit-true model of :class:`RankOrderEncoder` (ranks computed once per window)."""

    def reset(self):
        p = self.component
        self._clock = WindowClock(p.window)
        self._rank = np.full((self.n, p.n_inputs), -1, dtype=np.int64)

    def _run(self, inputs, steps):
        p = self.component
        k, starts, which = self._clock.advance(steps)
        xs = np.stack([inputs[f"x{i}"][starts] for i in range(p.n_inputs)], axis=-1)
        rank = held(self._rank, ranks(xs), which)  # (T, n, n_inputs)
        if steps:
            self._rank = rank[-1].copy()
        spikes = (rank == k[:, None, None]).view(np.uint8)
        return {f"s{i}": np.ascontiguousarray(spikes[..., i]) for i in range(p.n_inputs)}


class RankOrderGateware(Gateware):
    """Gateware of :class:`RankOrderEncoder` (ports as in its Members section).

    On a window's first step, ``n_inputs * (n_inputs - 1)`` comparators decide, for each
    input, which others come before it; the output is "none does" (rank 0), and the
    comparison bits are held. On the later steps each output compares the window phase with
    the pop count of its held bits. Holding the bits rather than the ranks splits the
    comparators and the pop count into two shorter paths.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        count = p.n_inputs
        k, first = window_phase_hdl(m, p.window)
        x = [getattr(self, f"x{i}") for i in range(count)]
        for i in range(count):
            before = [x[j] > x[i] if j > i else x[j] >= x[i] for j in range(count) if j != i]
            if not before:
                m.d.sync += self.s0.eq(k == 0)
                continue
            now = Signal(count - 1, name=f"before{i}")
            held = Signal(count - 1, name=f"held{i}")
            m.d.comb += now.eq(Cat(*before))
            with m.If(first):
                m.d.sync += held.eq(now)
            spike = getattr(self, f"s{i}")
            m.d.sync += spike.eq(Mux(first, now == 0, k == sum(held, start=0)))
        return m


@hookimpl
def neurogate_register_components():
    return [RankOrderEncoder]
