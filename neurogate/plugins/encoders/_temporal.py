"""Shared pieces of the temporal spike encoders (not a component).

Windowed encoders (``latency``, ``phase``, ``burst``, ``rank_order``) divide time into windows
of ``window`` steps, the first starting at step 0 after reset, and sample their input on the
first step of each window. Step ``t``'s phase within its window is ``k_t = t mod window``.

The accumulator encoders (``rate``, ``sigma_delta``) share a closed form of the phase
accumulator ``acc += x (mod 2**width)``, spiking on each wrap.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Const, Module, Mux, Signal

__all__ = ["WindowClock", "accumulate", "held", "window_phase_hdl"]

#: Steps per block of the accumulator's cumulative sum (keeps every partial sum below 2**53).
_ACC_BLOCK = 1 << 20


class WindowClock:
    """The window phase of a model, carried across :meth:`~neurogate.core.component.Model.run`.

    Holds ``k``, the phase of the next step (0 at reset).
    """

    def __init__(self, window: int):
        self.window = window
        self.k = 0

    def advance(self, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(k, starts, which)`` for the next ``steps`` steps and move on.

        ``k[t]`` is step ``t``'s phase, ``starts`` the steps that begin a window, and
        ``which[t]`` the index into ``starts`` of the window step ``t`` belongs to, plus one
        (0 for steps of a window that began in an earlier call).
        """
        k = (self.k + np.arange(steps, dtype=np.int64)) % self.window
        self.k = int((self.k + steps) % self.window)
        first = k == 0
        return k, np.flatnonzero(first), np.cumsum(first)


def held(carried: np.ndarray, sampled: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Return, for each step, the value sampled at its window's start.

    ``carried`` (shape ``s``) is the value of the window in progress before this call,
    ``sampled`` (shape ``(S, *s)``) the values at this call's window starts, ``which`` as
    returned by :meth:`WindowClock.advance`.
    """
    table = np.concatenate([carried[None], sampled.astype(carried.dtype, copy=False)])
    return table[which]


def accumulate(acc: np.ndarray, x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``acc += x_t; spike_t = carry out; acc mod 2**width`` over the rows of ``x``.

    Closed form: the number of wraps after step ``t`` is ``(acc_0 + sum x_0..x_t) >> width``.
    Returns ``(spikes as uint8 (T, n), the final acc)``.
    """
    steps = x.shape[0]
    spikes = np.empty(x.shape, dtype=np.uint8)
    acc = acc.astype(np.int64)
    mask = (1 << width) - 1
    for lo in range(0, steps, _ACC_BLOCK):
        block = x[lo : lo + _ACC_BLOCK]
        total = np.cumsum(block, axis=0, dtype=np.int64)
        total += acc
        wraps = total >> width
        spikes[lo : lo + len(block)] = np.diff(wraps, axis=0, prepend=0)
        acc = total[-1] & mask
    return spikes, acc


def window_phase_hdl(m: Module, window: int):
    """Add a window phase counter to ``m``; return ``(k, first)``.

    ``k`` is the phase of the current step (0 at reset), ``first`` is true on a window's first
    step.
    """
    if window == 1:
        return Const(0, 1), Const(1, 1)
    k = Signal(range(window))
    m.d.sync += k.eq(Mux(k == window - 1, 0, k + 1))
    return k, k == 0
