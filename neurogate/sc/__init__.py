"""Stochastic-computing helpers: bitstream values and errors, correlation, seed allocation.

Bitstreams are integer (or bool) arrays of 0s and 1s with **time along axis 0**, the layout
every model returns (``(T, n)``: ``T`` steps of ``n`` instances); pass ``axis=`` for another
layout. The other axes are instances, and results have their shape.

>>> import numpy as np
>>> import neurogate as ng
>>> x = np.array([1, 1, 1, 1, 0, 0, 0, 0])
>>> float(ng.sc.value(x)), float(ng.sc.bipolar_value(x))
(0.5, 0.0)
>>> [float(ng.sc.scc(x, y)) for y in ([1, 1, 0, 0, 0, 0, 0, 0],   # y's ones inside x's
...                                   [1, 1, 0, 0, 1, 1, 0, 0],   # independent
...                                   [0, 0, 0, 0, 1, 1, 0, 0])]  # no common ones
[1.0, 0.0, -1.0]

A :class:`SeedAllocator` gives every random source of a design its own sequence:

>>> alloc = ng.sc.SeedAllocator()
>>> alloc.add("enc0", ng.component("lfsr"))
>>> alloc.add("enc1", ng.component("lfsr"))
>>> [hex(c.seed) for c in alloc.components.values()]
['0xace1', '0x2856']
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from neurogate.core.component import Component

__all__ = [
    "SCCReport",
    "SCCRow",
    "SeedAllocator",
    "SeedCollisionError",
    "bipolar_value",
    "describe_sequence",
    "error",
    "mae",
    "rmse",
    "scc",
    "scc_report",
    "value",
]


# -- bitstreams ---------------------------------------------------------------------------------
def _bits(where: str, bits, axis: int) -> np.ndarray:
    """Validate a bitstream array and return it with time moved to the last axis."""
    arr = np.asarray(bits)
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{where} must be an integer or bool array, not dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{where} must be a bitstream (an array with a time axis), not {bits!r}")
    arr = np.moveaxis(arr, axis, -1)
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        bad = arr[(arr < 0) | (arr > 1)].flat[0]
        raise ValueError(f"{where} must hold only 0s and 1s, not {int(bad)!r}")
    if arr.shape[-1] == 0:
        raise ValueError(f"{where} must be a non-empty bitstream, not length 0")
    return arr


def value(bits, axis: int = 0):
    """Return the unipolar value of a bitstream: its fraction of ones (``float64``).

    >>> float(value([0, 1, 1, 1]))
    0.75
    """
    return _bits("value: bits", bits, axis).mean(axis=-1)


def bipolar_value(bits, axis: int = 0):
    """Return the bipolar value of a bitstream, ``2 * ones / T - 1`` in ``[-1, 1]``.

    >>> float(bipolar_value([0, 1, 1, 1]))
    0.5
    """
    return 2.0 * _bits("bipolar_value: bits", bits, axis).mean(axis=-1) - 1.0


def error(bits, expected, *, bipolar: bool = False, axis: int = 0):
    """Return the signed error ``value(bits) - expected`` (``bipolar_value`` if ``bipolar``).

    ``expected`` broadcasts against the instance axes.

    >>> round(float(error([0, 1, 1, 1], 0.7)), 6)
    0.05
    """
    arr = _bits("error: bits", bits, axis)
    estimate = arr.mean(axis=-1)
    if bipolar:
        estimate = 2.0 * estimate - 1.0
    return estimate - np.asarray(expected, dtype=np.float64)


def mae(bits, expected, *, bipolar: bool = False, axis: int = 0) -> float:
    """Return the mean absolute :func:`error` over all instances."""
    return float(np.mean(np.abs(error(bits, expected, bipolar=bipolar, axis=axis))))


def rmse(bits, expected, *, bipolar: bool = False, axis: int = 0) -> float:
    """Return the root-mean-square :func:`error` over all instances."""
    return float(np.sqrt(np.mean(np.square(error(bits, expected, bipolar=bipolar, axis=axis)))))


# Streams up to this length have their SCC terms (up to N**2) computed in int64.
_INT64_MAX_LENGTH = 2**31 - 1


# -- correlation --------------------------------------------------------------------------------
def scc(a, b, axis: int = 0):
    """Return the stochastic cross-correlation of two bitstreams (Alaghi & Hayes, 2013).

    With ``p_a``, ``p_b`` the fractions of ones and ``p_ab`` the fraction of common ones::

        SCC = (p_ab - p_a p_b) / (min(p_a, p_b) - p_a p_b)          if p_ab > p_a p_b
              (p_ab - p_a p_b) / (p_a p_b - max(p_a + p_b - 1, 0))  otherwise

        and 0 where the denominator is 0 (a constant stream).

    +1 means maximal overlap of the ones (``a AND b`` computes ``min``), -1 minimal overlap,
    0 that ``p_ab = p_a p_b`` (``a AND b`` computes the product). The arithmetic is exact
    (integer counts), so crafted streams give exactly 0 or +-1.

    Parameters
    ----------
    a, b : array_like of 0/1 integers or bools
        The streams, time along ``axis``; the other axes are instances and broadcast.
    axis : int
        The time axis of both arrays (0: the ``(T, n)`` layout of model outputs).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        One SCC per instance.

    Raises
    ------
    ValueError
        If the streams differ in length, hold values other than 0 and 1, or are empty.
    """
    x, y = _bits("scc: a", a, axis), _bits("scc: b", b, axis)
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"scc: a and b must have the same length, not {x.shape[-1]} and {y.shape[-1]}"
        )
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"scc: the instance axes of a and b must broadcast, not shapes "
            f"{np.shape(a)} and {np.shape(b)}"
        ) from None
    length = x.shape[-1]
    # Counts are exact; N * N must fit int64, else fall back to Python integers.
    dtype = np.int64 if length <= _INT64_MAX_LENGTH else object
    ones_a = x.sum(axis=-1, dtype=np.int64).astype(dtype)
    ones_b = y.sum(axis=-1, dtype=np.int64).astype(dtype)
    both = (x & y).sum(axis=-1, dtype=np.int64).astype(dtype)
    ones_a, ones_b = np.broadcast_arrays(ones_a, ones_b)
    # Every term scaled by N**2: p_ab - p_a p_b -> N * both - ones_a * ones_b, ...
    num = both * length - ones_a * ones_b
    den = np.where(
        num > 0,
        np.minimum(ones_a, ones_b) * length - ones_a * ones_b,
        ones_a * ones_b - np.maximum(ones_a + ones_b - length, 0) * length,
    )
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out[()] if out.ndim == 0 else out


class SCCRow(NamedTuple):
    """One pair of streams that meet in a gate, and their SCC."""

    #: The gate's name.
    gate: str
    #: The first stream's name.
    a: str
    #: The second stream's name.
    b: str
    #: Their SCC; for streams of several instances, the instance's SCC of largest magnitude.
    scc: float


class SCCReport:
    """The result of :func:`scc_report`: one :class:`SCCRow` per pair of streams in a gate.

    Iterating gives the rows; ``str()`` (or :meth:`format`) gives a text table in which rows
    with ``|scc| > threshold`` are marked.
    """

    def __init__(self, rows: Sequence[SCCRow], threshold: float):
        self.rows = list(rows)
        self.threshold = threshold

    @property
    def flagged(self) -> list[SCCRow]:
        """The rows with ``|scc|`` above the threshold."""
        return [row for row in self.rows if abs(row.scc) > self.threshold]

    def __iter__(self) -> Iterator[SCCRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def format(self) -> str:
        """Return the rows as an aligned text table (the same as ``str(report)``)."""
        header = ("gate", "a", "b", "scc")
        cells = [(r.gate, r.a, r.b, f"{r.scc:+.3f}") for r in self.rows]
        widths = [max(len(c[i]) for c in [header, *cells]) for i in range(4)]
        mark = f"|scc| > {self.threshold:g}"

        def line(c, flag=""):
            text = "  ".join(
                [*(c[i].ljust(widths[i]) for i in range(3)), c[3].rjust(widths[3]), flag]
            )
            return text.rstrip()

        lines = [line(header), line(tuple("-" * w for w in widths))]
        for row, c in zip(self.rows, cells, strict=True):
            lines.append(line(c, mark if abs(row.scc) > self.threshold else ""))
        if not self.rows:
            lines.append("(no two streams meet in a gate)")
        return "\n".join(lines)

    __str__ = format

    def __repr__(self):
        return f"<SCCReport: {len(self.rows)} pairs, {len(self.flagged)} flagged>"


def scc_report(
    streams: Mapping[str, object],
    gates: Mapping[str, Sequence[str]],
    *,
    threshold: float = 0.1,
    axis: int = 0,
) -> SCCReport:
    """Return the SCC of every pair of streams that meet in a gate.

    Parameters
    ----------
    streams : dict
        ``{stream name: bitstream}`` (time along ``axis``, as for :func:`scc`).
    gates : dict
        ``{gate name: (input stream names, ...)}``; every pair of a gate's inputs is one row,
        in the order given (a stream listed twice pairs with itself).
    threshold : float
        Rows with ``|scc|`` above it are flagged.
    axis : int
        The time axis of the streams.

    Examples
    --------
    >>> x, y = [1, 1, 0, 0], [1, 0, 1, 0]
    >>> report = scc_report({"x": x, "y": y}, {"mul": ("x", "y"), "sq": ("x", "x")})
    >>> print(report)
    gate  a  b     scc
    ----  -  -  ------
    mul   x  y  +0.000
    sq    x  x  +1.000  |scc| > 0.1
    >>> [row.gate for row in report.flagged]
    ['sq']
    """
    rows = []
    for gate, inputs in gates.items():
        if isinstance(inputs, str) or not isinstance(inputs, Sequence):
            raise TypeError(
                f"scc_report: the inputs of gate {gate!r} must be a sequence of stream names, "
                f"not {inputs!r}"
            )
        for name in inputs:
            if name not in streams:
                raise ValueError(
                    f"scc_report: gate {gate!r} reads stream {name!r}, which is not in streams"
                )
        for a, b in itertools.combinations(inputs, 2):
            values = np.atleast_1d(scc(streams[a], streams[b], axis=axis))
            worst = values.flat[int(np.argmax(np.abs(values)))]
            rows.append(SCCRow(str(gate), str(a), str(b), float(worst)))
    return SCCReport(rows, threshold)


# -- seed allocation ----------------------------------------------------------------------------
class SeedCollisionError(ValueError):
    """Two random sources would produce the same sequence.

    Attributes ``name`` (the source being added), ``other`` (the earlier one) and ``key``
    (their common :meth:`~neurogate.core.component.Component.sequence_key`).
    """

    def __init__(
        self,
        name: str,
        other: str,
        key: Hashable,
        hint: str = "add it with share=True if that is intended",
    ):
        super().__init__(
            f"{name} would produce the same sequence as {other}: {describe_sequence(key)} ({hint})"
        )
        self.name, self.other, self.key = name, other, key


def describe_sequence(key: Hashable) -> str:
    """Return a readable form of a sequence key, e.g. ``lfsr width=16 taps=(...) seed=0xace1``.

    >>> describe_sequence(("lfsr", 8, (8, 6, 5, 4), 0xE1))
    'lfsr width=8 taps=(8, 6, 5, 4) seed=0xe1'
    >>> describe_sequence(("sobol", 16, 3))
    'sobol 16 3'
    """
    if isinstance(key, tuple) and key and isinstance(key[0], str):
        if key[0] == "lfsr" and len(key) == 4:
            _, width, taps, seed = key
            return f"lfsr width={width} taps={taps} seed={seed:#x}"
        return " ".join([key[0], *(str(k) for k in key[1:])])
    return repr(key)


class _Source(NamedTuple):
    component: Component
    pinned: bool
    share: bool


class SeedAllocator:
    """Give every random source of a design its own sequence, unless told otherwise.

    :meth:`add` each component under a name; :attr:`components` returns them seeded. A source
    that is not pinned gets the first allocation (``component.allocate_seed(i)``, ``i = 0, 1,
    ...``) whose :meth:`~neurogate.core.component.Component.sequence_key` no other source uses;
    sources whose allocation 0 is the same sequence (same generator kind and width, such as
    every 16-bit LFSR) share one counter, so they get allocations ``0, 1, 2, ...`` in the order
    they were added. A pinned source keeps its seed, and two pinned sources with the same
    sequence raise :class:`SeedCollisionError` unless the later one is added with
    ``share=True``. Pinned seeds are reserved before anything is allocated, so the result does
    not depend on whether a pinned source was added before or after the others. Components
    without a random source (``sequence_key() is None``) pass through unchanged.

    >>> import neurogate as ng
    >>> alloc = SeedAllocator()
    >>> alloc.add("enc0", ng.component("lfsr"))
    >>> alloc.add("enc1", ng.component("lfsr"))
    >>> alloc.add("pinned", ng.component("lfsr", seed=0x2856), pin=True)  # allocation 1's seed
    >>> {name: hex(c.seed) for name, c in alloc.components.items()}
    {'enc0': '0xace1', 'enc1': '0x9043', 'pinned': '0x2856'}
    >>> alloc.allocations
    {'enc0': 0, 'enc1': 2, 'pinned': None}
    >>> alloc.add("copy", ng.component("lfsr", seed=0x2856), pin=True)
    Traceback (most recent call last):
        ...
    neurogate.sc.SeedCollisionError: copy would produce the same sequence as pinned: lfsr \
