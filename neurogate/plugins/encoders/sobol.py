"""``sobol``: Sobol sequence stochastic number generator (Gray-code order, Antonov-Saleev).

Semantics (one clock cycle per step, ``w = width``, ``n_0 = 0``, ``y_0 = 0``)::

    bit_t     = 1 if y_t < x_t else 0                  (compare, then advance)
    y_{t+1}   = y_t XOR V[c_t]    c_t = index of the lowest 0 bit of n_t among bits 0..w-2,
                                        or w-1 when those bits are all 1
    n_{t+1}   = (n_t + 1) mod 2**w

so that ``y_t = XOR of V[k] over the set bits k of gray(n_t)``, ``gray(n) = n ^ (n >> 1)``:
the one-dimensional projection, coordinate ``dimension``, of the Sobol sequence in Gray-code
order, truncated to ``w`` bits (``y_t / 2**w`` is the point). The direction numbers are
``V[k] = m_{k+1} << (w - 1 - k)`` for ``k = 0 .. w-1``, with the odd integers ``m_j < 2**j`` of
Joe & Kuo's table (see :data:`DIRECTIONS`); beyond the table's initial values they follow
Bratley & Fox's recurrence for the dimension's primitive polynomial. Dimension 1 has every
``m_j = 1``: it is the Van der Corput sequence in Gray-code order.

The output is registered (latency 1); reset restores ``n = y = 0``. ``x = 0`` gives all zeros;
the largest ``x = 2**w - 1`` gives ones except once per period.

Low discrepancy: the period is ``2**w`` steps and ``y`` takes every ``w``-bit value once per
period, so any ``2**w`` consecutive steps hold exactly ``x`` ones for a constant ``x``; over any
``2**k`` steps starting where ``n`` is a multiple of ``2**k``, the top ``k`` bits of ``y`` take
every value once, so the number of ones is ``x >> (w - k)`` or one more. Two different
dimensions are jointly well distributed (the pairs of the first ``2**k`` points stratify the
unit square), which is what makes an AND of two Sobol streams an accurate product.

>>> import neurogate as ng
>>> enc = ng.component("sobol", dimension=2, width=3)
>>> enc.directions
(4, 6, 5)
>>> [int(y) for y in sobol_points(enc.directions, range(8))]
[0, 4, 2, 6, 3, 7, 1, 5]
>>> enc.model().run({"x": [4] * 8})["bit"][:, 0].tolist()
[1, 0, 1, 0, 1, 0, 1, 0]
"""

from __future__ import annotations

from functools import reduce

import numpy as np
from amaranth.hdl import Const, Module, Mux, Signal

from neurogate.core.component import Component, Gateware, Int, Model, Param, Port
from neurogate.core.hookspecs import hookimpl

from .vdc import _check_index

__all__ = ["DIRECTIONS", "Sobol", "direction_numbers", "sobol_points"]

#: Primitive polynomials and initial direction numbers of dimensions 1..32, as
#: ``(s, a, (m_1, ..., m_s))``: degree ``s``, the polynomial
#: ``x**s + a_1 x**(s-1) + ... + a_(s-1) x + 1`` with ``a_1 .. a_(s-1)`` the bits of ``a`` (most
#: significant first), and the initial odd direction integers ``m_j < 2**j``.
#: Dimensions 2..32 are lines ``d = 2 .. 32`` of S. Joe and F. Y. Kuo, ``new-joe-kuo-6.21201``
#: (https://web.maths.unsw.edu.au/~fkuo/sobol/; "Constructing Sobol sequences with better
#: two-dimensional projections", SIAM J. Sci. Comput. 30, 2635-2654, 2008), the table SciPy's
#: ``scipy.stats.qmc.Sobol`` also uses. Dimension 1 (every ``m_j = 1``) is the Van der Corput
#: sequence, written here as degree 0.
DIRECTIONS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (0, 0, ()),
    (1, 0, (1,)),
    (2, 1, (1, 3)),
    (3, 1, (1, 3, 1)),
    (3, 2, (1, 1, 1)),
    (4, 1, (1, 1, 3, 3)),
    (4, 4, (1, 3, 5, 13)),
    (5, 2, (1, 1, 5, 5, 17)),
    (5, 4, (1, 1, 5, 5, 5)),
    (5, 7, (1, 1, 7, 11, 19)),
    (5, 11, (1, 1, 5, 1, 1)),
    (5, 13, (1, 1, 1, 3, 11)),
    (5, 14, (1, 3, 5, 5, 31)),
    (6, 1, (1, 3, 3, 9, 7, 49)),
    (6, 13, (1, 1, 1, 15, 21, 21)),
    (6, 16, (1, 3, 1, 13, 27, 49)),
    (6, 19, (1, 1, 1, 15, 7, 5)),
    (6, 22, (1, 3, 1, 15, 13, 25)),
    (6, 25, (1, 1, 5, 5, 19, 61)),
    (7, 1, (1, 3, 7, 11, 23, 15, 103)),
    (7, 4, (1, 3, 7, 13, 13, 15, 69)),
    (7, 7, (1, 1, 3, 13, 7, 35, 63)),
    (7, 8, (1, 3, 5, 9, 1, 25, 53)),
    (7, 14, (1, 3, 1, 13, 9, 35, 107)),
    (7, 19, (1, 3, 1, 5, 27, 61, 31)),
    (7, 21, (1, 1, 5, 11, 19, 41, 61)),
    (7, 28, (1, 3, 5, 3, 3, 13, 69)),
    (7, 31, (1, 1, 7, 13, 1, 19, 1)),
    (7, 32, (1, 3, 7, 5, 13, 19, 59)),
    (7, 37, (1, 1, 3, 9, 25, 29, 41)),
    (7, 41, (1, 3, 5, 13, 23, 1, 55)),
    (7, 42, (1, 3, 7, 3, 13, 59, 17)),
)

