"""Fixed-point formats, defined once for NumPy models and Amaranth gateware.

A :class:`FixedFormat` names a two's-complement (or unsigned) integer of ``width`` bits whose
value is ``raw / 2**fraction``. Models and gateware hold the *raw* integer; the format says
how wide it is, what range it has and what happens when arithmetic leaves that range
(``overflow="saturate"`` clamps to the range, ``"wrap"`` keeps the low ``width`` bits, as a
Verilog register assignment does).

>>> from neurogate.core.fixed import FixedFormat
>>> q = FixedFormat(16, fraction=8)
>>> q.min, q.max
(-32768, 32767)
>>> q.to_float(384)
1.5
>>> q.fit_array([40000, -5, -40000]).tolist()
[32767, -5, -32768]
>>> FixedFormat(16, fraction=8, overflow="wrap").fit_array([40000]).tolist()
[-25536]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Const, Mux, Shape, Value, signed, unsigned

__all__ = ["OVERFLOW_POLICIES", "FixedFormat"]

OVERFLOW_POLICIES = ("saturate", "wrap")


@dataclass(frozen=True)
class FixedFormat:
    """A fixed-point number format.

    Parameters
    ----------
    width : int
        Total number of bits, 1..64.
    fraction : int
        Number of fraction bits (0..127); the real value is ``raw / 2**fraction``.
    signed : bool
        Two's complement when true.
    overflow : str
        ``"saturate"`` (clamp to the range) or ``"wrap"`` (keep the low ``width`` bits).
    """

    width: int
    fraction: int = 0
    signed: bool = True
    overflow: str = "saturate"

    def __post_init__(self):
        if isinstance(self.width, bool) or not isinstance(self.width, int):
            raise TypeError(f"width must be an int, not {self.width!r}")
        if not 1 <= self.width <= 64:
            raise ValueError(f"width must be in 1..64, not {self.width!r}")
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, int):
            raise TypeError(f"fraction must be an int, not {self.fraction!r}")
        if not 0 <= self.fraction <= 127:
            raise ValueError(f"fraction must be in 0..127, not {self.fraction!r}")
        if self.overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be 'saturate' or 'wrap', not {self.overflow!r}")

    # -- ranges ---------------------------------------------------------------------------
    @property
    def min(self) -> int:
        """Smallest raw value."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        """Largest raw value."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def shape(self) -> Shape:
        """The Amaranth shape of a raw value."""
        return signed(self.width) if self.signed else unsigned(self.width)

    def describe(self) -> str:
        """Return a short human description, e.g. ``"signed 16-bit [-32768, 32767]"``."""
        kind = "signed" if self.signed else "unsigned"
        return f"{kind} {self.width}-bit [{self.min}, {self.max}]"

    def contains(self, raw: int) -> bool:
        """Return whether the raw integer ``raw`` is representable."""
        return self.min <= raw <= self.max

    def check(self, name: str, raw) -> int:
        """Validate one raw parameter value and return it as an int.

        Raises ``TypeError`` for non-integers and ``ValueError`` for values out of range, with a
        message naming ``name``, the rule and the value.
        """
        if isinstance(raw, bool) or not isinstance(raw, int | np.integer):
            raise TypeError(f"{name} must be an int, not {raw!r}")
        raw = int(raw)
        if not self.contains(raw):
            raise ValueError(f"{name} must fit {self.describe()}, not {raw!r}")
        return raw

    # -- conversions ----------------------------------------------------------------------
    def to_float(self, raw):
        """Convert raw integer(s) to real value(s)."""
        if isinstance(raw, int | np.integer):
            return int(raw) / (1 << self.fraction)
        return np.asarray(raw, dtype=np.float64) / (1 << self.fraction)

    def from_float(self, x):
        """Convert real value(s) to raw integer(s): round half to even, then apply ``overflow``."""
        raw = np.rint(np.asarray(x, dtype=np.float64) * (1 << self.fraction)).astype(np.int64)
        out = self.fit_array(raw)
        return int(out) if out.ndim == 0 else out

    # -- NumPy ----------------------------------------------------------------------------
    def fit_array(self, raw, out=None):
        """Bring integer array ``raw`` into range by this format's overflow policy.

        The input must hold the exact (unbounded) result in an integer dtype wide enough for
        it; ``out`` may be ``raw`` itself to work in place.
        """
        raw = np.asarray(raw)
        if self.overflow == "saturate":
            if raw.dtype == np.int64 and raw.ndim:
                # np.maximum + np.minimum: np.clip's wrapper looks up the dtype's limits on
                # every call (several microseconds, which a per-timestep model pays often)
                res = np.maximum(raw, self.min, out=out)
                return np.minimum(res, self.max, out=res)
            return np.clip(raw, self.min, self.max, out=out)
        return self.wrap_array(raw, out=out)

    def wrap_array(self, raw, out=None):
        """Keep the low ``width`` bits of ``raw`` (two's complement when signed)."""
        raw = np.asarray(raw)
        if raw.ndim == 0 and out is None:
            return self.wrap_array(raw.reshape(1))[0]
        if raw.dtype == object:
            mask = (1 << self.width) - 1
            res = np.frompyfunc(lambda v: self._wrap_int(int(v) & mask), 1, 1)(raw)
            if out is not None:
                out[...] = res
                return out
            return res
        if self.signed and raw.dtype.kind == "u":
            raw = raw.astype(np.int64)  # an unsigned dtype cannot hold the negative results
        bits = raw.dtype.itemsize * 8
        if self.width >= bits:
            if out is None:
                return raw.copy()
            out[...] = raw
            return out
        if self.signed and raw.dtype.kind == "i":
            # Shift the sign bit of the narrow format into the sign bit of the dtype and back.
            sh = bits - self.width
            res = np.left_shift(raw, sh, out=out)
            return np.right_shift(res, sh, out=res)
        return np.bitwise_and(raw, (1 << self.width) - 1, out=out)

    def _wrap_int(self, v: int) -> int:
        if self.signed and v >> (self.width - 1):
            return v - (1 << self.width)
        return v

    def fit_int(self, raw: int) -> int:
        """Apply the overflow policy to one Python integer."""
        if self.overflow == "saturate":
            return min(max(raw, self.min), self.max)
        return self._wrap_int(raw & ((1 << self.width) - 1))

    # -- Amaranth -------------------------------------------------------------------------
    def fit_value(self, value: Value) -> Value:
        """Return an Amaranth expression bringing ``value`` into range by the overflow policy.

        ``value`` is an exact (wide enough) Amaranth expression; the result has :attr:`shape`.
        """
        value = Value.cast(value)
        if len(value) < self.width:
            # Extend (by sign or zero, as the value's shape says) before taking the low bits.
            value = value + Const(0, unsigned(self.width))
        low = value[: self.width]
        low = low.as_signed() if self.signed else low.as_unsigned()
        if self.overflow == "wrap":
            return low
        hi, lo = Const(self.max, self.shape), Const(self.min, self.shape)
        return Mux(value > self.max, hi, Mux(value < self.min, lo, low))