width=16 taps=(16, 14, 13, 11) seed=0x2856 (add it with share=True if that is intended)
    """

    def __init__(self):
        self._sources: dict[str, _Source] = {}
        self._pinned_keys: dict[Hashable, str] = {}
        self._memo: dict[tuple[Component, int], Component] = {}
        self._resolved: dict[str, tuple[Component, int | None]] | None = None

    def add(self, name: str, component: Component, pin: bool = False, share: bool = False):
        """Add a source (or any component) under ``name``.

        Parameters
        ----------
        name : str
            Unique within this allocator; error messages use it.
        component : Component
            The component as configured by the user.
        pin : bool
            Keep the component's own seed instead of allocating one.
        share : bool
            Keep the component's own seed (as ``pin``) even if an earlier pinned source
            produces the same sequence: the sharing is intended.

        Raises
        ------
        SeedCollisionError
            If ``component`` is pinned, ``share`` is false and an earlier pinned source has
            the same sequence.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"SeedAllocator.add: name must be a non-empty str, not {name!r}")
        if name in self._sources:
            raise ValueError(f"SeedAllocator.add: a source named {name!r} was already added")
        if not isinstance(component, Component):
            raise TypeError(
                f"SeedAllocator.add: component must be a neurogate Component, not {component!r}"
            )
        for flag, given in (("pin", pin), ("share", share)):
            if not isinstance(given, bool):
                raise TypeError(f"SeedAllocator.add: {flag} must be a bool, not {given!r}")
        pinned = pin or share
        key = component.sequence_key()
        if pinned and key is not None:
            if key in self._pinned_keys and not share:
                raise SeedCollisionError(name, self._pinned_keys[key], key)
            self._pinned_keys.setdefault(key, name)
        self._sources[name] = _Source(component, pinned, share)
        self._resolved = None

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, name) -> bool:
        return name in self._sources

    @property
    def components(self) -> dict[str, Component]:
        """``{name: component}`` in the order added, each with its allocated (or pinned) seed."""
        return {name: comp for name, (comp, _) in self._resolve().items()}

    @property
    def allocations(self) -> dict[str, int | None]:
        """``{name: allocation index}``; ``None`` for pinned sources and non-random components."""
        return {name: index for name, (_, index) in self._resolve().items()}

    def _allocate(self, component: Component, index: int) -> Component:
        memo_key = (component, index)
        if memo_key not in self._memo:
            self._memo[memo_key] = component.allocate_seed(index)
        return self._memo[memo_key]

    def _resolve(self) -> dict[str, tuple[Component, int | None]]:
        if self._resolved is not None:
            return self._resolved
        taken = set(self._pinned_keys)
        cursor: dict[Hashable, int] = {}
        resolved: dict[str, tuple[Component, int | None]] = {}
        for name, (component, pinned, _) in self._sources.items():
            if pinned or component.sequence_key() is None:
                resolved[name] = (component, None)
                continue
            family = self._allocate(component, 0).sequence_key()
            start = cursor.get(family, 0)
            # Allocations are pairwise different, so one of the next len(taken) + 1 is free.
            for index in range(start, start + len(taken) + 1):
                candidate = self._allocate(component, index)
                key = candidate.sequence_key()
                if key not in taken:
                    break
            else:
                raise RuntimeError(
                    f"{name}: {component.name}.allocate_seed gave {len(taken) + 1} sequences in "
                    "a row that other sources use; its allocations must differ pairwise"
                )
            taken.add(key)
            cursor[family] = index + 1
            resolved[name] = (candidate, index)
        self._resolved = resolved
        return resolved