#: The largest supported width (bits of the direction numbers).
MAX_WIDTH = 32


def _direction_integers(dimension: int, count: int) -> list[int]:
    """Return ``m_1 .. m_count`` of ``dimension`` (Bratley & Fox's recurrence past the table)."""
    s, a, m = DIRECTIONS[dimension - 1]
    if s == 0:
        return [1] * count
    m = list(m[:count])
    for j in range(s, count):
        # m_j = 2 a_1 m_(j-1) ^ 4 a_2 m_(j-2) ^ ... ^ 2**(s-1) a_(s-1) m_(j-s+1)
        #       ^ 2**s m_(j-s) ^ m_(j-s)                       (0-based list indices here)
        value = m[j - s] ^ (m[j - s] << s)
        for i in range(1, s):
            if (a >> (s - 1 - i)) & 1:
                value ^= m[j - i] << i
        m.append(value)
    return m


def direction_numbers(dimension: int, width: int) -> tuple[int, ...]:
    """Return the ``width``-bit direction numbers ``V[0] .. V[width-1]`` of ``dimension``.

    ``V[k] = m_{k+1} << (width - 1 - k)``. As ``m_{k+1}`` is odd, the lowest set bit of ``V[k]``
    is bit ``width - 1 - k``: the map from Gray code to point is invertible.
    """
    m = _direction_integers(dimension, width)
    return tuple(m[k] << (width - 1 - k) for k in range(width))


def sobol_points(directions, indices) -> np.ndarray:
    """Return the points ``y_n`` (``uint64``) for the given indices ``n``, in Gray-code order.

    ``y_n`` is the XOR of ``directions[k]`` over the set bits ``k`` of ``gray(n)``; indices are
    taken modulo ``2**len(directions)``.
    """
    width = len(directions)
    n = np.asarray(indices, dtype=np.uint64) & np.uint64((1 << width) - 1)
    gray = n ^ (n >> np.uint64(1))
    out = np.zeros_like(gray)
    one = np.uint64(1)
    for k, v in enumerate(directions):
        out ^= ((gray >> np.uint64(k)) & one) * np.uint64(v)
    return out


class Sobol(Component):
    """Sobol SNG: one dimension of the Sobol sequence (Gray-code order) and a comparator.

    Members
    -------
    x : in, unsigned ``width``
        The value to encode; exactly ``x`` ones in every ``2**width`` consecutive steps when
        ``x`` is held.
    bit : out, 1
        The bitstream, registered: 1 when the Sobol point is below ``x``.
    """

    name = "sobol"
    kind = "encoder"

    width = Param(16, Int(1, MAX_WIDTH), "point and comparator width in bits (period 2**width)")
    dimension = Param(1, Int(1, len(DIRECTIONS)), "Sobol coordinate (1: Van der Corput)")

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "bit": Port("out", 1, False, "bitstream, 1 when the Sobol point < x"),
        }

    @property
    def latency(self):
        return 1

    @property
    def period(self) -> int:
        """The sequence repeats every ``2**width`` steps."""
        return 1 << self.width

    @property
    def directions(self) -> tuple[int, ...]:
        """The direction numbers ``V[0] .. V[width-1]`` (``width``-bit ints)."""
        return direction_numbers(self.dimension, self.width)

    def sequence_key(self):
        """The sequence, identified by its direction numbers.

        At small widths some dimensions share their truncated direction numbers (every
        dimension is the same at width 1), so they share a key.
        """
        return ("sobol", self.width, self.directions)

    def allocate_seed(self, index):
        """Use the ``index``-th dimension whose direction numbers differ from all before it.

        Allocation 0 is dimension 1. From width 5 on all 32 dimensions differ; at smaller
        widths fewer allocations exist and a larger ``index`` raises ``ValueError``.
        """
        dims, seen = [], set()
        for d in range(1, len(DIRECTIONS) + 1):
            v = direction_numbers(d, self.width)
            if v not in seen:
                seen.add(v)
                dims.append(d)
        index = _check_index(f"sobol width {self.width}", index, len(dims))
        return self.replace(dimension=dims[index])

    def model(self, n=1):
        return SobolModel(self, n)

    def create(self):
        return SobolGateware(self)


class SobolModel(Model):
    """Bit-true model of :class:`Sobol`; all instances share the point sequence."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        n = np.arange(steps, dtype=np.uint64) + np.uint64(self._t)
        self._t = (self._t + steps) % p.period
        y = sobol_points(p.directions, n).astype(np.int64)
        return {"bit": (y[:, None] < inputs["x"]).view(np.uint8)}


class SobolGateware(Gateware):
    """Gateware of :class:`Sobol` (ports as in its Members section).

    A ``width``-bit index counter, a priority encoder on its lowest 0 bit selecting one
    direction number (constants), and an XOR into the point register.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        w, v = p.width, p.directions
        n = Signal(w)
        y = Signal(w)
        # Lowest 0 bit of n[0 .. w-2] wins; w-1 when they are all 1.
        toggle = reduce(
            lambda sel, k: Mux(n[k], sel, Const(v[k], w)), range(w - 2, -1, -1), Const(v[-1], w)
        )
        m.d.sync += [
            self.bit.eq(y < self.x),
            y.eq(y ^ toggle),
            n.eq(n + 1),
        ]
        return m


@hookimpl
def neurogate_register_components():
    return [Sobol]
