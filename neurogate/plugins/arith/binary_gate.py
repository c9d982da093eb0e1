"""The shared machinery of the one-gate SC operators (``and_mul``, ``xnor_mul``, ``or_add``).

A :class:`BinaryGate` applies one Boolean function ``y_t = f(a_t, b_t)`` to two 1-bit streams,
bit by bit. Its output is registered by default (``registered=True``, latency 1: after step
``t`` the ``y`` port shows ``f(a_t, b_t)``); with ``registered=False`` it is the bare gate,
combinational (latency 0). Either way the model is the same function, and the reset value of
``y`` is 0. A subclass sets :attr:`~neurogate.core.component.Component.name`, declares the
``registered`` parameter (so that its own page documents it), implements :meth:`function` and
states its truth table in :attr:`~BinaryGate.truth_table`: the formal property
(:meth:`~BinaryGate.properties`, ``neurogate verify NAME --formal``) checks the gateware
against the table for every input sequence.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from amaranth.hdl import Assert, Const, Module, ResetSignal

from neurogate.core.component import Bool, Component, Gateware, Model, Param, Port

__all__ = ["BinaryGate", "BinaryGateGateware", "BinaryGateModel", "registered_param"]


def registered_param() -> Param:
    """Return the ``registered`` parameter shared by the SC arithmetic components."""
    return Param(True, Bool(), "register the outputs (latency 1); False: combinational (latency 0)")


class BinaryGate(Component):
    """Base class of a two-input, one-output bitwise SC gate.

    Members
    -------
    a, b : in, 1
        The operand streams.
    y : out, 1
        ``function(a, b)``; registered unless ``registered=False``.
    """

    kind = "arith"

    registered = registered_param()

    #: ``y`` for ``(a, b) = (0, 0), (0, 1), (1, 0), (1, 1)``, written out apart from
    #: :meth:`function` (the formal property compares the gateware with it).
    truth_table: ClassVar[tuple[int, int, int, int]] = ()

    @staticmethod
    def function(a, b):
        """Return ``f(a, b)`` for 1-bit operands: NumPy ``uint8`` arrays or Amaranth values."""
        raise NotImplementedError

    @property
    def ports(self):
        return {
            "a": Port("in", 1, False, "operand stream"),
            "b": Port("in", 1, False, "operand stream"),
            "y": Port("out", 1, False, "result stream"),
        }

    @property
    def latency(self):
        return 1 if self.registered else 0

    def model(self, n=1):
        return BinaryGateModel(self, n)

    def properties(self, m, dut):
        """Assert ``truth_table``: ``y`` is the table's entry for the operands of the step.

        Registered, ``y`` shows the previous cycle's operands (from the first step on).
        """
        from neurogate.sim.formal import past

        if not self.truth_table:
            return
        table = Const(sum(bit << i for i, bit in enumerate(self.truth_table)), 4)
        a, b = dut.a, dut.b
        if self.registered:
            a, b, stepped = past(m, a), past(m, b), past(m, ~ResetSignal())
        else:
            stepped = 1
        with m.If(stepped):
            m.d.comb += Assert(dut.y == table.bit_select(a * 2 + b, 1), "truth_table")

    def create(self):
        return BinaryGateGateware(self)


class BinaryGateModel(Model):
    """Bit-true model of a :class:`BinaryGate`: the function applied elementwise (no state)."""

    def _run(self, inputs, steps):
        a = inputs["a"].astype(np.uint8)
        b = inputs["b"].astype(np.uint8)
        return {"y": self.component.function(a, b) & np.uint8(1)}


class BinaryGateGateware(Gateware):
    """Gateware of a :class:`BinaryGate`: the gate, then a flip-flop when ``registered``."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        domain = m.d.sync if p.registered else m.d.comb
        domain += self.y.eq(p.function(self.a, self.b))
        return m
