"""``cordiv``: CORDIV, the correlated stochastic divider (a multiplexer and one flip-flop).

Semantics (one clock cycle per step; ``q`` is the flip-flop, reset to 0)::

    y_t = a_t if b_t else q_{t-1}          (q_{-1} = 0)
    q_t = y_t

The divisor ``b`` drives the multiplexer's select: where ``b_t = 1`` the quotient bit is the
dividend bit ``a_t``; where ``b_t = 0`` the previous quotient bit is repeated. So after step
``t`` the output is the dividend bit at the last step ``s <= t`` with ``b_s = 1`` (0 if there
was none yet).

The circuit is T.-H. Chen and J. P. Hayes, "Design of division circuits for stochastic
computing", IEEE Computer Society Annual Symposium on VLSI (ISVLSI), 2016, pp. 116-121. It is
not from P. Li, D. J. Lilja, W. Qian, M. D. Riedel and K. Bazargan, "Logical computation on
stochastic bit streams with linear finite-state machines", IEEE Trans. Computers 63(6), 2014,
which is sometimes cited for it and builds functions (exp, tanh, abs) from linear FSMs instead.

It computes ``p_a / p_b`` for unipolar ``p_a <= p_b`` **when the streams are maximally
positively correlated** (SCC +1: ``a_t = 1`` implies ``b_t = 1``, as from two
comparators sharing one random number): then the bits selected where ``b = 1`` have
probability ``P(a = 1 | b = 1) = p_a / p_b``, and holding the last one keeps that
probability on the other steps. With independent streams it estimates ``p_a`` instead, and for
``p_a > p_b`` the quotient would exceed 1, which no stream can carry. Holding the last bit
also assumes that successive random numbers are independent: two comparators sharing one
Fibonacci LFSR (each state is the last one shifted by a bit) give correlated pairs whose
quotient can be far off (0.38 in the worst of 200 random pairs at width 12, full period),
while a shared i.i.d. uniform source gives errors of the expected
``sqrt(r * (1 - r) * (2 / p_b - 1) / T)`` over ``T`` steps (``r = p_a / p_b``). Edges: an
all-zero ``a`` gives all zeros; ``b = a`` gives all ones after the first 1 of ``b``; an
all-zero ``b`` holds the reset value 0.

The output is registered by default (latency 1: ``y`` is the flip-flop ``q``, so after step
``t`` it shows ``y_t``); ``registered=False`` shows the multiplexer output combinationally
(latency 0) while the flip-flop still holds ``q_{t-1}``.

>>> import neurogate as ng
>>> div = ng.component("cordiv")
>>> out = div.model().run({"a": [0, 1, 0, 0, 0, 1, 1], "b": [0, 1, 0, 1, 0, 0, 1]})
>>> out["y"][:, 0].tolist()
[0, 1, 1, 0, 0, 0, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from neurogate.core.component import Component, Gateware, Model, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import registered_param

__all__ = ["Cordiv"]


class Cordiv(Component):
    """CORDIV stochastic divider: ``y = a if b else (previous y)``; ``p_y = p_a / p_b``.

    Members
    -------
    a : in, 1
        The dividend stream.
    b : in, 1
        The divisor stream, maximally positively correlated with ``a``.
    y : out, 1
        The quotient stream; registered unless ``registered=False``.
    """

    name = "cordiv"
    kind = "arith"

    registered = registered_param()

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "dividend stream"),
            "b": Port("in", 1, False, "divisor stream (correlated with a)"),
            "y": Port("out", 1, False, "quotient stream"),
        }

    @property
    def latency(self):
        return 1 if self.registered else 0

    def model(self, n=1):
        return CordivModel(self, n)

    def create(self):
        return CordivGateware(self)


class CordivModel(Model):
    """Bit-true model of :class:`Cordiv`: the held bit as a forward fill, no loop over time."""

    def reset(self):
        self._q = np.zeros(self.n, dtype=np.uint8)

    def _run(self, inputs, steps):
        a, b = inputs["a"], inputs["b"].astype(bool)
        if steps == 0:
            return {"y": np.zeros((0, self.n), dtype=np.uint8)}
        # For each step, the last step at or before it where b was 1 (-1: none in this run).
        rows = np.where(b, np.arange(steps)[:, None], -1)
        last = np.maximum.accumulate(rows, axis=0)
        held = a[np.maximum(last, 0), np.arange(self.n)].astype(np.uint8)
        y = np.where(last >= 0, held, self._q)
        self._q = y[-1].copy()
        return {"y": y}


class CordivGateware(Gateware):
    """Gateware of :class:`Cordiv` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        if self.params.registered:
            m.d.sync += self.y.eq(Mux(self.b, self.a, self.y))
        else:
            q = Signal()
            m.d.comb += self.y.eq(Mux(self.b, self.a, q))
            m.d.sync += q.eq(self.y)
        return m


@hookimpl
def neurogate_register_components():
    return [Cordiv]
