"""The internal random source shared by the decorrelators: a leaped Fibonacci LFSR.

A decorrelator that consumes ``leap`` random bits per cycle steps the :mod:`lfsr
<neurogate.plugins.encoders.lfsr>` generator (same taps, same seed convention) ``leap`` times
per clock cycle, so its per-cycle random numbers are disjoint chunks of the LFSR's bit
sequence rather than overlapping shifts of one another::

    u_t = s_{leap * t}          (s_0 = seed, s the lfsr encoder's state sequence)
    r_t = u_t >> (width - leap)  (the top ``leap`` bits of u_t)

The random-source protocol reports the underlying LFSR (``("lfsr", width, taps, seed)``, the
:class:`~neurogate.plugins.encoders.lfsr.LFSR` encoder's key), so a decorrelator and an encoder
drawing on the same LFSR sequence are recognised as one source.

>>> [hex(s) for s in lfsr_states(16, MAXIMAL_TAPS[16], 0xACE1, 5)]
['0xace1', '0x59c3', '0xb387', '0x670f', '0xce1e']
>>> [hex(u) for u in leaped_states(16, 0xACE1, leap=2, count=3)]
['0xace1', '0xb387', '0xce1e']
"""

from __future__ import annotations

from functools import reduce
from operator import xor

import numpy as np
from amaranth.hdl import Cat

from neurogate.plugins.encoders.lfsr import (
    LFSR,
    MAXIMAL_TAPS,
    _linear_map,
    check_generator,
    lfsr_states,
    lfsr_step_hdl,
)

__all__ = ["check_seed", "leap_hdl", "leaped_states", "lfsr_key", "spread_seed"]

# Underlying LFSR states generated per block in leaped_states (bounds the temporary memory).
_BLOCK = 1 << 20


def check_seed(component, width_param: str) -> int:
    """Fill in the default seed of ``component`` and check it against its LFSR width.

    The default is :data:`~neurogate.plugins.encoders.lfsr.DEFAULT_SEED` masked to the width,
    as for the ``lfsr`` encoder. Raises ``ValueError`` with the ``lfsr`` encoder's messages,
    naming ``component``.
    """
    check_generator(component, component._values[width_param], taps_param=None)
    seed = component._values["seed"]
    return seed


def lfsr_key(width: int, seed: int) -> tuple:
    """Return the sequence key of the ``width``-bit maximal LFSR started at ``seed``."""
    return ("lfsr", width, MAXIMAL_TAPS[width], seed)


def spread_seed(width: int, index: int) -> int:
    """Return the seed of the ``index``-th allocation of the ``lfsr`` encoder of ``width`` bits."""
    return LFSR(width=width).allocate_seed(index).seed


def leaped_states(width: int, seed: int, leap: int, count: int, start: int = 0) -> np.ndarray:
    """Return ``u_start .. u_{start+count-1}`` (``u_t = s_{leap * t}``) as a ``uint64`` array."""
    taps = MAXIMAL_TAPS[width]
    period = (1 << width) - 1
    out = np.empty(count, dtype=np.uint64)
    per_block = max(1, _BLOCK // leap)
    for i in range(0, count, per_block):
        k = min(per_block, count - i)
        pos = (leap * (start + i)) % period
        out[i : i + k] = lfsr_states(width, taps, seed, leap * (k - 1) + 1, start=pos)[::leap]
    return out


def leap_hdl(state, width: int, leap: int):
    """Return the Amaranth expression of the state ``leap`` LFSR steps after ``state``.

    Each bit of the result is one XOR of state bits (the GF(2) matrix of ``leap`` steps), not
    ``leap`` nested :func:`~neurogate.plugins.encoders.lfsr.lfsr_step_hdl` expressions, whose
    size would grow exponentially with ``leap``.
    """
    if leap == 1:
        return lfsr_step_hdl(state, MAXIMAL_TAPS[width])
    jump = _linear_map(width, MAXIMAL_TAPS[width], leap)
    images = [jump(1 << j) for j in range(width)]  # column j: where bit j of the state goes
    bits = []
    for i in range(width):
        terms = [state[j] for j in range(width) if images[j] >> i & 1]
        bits.append(reduce(xor, terms))  # never empty: the map is invertible
    return Cat(*bits)
