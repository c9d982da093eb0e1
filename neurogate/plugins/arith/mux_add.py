"""``mux_add``: scaled stochastic adder, one 2:1 multiplexer.

Semantics (one clock cycle per step)::

    y_t = b_t if sel_t else a_t

With a select stream of probability 1/2 independent of ``a`` and ``b``,
``P(y = 1) = (p_a + p_b) / 2`` in the unipolar code (and ``v_y = (v_a + v_b) / 2`` in the
bipolar code): the sum, scaled by 1/2 so that it never leaves the range. Edges: a select
stuck at 0 passes ``a``, stuck at 1 passes ``b``; ``a = b`` gives ``a`` whatever the select.

The select stream comes from

- ``select="port"`` (default): the ``sel`` input port; any probability ``q`` gives the weighted
  sum ``(1 - q) * p_a + q * p_b``;
- ``select="lfsr"``: an internal Fibonacci LFSR of ``width`` bits (the :mod:`lfsr
  <neurogate.plugins.encoders.lfsr>` encoder's generator: same taps, seed and stepping), with
  ``s_0 = seed`` and ``sel_t = 1 if s_t < 2**(width - 1) else 0``, i.e. exactly the ``bit``
  output of an ``lfsr`` encoder with the same ``width``, ``taps`` and ``seed`` driven with
  ``x = 2**(width - 1)``. Over a full period of ``2**width - 1`` steps the select is 1 exactly
  ``2**(width - 1) - 1`` times (probability 1/2 less ``1 / (2 * (2**width - 1))``). The
  generator is a random source: :meth:`MuxAdd.sequence_key` equals that of the ``lfsr`` encoder
  with the same generator (so a seed allocator sees the two as the same sequence), and
  :meth:`MuxAdd.allocate_seed` spreads seeds around the cycle as ``lfsr`` does.

The output is registered by default (latency 1: after step ``t`` the ``y`` port shows the
multiplexer output of step ``t``; reset value 0); ``registered=False`` gives the bare
multiplexer (latency 0). The internal generator advances one state per step either way.

>>> import neurogate as ng
>>> add = ng.component("mux_add")
>>> out = add.model().run({"a": [0, 1, 0, 1], "b": [1, 0, 1, 0], "sel": [0, 0, 1, 1]})
>>> out["y"][:, 0].tolist()
[0, 1, 1, 0]
>>> add = ng.component("mux_add", select="lfsr", width=4, seed=1)
>>> out = add.model().run({"a": [0] * 6, "b": [1] * 6})
>>> out["y"][:, 0].tolist()        # s_t = 1, 2, 4, 9, 3, 6: sel = s_t < 8
[1, 1, 1, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal

from neurogate.core.component import Choice, Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import registered_param
from neurogate.plugins.encoders.lfsr import (
    LFSR,
    _taps_rule,
    lfsr_states,
    lfsr_step_hdl,
)

__all__ = ["MuxAdd"]


class MuxAdd(Component):
    """Scaled SC adder: ``y = b if sel else a``, the select from a port or an internal LFSR.

    Members
    -------
    a, b : in, 1
        The operand streams.
    sel : in, 1
        The select stream; present only when ``select="port"``.
    y : out, 1
        ``b`` where the select is 1, else ``a``; registered unless ``registered=False``.
    """

    name = "mux_add"
    kind = "arith"

    select = Param("port", Choice("port", "lfsr"), "select stream: the sel port, or internal LFSR")
    width = Param(
        None, Optional(Int(3, 32)), "internal LFSR width (select='lfsr' only; default 16)"
    )
    seed = Param(
        None, Optional(Int()), "internal LFSR s_0, nonzero (select='lfsr' only; default as lfsr)"
    )
    taps = Param(
        None, _taps_rule, "internal LFSR taps (select='lfsr' only; default maximal, as lfsr)"
    )
    registered = registered_param()

    def validate(self):
        if self.select == "port":
            for key in ("width", "seed", "taps"):
                if self._values[key] is not None:
                    raise ValueError(
                        f"mux_add.{key} must be None when select is 'port', "
                        f"not {self._values[key]!r}"
                    )
            return
        try:
            source = self.source
        except (TypeError, ValueError) as exc:  # the lfsr encoder's rules, under our name
            raise type(exc)(str(exc).replace("lfsr.", "mux_add.", 1)) from None
        self._values.update(width=source.width, seed=source.seed, taps=source.taps)

    @property
    def source(self) -> LFSR | None:
        """The ``lfsr`` encoder whose generator drives the select, or ``None`` (port select)."""
        if self.select == "port":
            return None
        width = 16 if self.width is None else self.width
        return LFSR(width=width, seed=self.seed, taps=self.taps)

    @property
    def ports(self):
        ports = {
            "a": Port("in", 1, False, "operand stream, passed when the select is 0"),
            "b": Port("in", 1, False, "operand stream, passed when the select is 1"),
        }
        if self.select == "port":
            ports["sel"] = Port("in", 1, False, "select stream")
        ports["y"] = Port("out", 1, False, "scaled sum stream")
        return ports

    @property
    def latency(self):
        return 1 if self.registered else 0

    def sequence_key(self):
        """The internal generator's sequence (as the ``lfsr`` encoder's), or ``None``."""
        source = self.source
        return None if source is None else source.sequence_key()

    def allocate_seed(self, index):
        """Use the ``index``-th seed of the ``lfsr`` encoder's spread (select="lfsr" only)."""
        source = self.source
        if source is None:
            return super().allocate_seed(index)
        return self.replace(seed=source.allocate_seed(index).seed)

    def model(self, n=1):
        return MuxAddModel(self, n)

    def create(self):
        return MuxAddGateware(self)


class MuxAddModel(Model):
    """Bit-true model of :class:`MuxAdd`; ``n`` instances share the select generator."""

    def reset(self):
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        a, b = inputs["a"], inputs["b"]
        if p.select == "port":
            sel = inputs["sel"].astype(bool)
        else:
            states = lfsr_states(p.width, p.taps, p.seed, steps, start=self._t)
            self._t = (self._t + steps) % ((1 << p.width) - 1)
            sel = (states < np.uint64(1 << (p.width - 1)))[:, None]
        return {"y": np.where(sel, b, a).astype(np.uint8)}


class MuxAddGateware(Gateware):
    """Gateware of :class:`MuxAdd` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if p.select == "port":
            sel = self.sel
        else:
            state = Signal(p.width, init=p.seed)
            m.d.sync += state.eq(lfsr_step_hdl(state, p.taps))
            sel = ~state[-1]  # state < 2**(width - 1)
        domain = m.d.sync if p.registered else m.d.comb
        domain += self.y.eq(Mux(sel, self.b, self.a))
        return m


@hookimpl
def neurogate_register_components():
    return [MuxAdd]
