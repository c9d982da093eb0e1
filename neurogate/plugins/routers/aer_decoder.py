"""``aer_decoder``: address-event stream to a spike vector, one timestep at a time.

The decoder takes one event per clock (``i.ready`` is always high) and sets bit ``addr`` of an
accumulator. A ``strobe`` ends the timestep: the accumulator, with the event taken in the same
cycle, becomes the ``spikes`` output (registered, held until the next strobe) and the
accumulator starts again from zero. So ``spikes`` shows, for the whole of the next timestep,
which neurons had at least one event in the last one (several events of one neuron in one
timestep set its bit once), ready to drive a population updated in parallel::

    spikes after the strobe at cycle s = OR of onehot(addr) over the events taken in cycles
                                         (previous strobe, s]

**Range check.** An event with ``addr >= n`` (possible when ``addr_width`` has room for more) is
dropped: ``range_error`` rises and stays high (sticky, until reset) and ``dropped`` counts such
events (saturating at ``2**count_width - 1``); both change the cycle after the event.

**Latency.** 1: ``spikes`` changes the cycle after a strobe; the decoder never stalls its input.
Timestamps (``ts_width``) are accepted and ignored: the strobe defines the timestep.

The model is cycle-exact given the cycles of the transfers and strobes
(:meth:`AerDecoderModel.cycles`), and exact at timestep level (:meth:`AerDecoderModel.run`).

>>> import neurogate as ng
>>> dec = ng.component("aer_decoder", n=6, addr_width=3)
>>> out = dec.model().run([[1, 4, 1], [], [7, 0]])   # three timesteps of events
>>> out["spikes"].tolist()
[[0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
>>> out["dropped"].tolist()                          # address 7 is beyond the 6 neurons
[0, 0, 1]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from amaranth.hdl import C, Module, Mux, Signal

from neurogate.core.component import (
    Component,
    Gateware,
    Int,
    Optional,
    Param,
    Port,
    StreamPort,
    bits_for,
)
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout

from ._common import count_width_param, saturating_increment, ts_width_param

__all__ = ["AerDecoder", "AerDecoderModel"]


class AerDecoder(Component):
    """AER stream to spike vector (see the module docstring for the behaviour).

    Members
    -------
    i : in, stream of ``event_layout(addr_width, ts_width)``
        Events; always ready.
    strobe : in, 1
        Ends the timestep (the event taken in the same cycle belongs to it).
    spikes : out, ``n``
        The last completed timestep's spike vector; registered.
    range_error : out, 1
        Sticky: an event with ``addr >= n`` arrived (and was dropped).
    dropped : out, ``count_width``
        Events dropped by the range check, saturating.
    """

    name = "aer_decoder"
    kind = "router"

    n = Param(64, Int(1, 4096), "neurons (bits of the spike vector)")
    addr_width = Param(
        None, Optional(Int(1, 32)), "bits of an event's address (default: bits_for(n - 1))"
    )
    ts_width = ts_width_param()
    count_width = count_width_param()

    def validate(self):
        need = bits_for(self.n - 1)
        if self._values["addr_width"] is None:
            self._values["addr_width"] = need
        elif self.addr_width < need:
            raise ValueError(
                f"aer_decoder.addr_width must be >= {need} to address n={self.n} neurons, "
                f"not {self.addr_width}"
            )

    @property
    def ports(self):
        return {
            "i": StreamPort("in", event_layout(self.addr_width, self.ts_width), "events"),
            "strobe": Port("in", 1, False, "end of the timestep"),
            "spikes": Port("out", self.n, False, "last timestep's spike vector"),
            "range_error": Port("out", 1, False, "sticky: an event beyond n arrived"),
            "dropped": Port("out", self.count_width, False, "events beyond n (saturating)"),
        }

    @property
    def latency(self):
        """Cycles from a strobe to the new ``spikes``: 1."""
        return 1

    def model(self, n=1):
        """Return the model (:class:`AerDecoderModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"aer_decoder models one decoder, not n={n!r}")
        return AerDecoderModel(self)

    def create(self):
        return AerDecoderGateware(self)


def _addr(event, where: str, width: int) -> int:
    addr = int(event.get("addr", 0)) if isinstance(event, Mapping) else int(event)
    if not 0 <= addr < 1 << width:
        raise ValueError(f"{where} address must be in 0..{(1 << width) - 1}, not {addr}")
    return addr


class AerDecoderModel:
    """Exact model of :class:`AerDecoder`: timestep level (:meth:`run`) and cycle level
    (:meth:`cycles`). Both continue from the state the last call left.
    """

    def __init__(self, component: AerDecoder):
        self.component = component
        self.reset()

    def reset(self) -> None:
        """Clear the accumulator, the output and the error flag and counter."""
        n = self.component.n
        self.accumulator = np.zeros(n, dtype=np.uint8)
        self.spikes = np.zeros(n, dtype=np.uint8)
        self.range_error = False
        self.dropped = 0

    def _take(self, addr: int) -> None:
        c = self.component
        if addr < c.n:
            self.accumulator[addr] = 1
        else:
            self.range_error = True
            self.dropped = min(self.dropped + 1, (1 << c.count_width) - 1)

    def run(self, steps: Iterable[Sequence]) -> dict[str, np.ndarray]:
        """Return ``spikes`` (``(T, n)``), ``range_error`` and ``dropped`` (``(T,)``) after each
        timestep, for ``steps``: one sequence of events (ints or dicts) per timestep.
        """
        c = self.component
        rows, errors, dropped = [], [], []
        for t, events in enumerate(steps):
            for k, event in enumerate(events):
                self._take(_addr(event, f"steps[{t}][{k}]", c.addr_width))
            self.spikes, self.accumulator = self.accumulator, np.zeros(c.n, dtype=np.uint8)
            rows.append(self.spikes)
            errors.append(self.range_error)
            dropped.append(self.dropped)
        return {
            "spikes": np.array(rows, dtype=np.uint8).reshape(len(rows), c.n),
            "range_error": np.array(errors, dtype=np.int64),
            "dropped": np.array(dropped, dtype=np.int64),
        }

    def cycles(
        self, transfers: Iterable[tuple[int, object]], strobe: Sequence[int], steps: int
    ) -> dict[str, np.ndarray]:
        """Return ``spikes`` (``(steps, n)``), ``range_error`` and ``dropped`` (``(steps,)``),
        the values shown during each cycle.

        ``transfers`` are ``(cycle, event)`` pairs (the input's transfer log, in order);
        ``strobe`` the strobe of each cycle (0 after its end).
        """
        c = self.component
        by_cycle: dict[int, list] = {}
        for k, (cycle, event) in enumerate(transfers):
            by_cycle.setdefault(int(cycle), []).append(
                _addr(event, f"transfers[{k}]", c.addr_width)
            )
        spikes = np.zeros((steps, c.n), dtype=np.uint8)
        errors = np.zeros(steps, dtype=np.int64)
        dropped = np.zeros(steps, dtype=np.int64)
        for t in range(steps):
            spikes[t], errors[t], dropped[t] = self.spikes, self.range_error, self.dropped
            for addr in by_cycle.get(t, ()):
                self._take(addr)
            if t < len(strobe) and strobe[t]:
                self.spikes, self.accumulator = self.accumulator, np.zeros(c.n, dtype=np.uint8)
        return {"spikes": spikes, "range_error": errors, "dropped": dropped}


class AerDecoderGateware(Gateware):
    """Gateware of :class:`AerDecoder` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.d.comb += self.i.ready.eq(1)
        addr = self.i.payload.addr
        in_range = addr < p.n if p.n < 1 << p.addr_width else C(1, 1)
        hit = Signal(p.n, name="hit")  # one-hot of the event taken this cycle
        with m.If(self.i.valid & in_range):
            m.d.comb += hit.bit_select(addr[: max(1, bits_for(p.n - 1))], 1).eq(1)
        accumulator = Signal(p.n, name="accumulator")
        total = accumulator | hit
        m.d.sync += accumulator.eq(Mux(self.strobe, 0, total))
        with m.If(self.strobe):
            m.d.sync += self.spikes.eq(total)
        bad = self.i.valid & ~in_range
        with m.If(bad):
            m.d.sync += self.range_error.eq(1)
        saturating_increment(m, self.dropped, bad)
        return m


@hookimpl
def neurogate_register_components():
    return [AerDecoder]
