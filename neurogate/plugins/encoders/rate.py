"""``rate``: rate code, a deterministic phase accumulator or an LFSR comparator.

The input ``x`` is an unsigned ``width``-bit value; full scale is ``F = 2**width - 1``. Every
step is one clock cycle; the output is registered (latency 1). There is no window: ``x`` is
used on every step, and may change on any step.

Deterministic (``stochastic=False``, the default). An accumulator ``acc`` (``width`` bits,
reset to 0) adds ``x`` every step and the spike is the carry out::

    s_t       = acc_t + x_t
    spike_t   = 1 if s_t >= 2**width else 0
    acc_{t+1} = s_t mod 2**width

so after steps ``0 .. t`` exactly ``floor((x_0 + ... + x_t) / 2**width)`` spikes have
occurred: the spike density is ``x / 2**width``, with the spikes as evenly spread as the
resolution allows. ``x = 0`` never spikes; ``x = F`` spikes on every step but one in each
``2**width`` (with constant ``x`` from reset: all but steps ``0, 2**width, 2 * 2**width, ...``).
For constant ``x`` the train is periodic with period ``2**width`` (or a divisor of it).

Stochastic (``stochastic=True``, a Bernoulli-like rate code). A maximal-length Fibonacci LFSR of
``width`` bits (the ``lfsr`` encoder's generator with its default taps, state ``s_0 = seed``,
advancing every step) is compared with ``x``::

    spike_t = 1 if s_t <= x_t else 0

The states run through ``1 .. F`` once per period of ``F`` steps, so a constant ``x`` gives
exactly ``x`` spikes per period (density ``x / F``): ``x = 0`` never spikes and ``x = F``
spikes on every step. (The ``lfsr`` encoder compares ``s < x``, giving ``x - 1``; ``<=`` puts
the rate code's edges where a user expects them.) The generator's sequence is the ``lfsr``
encoder's with the same width and seed, and :meth:`RateEncoder.sequence_key` says so, so a
network's seed allocator sees the correlation between the two.

>>> import neurogate as ng
>>> enc = ng.component("rate", width=3)
>>> enc.model().run({"x": [3] * 8})["spike"][:, 0].tolist()   # 3 spikes per 8 steps
[0, 0, 1, 0, 0, 1, 0, 1]
>>> enc.model().run({"x": [7] * 9})["spike"][:, 0].tolist()   # full scale: all but step 0, 8
[0, 1, 1, 1, 1, 1, 1, 1, 0]
>>> sto = ng.component("rate", width=3, stochastic=True)       # states 1, 2, 5, 3, 7, 6, 4
>>> sto.model().run({"x": [3] * 7})["spike"][:, 0].tolist()
[1, 1, 0, 1, 0, 0, 0]
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal

from neurogate.core.component import Bool, Component, Gateware, Int, Model, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders._temporal import accumulate
from neurogate.plugins.encoders.lfsr import (
    DEFAULT_SEED,
    LFSR,
    MAXIMAL_TAPS,
    lfsr_states,
    lfsr_step_hdl,
)

__all__ = ["RateEncoder"]


class RateEncoder(Component):
    """Rate code: ``x / 2**width`` spikes per step (deterministic) or ``x / F`` (stochastic).

    Members
    -------
    x : in, unsigned ``width``
        The value to encode, used on every step.
    spike : out, 1
        The spike train, registered.
    """

    name = "rate"
    kind = "encoder"

    width = Param(8, Int(1, 32), "bits of x (stochastic: 3..32, the LFSR width)")
    stochastic = Param(False, Bool(), "compare x with an LFSR instead of accumulating it")
    seed = Param(
        None,
        Optional(Int()),
        "LFSR initial state, nonzero (stochastic only; default 0xACE1 masked to width)",
    )

    def validate(self):
        width, seed = self.width, self.seed
        if not self.stochastic:
            if seed is not None:
                raise ValueError(f"rate.seed must be None when stochastic=False, not {seed!r}")
            return
        if width < 3:
            raise ValueError(
                f"rate.width must be an int in 3..32 when stochastic=True, not {width!r}"
            )
        if seed is None:
            seed = self._values["seed"] = DEFAULT_SEED & ((1 << width) - 1)
        if not 0 <= seed < (1 << width):
            raise ValueError(
                f"rate.seed must fit unsigned {width}-bit [0, {(1 << width) - 1}], not {seed!r}"
            )
        if seed == 0:
            raise ValueError("rate.seed must be nonzero (0 is the LFSR lock-up state), not 0")

    @property
    def taps(self) -> tuple[int, ...] | None:
        """The LFSR's feedback taps (stochastic mode), else ``None``."""
        return MAXIMAL_TAPS[self.width] if self.stochastic else None

    @property
    def ports(self):
        return {
            "x": Port("in", self.width, False, "value to encode"),
            "spike": Port("out", 1, False, "spike train"),
        }

    @property
    def latency(self):
        return 1

    def sequence_key(self):
        """The LFSR sequence (stochastic mode; equal to an ``lfsr`` encoder's with the same
        width and seed), or ``None`` for the deterministic accumulator."""
        if not self.stochastic:
            return None
        return ("lfsr", self.width, self.taps, self.seed)

    def allocate_seed(self, index):
        """Use the ``lfsr`` encoder's ``index``-th seed allocation (stochastic mode only)."""
        if not self.stochastic:
            return super().allocate_seed(index)
        return self.replace(seed=LFSR(width=self.width).allocate_seed(index).seed)

    def model(self, n=1):
        return RateModel(self, n)

    def create(self):
        return RateGateware(self)


class RateModel(Model):
    """Bit-true model of :class:`RateEncoder` (closed form: a cumulative sum, or LFSR states)."""

    def reset(self):
        self._acc = np.zeros(self.n, dtype=np.int64)
        self._t = 0

    def _run(self, inputs, steps):
        p = self.component
        x = inputs["x"]
        if not p.stochastic:
            spike, self._acc = accumulate(self._acc, x, p.width)
            return {"spike": spike}
        states = lfsr_states(p.width, p.taps, p.seed, steps, start=self._t)
        self._t = (self._t + steps) % ((1 << p.width) - 1)
        dtype = np.int64 if p.width > 31 else np.int32
        return {"spike": (states.astype(dtype)[:, None] <= x).view(np.uint8)}


class RateGateware(Gateware):
    """Gateware of :class:`RateEncoder` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if p.stochastic:
            s = Signal(p.width, init=p.seed)
            m.d.sync += [s.eq(lfsr_step_hdl(s, p.taps)), self.spike.eq(s <= self.x)]
        else:
            acc = Signal(p.width)
            total = acc + self.x  # width + 1 bits: the carry is the spike
            m.d.sync += [acc.eq(total[: p.width]), self.spike.eq(total[p.width])]
        return m


@hookimpl
def neurogate_register_components():
    return [RateEncoder]
