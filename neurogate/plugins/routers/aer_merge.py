"""``aer_merge``: ``inputs`` address-event streams into one, round-robin fair.

Each cycle in which the output register is free (empty, or being taken: ``o.ready``), the merge
takes one event from the first input after the last one served, cyclically (input 0 first after
reset), among those offering one (``valid``), and puts it on ``o`` in the next cycle. Events
are not changed (the same :func:`neurogate.gateware.aer.event_layout` in and out).

What is guaranteed, whatever the timing of ``valid`` and ``ready``:

* every event taken comes out once, and the output is the sequence of input transfers in the
  order of their cycles (one per cycle at most), so each input's events keep their order;
* fairness: while an input offers an event, every other input is served at most once before
  it, so it waits for at most ``inputs - 1`` transfers of the others;
* one event per clock while ``o.ready`` is high and some input offers one.

When every input offers its next event without a gap (backlogged inputs), the order is fully
determined: round robin over the inputs that still have events
(:meth:`AerMergeModel.run`). ``o`` comes from flip-flops; an input's ``ready`` depends on
``o.ready`` and on the other inputs' ``valid`` combinationally. Latency 1: an event taken at
cycle ``t`` is offered on ``o`` at ``t + 1``.

>>> import neurogate as ng
>>> merge = ng.component("aer_merge", inputs=3, addr_width=4)
>>> merge.model().run([[1, 2, 3], [10], [14, 15]])
[1, 10, 14, 2, 15, 3]
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module

from neurogate.core.component import Component, Gateware, Int, Param, StreamPort
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import event_layout

from ._common import addr_width_param, rr_grant, rr_pick, ts_width_param

__all__ = ["AerMerge", "AerMergeModel"]


class AerMerge(Component):
    """Round-robin merge of ``inputs`` AER streams (see the module docstring).

    Members
    -------
    i0, i1, ... : in, stream of ``event_layout(addr_width, ts_width)``
        The input streams.
    o : out, stream of ``event_layout(addr_width, ts_width)``
        The merged stream; registered.
    """

    name = "aer_merge"
    kind = "router"

    inputs = Param(2, Int(2, 32), "input streams")
    addr_width = addr_width_param()
    ts_width = ts_width_param()

    @property
    def ports(self):
        layout = event_layout(self.addr_width, self.ts_width)
        ports = {f"i{k}": StreamPort("in", layout, f"input stream {k}") for k in range(self.inputs)}
        ports["o"] = StreamPort("out", layout, "merged stream")
        return ports

    @property
    def latency(self):
        """Cycles from an input transfer to its event offered on ``o``: 1."""
        return 1

    def model(self, n=1):
        """Return the model (:class:`AerMergeModel`; ``n`` must be 1)."""
        if n != 1:
            raise ValueError(f"aer_merge models one merge, not n={n!r}")
        return AerMergeModel(self)

    def create(self):
        return AerMergeGateware(self)


class AerMergeModel:
    """Model of :class:`AerMerge` for backlogged inputs (the order is then determined).

    ``last`` is the input served last (``None`` after reset); it carries over between calls.
    """

    def __init__(self, component: AerMerge):
        self.component = component
        self.reset()

    def reset(self) -> None:
        """Forget the last input served (input 0 goes first)."""
        self.last = None

    def run(self, queues: Sequence[Sequence]) -> list:
        """Return the merged events when each input offers its events back to back.

        ``queues[k]`` is input ``k``'s events in order (any objects; they are not changed).
        """
        c = self.component
        if len(queues) != c.inputs:
            raise ValueError(f"aer_merge model needs {c.inputs} queues, not {len(queues)}")
        heads = [0] * c.inputs
        out = []
        while True:
            k = rr_pick([heads[i] < len(q) for i, q in enumerate(queues)], self.last)
            if k is None:
                return out
            out.append(queues[k][heads[k]])
            heads[k] += 1
            self.last = k


class AerMergeGateware(Gateware):
    """Gateware of :class:`AerMerge` (ports as in its Members section)."""

    def elaborate(self, platform):
        m = Module()
        p = self.params
        ins = [getattr(self, f"i{k}") for k in range(p.inputs)]
        take = ~self.o.valid | self.o.ready
        grant = rr_grant(m, Cat(*[i.valid for i in ins]), take)
        width = len(self.o.payload.as_value())
        chosen = Const(0, width)
        for k, i in enumerate(ins):
            m.d.comb += i.ready.eq(take & grant[k])
            chosen = chosen | (i.payload.as_value() & grant[k].replicate(width))
        with m.If(take):
            m.d.sync += [self.o.valid.eq(grant.any()), self.o.payload.eq(chosen)]
        return m


@hookimpl
def neurogate_register_components():
    return [AerMerge]
