"""What the synapse layers share: array parameters, the accumulator width and the readout rule.

Every event-driven synapse layer (``dense``, ``sparse``) keeps one accumulator per target
neuron. Within a timestep it adds the weights of each incoming event **exactly**, in an
accumulator of :func:`sum_width` bits, wide enough for ``max_events`` events of the widest
weights; at the end of the step it hands each target's sum to the next population through
:func:`readout_np` / :func:`readout_hdl`: saturated (or wrapped) **once**, to ``acc_bits``.
So the result does not depend on the order the events arrived in (a saturation after every add
would). More than ``max_events`` events in one step can leave the accumulator's range; it wraps
(two's complement, still independent of the order) and the layer's sticky ``overrun`` flag
says so.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from neurogate.core.component import Bool, Choice, Int, Optional, Param
from neurogate.core.fixed import FixedFormat

__all__ = [
    "IntArray",
    "int_array_rule",
    "readout_hdl",
    "readout_np",
    "sum_width",
]

#: Most neurons on either side of a synapse layer (addresses are at most 16 bits).
MAX_NEURONS = 65536
#: Most events per timestep a layer can promise exact sums for.
MAX_EVENTS = 1 << 24


class IntArray:
    """A read-only ``int64`` array with value equality and a hash (an array parameter).

    Component parameters are frozen and hashable; a NumPy array is neither, so array-valued
    parameters are held as an :class:`IntArray`. ``np.asarray(x)`` and :attr:`array` give the
    (read-only) array; ``repr`` shows the shape and a digest of the contents, not the values.
    """

    __slots__ = ("_array", "_digest")

    def __init__(self, array):
        arr = np.array(array, dtype=np.int64)  # a copy: the caller's array may change later
        arr.setflags(write=False)
        self._array = arr
        self._digest = hashlib.blake2b(
            repr(arr.shape).encode() + arr.tobytes(), digest_size=8
        ).hexdigest()

    @property
    def array(self) -> np.ndarray:
        """The values (read-only)."""
        return self._array

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self._array.shape

    def __array__(self, dtype=None, copy=None):
        if dtype is None or np.dtype(dtype) == self._array.dtype:
            return self._array.copy() if copy else self._array
        return self._array.astype(dtype)

    def __eq__(self, other):
        return (
            isinstance(other, IntArray)
            and self._digest == other._digest
            and (
                self._array.shape == other._array.shape
                and np.array_equal(self._array, other._array)
            )
        )

    def __hash__(self):
        return hash(self._digest)

    def __repr__(self):
        shape = "x".join(str(s) for s in self.shape)
        return f"IntArray({shape}, blake2b {self._digest})"


def int_array_rule(ndim: int, what: str):
    """Return a :class:`Param` rule: ``None`` or an integer array of ``ndim`` dimensions.

    ``what`` names the axes in the error message, e.g. ``"(n_in, n_out)"``.
    """

    def rule(where, value):
        if value is None:
            return None
        if isinstance(value, IntArray):
            value = value.array
        arr = np.asarray(value)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{where} must be None or an integer array, not dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise ValueError(
                f"{where} must be None or a {ndim}-D array {what}, not shape {arr.shape}"
            )
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{where} must fit int64, not {int(arr.max())}")
        return IntArray(arr)

    return rule


def fit_weights(component, key: str, fmt: FixedFormat, strict: bool, where_axes: str):
    """Check (``strict``) or clip an :class:`IntArray` parameter to ``fmt``, in place.

    ``where_axes`` names the index in messages, e.g. ``"(i, j)"``. Raises ``ValueError`` naming
    the first offending index and value; otherwise clips and warns (``UserWarning``) with the
    count and the first offender.
    """
    arr = component._values[key].array
    bad = (arr < fmt.min) | (arr > fmt.max)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    index = first[0] if len(first) == 1 else first
    value = int(arr[first])
    name = f"{component.name}.{key}"
    if strict:
        raise ValueError(f"{name} must fit {fmt.describe()}, not {value} at {where_axes} = {index}")
    count = int(bad.sum())
    warnings.warn(
        f"{name}: {count} value(s) outside {fmt.describe()} clipped (the first: {value} at "
        f"{where_axes} = {index})",
        UserWarning,
        stacklevel=4,
    )
    component._values[key] = IntArray(np.clip(arr, fmt.min, fmt.max))


def sum_width(weight_bits: int, max_events: int) -> int:
    """Return the bits of an exact signed sum of ``max_events`` ``weight_bits``-bit weights.

    >>> sum_width(8, 1), sum_width(8, 2), sum_width(8, 256), sum_width(8, 257)
    (8, 9, 16, 17)
    """
    return weight_bits + (max_events - 1).bit_length()


def readout_format(acc_bits: int, overflow: str) -> FixedFormat:
    """Return the format of a readout value: signed ``acc_bits`` with ``overflow``."""
    return FixedFormat(acc_bits, 0, True, overflow)


def readout_np(sums: np.ndarray, width: int, acc_bits: int, overflow: str) -> np.ndarray:
    """Return the readout of exact sums (``int64``, exact modulo ``2**64``).

    The accumulator keeps the low ``width`` bits (two's complement); the readout then
    saturates or wraps that value to ``acc_bits`` (a narrower or equal ``width`` is
    sign-extended, no policy needed).
    """
    acc = FixedFormat(width, 0, True, "wrap").wrap_array(np.asarray(sums, dtype=np.int64))
    if acc_bits >= width:
        return acc
    return readout_format(acc_bits, overflow).fit_array(acc)


def readout_hdl(value, acc_bits: int, overflow: str):
    """Return the Amaranth expression of :func:`readout_np` on one ``width``-bit accumulator."""
    return readout_format(acc_bits, overflow).fit_value(value)


# -- parameters every event-driven layer has ----------------------------------------------------
def weight_bits_param():
    return Param(8, Int(1, 16), "bits of a signed weight")


def acc_bits_param():
    return Param(16, Int(1, 32), "bits of a signed readout current (the next population's input)")


def overflow_param():
    return Param(
        "saturate",
        Choice("saturate", "wrap"),
        "policy of the readout when a sum leaves acc_bits (applied once per step)",
    )


def max_events_param():
    return Param(
        None,
        Optional(Int(1, MAX_EVENTS)),
        "most events per step with an exact sum (default n_in: each source once)",
    )


def strict_param():
    return Param(
        True, Bool(), "out-of-range weights raise ValueError (False: clip them with a warning)"
    )


def size_param(side: str):
    return Param(
        None,
        Optional(Int(1, MAX_NEURONS)),
        f"neurons of the {side} population (default: from the weights, or 1)",
    )
