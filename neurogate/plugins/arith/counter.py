"""``counter``: bitstream to binary, the number of ones in each window of ``window`` steps.

Semantics (one clock cycle per step; steps ``t = 0, 1, ...`` counted from reset; ``W`` is
``window``)::

    the windows are steps [k*W, (k+1)*W - 1] for k = 0, 1, ...
    at the last step of a window (t % W == W - 1):
        count_t = number of ones of a over that window's W steps,   valid_t = 1
    at every other step:
        count_t = count_{t-1}   (the last completed window's count), valid_t = 0

``count / W`` is the unipolar estimate of the stream's value. Between window ends ``count``
holds the last completed window's count; from reset until the first window completes it is 0.
``valid`` is 1 for exactly one step per window (every step when ``W = 1``). Edges: an all-zero
stream counts 0, an all-ones stream counts ``W`` (the ``count`` port has room for it). The
windows run freely from reset; there is no restart input.

The outputs are registered by default (latency 1: after the last step of a window the ports
show that window's count and ``valid = 1``); ``registered=False`` shows them combinationally in
that step (latency 0). Reset: both outputs 0, the window starts at step 0.

>>> import neurogate as ng
>>> cnt = ng.component("counter", window=4)
>>> out = cnt.model().run({"a": [1, 0, 1, 1, 0, 0, 1, 0, 1, 1]})
>>> out["count"][:, 0].tolist()
[0, 0, 0, 3, 3, 3, 3, 1, 1, 1]
>>> out["valid"][:, 0].tolist()
[0, 0, 0, 1, 0, 0, 0, 1, 0, 0]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Const, Module, Mux, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port, bits_for
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import registered_param

__all__ = ["MAX_WINDOW", "Counter", "WindowTotals", "window_totals_hdl"]

#: The largest ``window`` of ``counter`` and ``apc``.
MAX_WINDOW = 1 << 24


class WindowTotals:
    """The windowed sum shared by ``counter`` and ``apc``, for ``n`` instances (NumPy).

    Feed it the per-step counts; :meth:`run` returns, per step, the held total of the last
    completed window and the ``valid`` strobe, as in the ``counter`` module docstring. The
    state (phase in the window, partial sum, held total) carries over between calls.
    """

    def __init__(self, window: int, n: int):
        self.window = window
        self.phase = 0
        self.partial = np.zeros(n, dtype=np.int64)
        self.held = np.zeros(n, dtype=np.int64)

    def run(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(totals, valid)``, both ``(T, n)``, for ``counts`` of shape ``(T, n)``."""
        steps, n = counts.shape
        w = self.window
        is_end = (self.phase + np.arange(steps)) % w == w - 1
        ends = np.flatnonzero(is_end)
        # cum[k] = partial + counts[0] + ... + counts[k - 1], except cum[0] = 0, so that the
        # first window end in this call includes the partial sum carried in, and later ones
        # (whose window starts inside this call) cancel it.
        cum = np.zeros((steps + 1, n), dtype=np.int64)
        np.cumsum(counts, axis=0, out=cum[1:])
        cum[1:] += self.partial
        totals = cum[ends + 1] - cum[np.maximum(ends + 1 - w, 0)]
        if len(ends):
            latest = np.cumsum(is_end) - 1  # index into totals of the latest end <= t, or -1
            out = np.where((latest >= 0)[:, None], totals[np.maximum(latest, 0)], self.held)
        else:
            out = np.broadcast_to(self.held, (steps, n)).copy()
        if steps:
            self.partial = cum[steps] - (cum[ends[-1] + 1] if len(ends) else 0)
            self.held = out[-1].copy()
            self.phase = (self.phase + steps) % w
        valid = np.broadcast_to(is_end[:, None], (steps, n)).astype(np.uint8)
        return out, valid


def window_totals_hdl(m: Module, count, window: int, total: Signal, valid: Signal, registered):
    """Drive ``total`` and ``valid`` from the per-step ``count``, as :class:`WindowTotals` does.

    ``total`` must be wide enough for ``window`` times the largest ``count``. With
    ``registered`` the two outputs are flip-flops (latency 1), otherwise combinational.
    """
    width = len(total)
    partial = Signal(width)
    window_sum = Signal(width)
    m.d.comb += window_sum.eq(partial + count)
    if window == 1:
        end = Const(1)
    else:
        phase = Signal(range(window))
        end = phase == window - 1
        m.d.sync += phase.eq(Mux(end, 0, phase + 1))
    m.d.sync += partial.eq(Mux(end, 0, window_sum))
    if registered:
        with m.If(end):
            m.d.sync += total.eq(window_sum)
        m.d.sync += valid.eq(end)
    else:
        held = Signal(width)
        with m.If(end):
            m.d.sync += held.eq(window_sum)
        m.d.comb += [total.eq(Mux(end, window_sum, held)), valid.eq(end)]


class Counter(Component):
    """Bitstream-to-binary counter: the ones in each window of ``window`` steps.

    Members
    -------
    a : in, 1
        The stream to count.
    count : out, ``bits_for(window)``
        Ones in the last completed window (0 before the first); registered unless
        ``registered=False``.
    valid : out, 1
        1 on the last step of each window; registered unless ``registered=False``.
    """

    name = "counter"
    kind = "arith"

    window = Param(256, Int(1, MAX_WINDOW), "steps per window (count / window estimates p)")
    registered = registered_param()

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "stream to count"),
            "count": Port("out", bits_for(self.window), False, "ones in the last window"),
            "valid": Port("out", 1, False, "1 on the last step of each window"),
        }

    @property
    def latency(self):
        return 1 if self.registered else 0

    def model(self, n=1):
        return CounterModel(self, n)

    def create(self):
        return CounterGateware(self)


class CounterModel(Model):
    """Bit-true model of :class:`Counter` (a cumulative sum per call, no loop over time)."""

    def reset(self):
        self._windows = WindowTotals(self.component.window, self.n)

    def _run(self, inputs, steps):
        count, valid = self._windows.run(inputs["a"].astype(np.int64))
        return {"count": count, "valid": valid}


class CounterGateware(Gateware):
    """Gateware of :class:`Counter` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        window_totals_hdl(m, self.a, p.window, self.count, self.valid, p.registered)
        return m


@hookimpl
def neurogate_register_components():
    return [Counter]
