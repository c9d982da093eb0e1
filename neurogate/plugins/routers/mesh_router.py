"""``mesh_router``: a five-port XY router for a 2-D mesh of cores, and the mesh built from it.

A mesh of ``width x height`` nodes, node ``(x, y)`` at column ``x`` and row ``y``; east is
``x + 1``, north is ``y + 1``. Every node has one router with five input and five output AER
streams: ``local`` (the node's own core) and ``north``, ``east``, ``south``, ``west`` (the
neighbours; router ``(x, y)``'s ``o_east`` feeds router ``(x + 1, y)``'s ``i_west``, and so on).
An event's address (``addr_width = local_width + x_width + y_width`` bits) carries its
destination::

    addr = local | dest_x << local_width | dest_y << (local_width + x_width)

with ``x_width = bits_for(width - 1)`` and ``y_width = bits_for(height - 1)``. The router sends
an event **X first, then Y** (dimension-order routing): east while ``dest_x > x``, west while
``dest_x < x``, then north or south, and to ``o_local`` at its destination, with the address
unchanged. XY routing on a mesh never deadlocks and never turns back, so each output only
arbitrates between the inputs that can reach it (``o_east`` between ``local`` and ``west``;
``o_north`` between ``local``, ``south``, ``east`` and ``west``; ``o_local`` between all five).
An event for a node outside the mesh (``dest_x >= width`` or ``dest_y >= height``) is dropped
where it enters, and ``route_error`` rises (sticky, until reset); so is an event that arrives
from a neighbour but would have to turn back or turn from Y to X (which XY routing never does:
it can only come from a misconfigured neighbour or core).

What is guaranteed, whatever the timing of ``valid`` and ``ready``: every event for a node in
the mesh reaches that node's ``o_local`` exactly once; events from one source to one
destination arrive in the order they were sent (they take the same path through FIFO buffers
and arbiters that do not reorder one input's events); each output is a round-robin merge of
its inputs (:mod:`~neurogate.plugins.routers.aer_merge`'s fairness: an input waits for at most
as many transfers of the others as there are other inputs to that output). The path itself is
deterministic: :meth:`MeshRouter.route` and :func:`xy_path`.

**Timing.** Each input has a two-entry buffer whose ``ready`` comes from a register (so no
combinational path crosses from one router to the next), and each output is a register: an
event moves one hop per two cycles without contention, and every output can send one event per
clock. :class:`Mesh` wires ``width x height`` routers into one component with a local input and
output stream per node.

>>> import neurogate as ng
>>> r = ng.component("mesh_router", width=3, height=2, x=1, y=0, local_width=4)
>>> r.addr_width, r.address(x=2, y=1, local=5)
(7, 101)
>>> [r.route(r.address(x, y, 0)) for x, y in ((2, 1), (0, 1), (1, 1), (1, 0))]
['east', 'west', 'north', 'local']
>>> xy_path(r, (0, 0), (2, 1))
[(0, 0), (1, 0), (2, 0), (2, 1)]
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neurogate.core.component import (
    Component,
    Gateware,
    Int,
    Param,
    Port,
    StreamPort,
    bits_for,
)
from neurogate.core.hookspecs import hookimpl
from neurogate.gateware.aer import aer_signature, event_layout

from ._common import rr_grant, ts_width_param

__all__ = ["DIRECTIONS", "Mesh", "MeshRouter", "xy_path"]

#: The five ports of a router, in arbitration order.
DIRECTIONS = ("local", "north", "east", "south", "west")
#: The inputs each output takes events from (XY routing never turns back or from Y to X).
SOURCES = {
    "local": DIRECTIONS,
    "north": ("local", "south", "east", "west"),
    "south": ("local", "north", "east", "west"),
    "east": ("local", "west"),
    "west": ("local", "east"),
}
#: Where a neighbour's output arrives: router (x, y)'s o_east feeds (x + 1, y)'s i_west, ...
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}
STEP = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}


class MeshRouter(Component):
    """Five-port XY mesh router (see the module docstring for the behaviour).

    Members
    -------
    i_local, i_north, i_east, i_south, i_west : in, stream of ``event_layout(addr_width, ts_width)``
        Events from the node's core and from the neighbours.
    o_local, o_north, o_east, o_south, o_west : out, stream of the same layout
        Events to the node's core and to the neighbours; registered.
    route_error : out, 1
        Sticky: an event was dropped, being for a node outside the mesh or on a turn XY
        routing never takes.
    """

    name = "mesh_router"
    kind = "router"

    width = Param(2, Int(1, 64), "mesh columns")
    height = Param(2, Int(1, 64), "mesh rows")
    x = Param(0, Int(0, 63), "this router's column")
    y = Param(0, Int(0, 63), "this router's row")
    local_width = Param(8, Int(1, 24), "bits of the address within a node")
    ts_width = ts_width_param()

    def validate(self):
        for key, size in (("x", "width"), ("y", "height")):
            if self._values[key] >= self._values[size]:
                raise ValueError(
                    f"mesh_router.{key} must be in 0..{self._values[size] - 1} "
                    f"({size}={self._values[size]}), not {self._values[key]}"
                )

    @property
    def x_width(self) -> int:
        """Bits of a destination column, ``bits_for(width - 1)``."""
        return bits_for(self.width - 1)

    @property
    def y_width(self) -> int:
        """Bits of a destination row, ``bits_for(height - 1)``."""
        return bits_for(self.height - 1)

    @property
    def addr_width(self) -> int:
        """Bits of an event's address, ``local_width + x_width + y_width``."""
        return self.local_width + self.x_width + self.y_width

    def address(self, x: int, y: int, local: int) -> int:
        """Return the address of neuron ``local`` of node ``(x, y)``."""
        return local | x << self.local_width | y << (self.local_width + self.x_width)

    def destination(self, addr: int) -> tuple[int, int]:
        """Return the node ``(x, y)`` an address is for (possibly outside the mesh)."""
        dx = (addr >> self.local_width) & ((1 << self.x_width) - 1)
        dy = (addr >> (self.local_width + self.x_width)) & ((1 << self.y_width) - 1)
        return dx, dy

    def route(self, addr: int) -> str | None:
        """Return the output this router sends ``addr`` to (``None``: outside the mesh)."""
        dx, dy = self.destination(addr)
        if dx >= self.width or dy >= self.height:
            return None
        if dx != self.x:
            return "east" if dx > self.x else "west"
        if dy != self.y:
            return "north" if dy > self.y else "south"
        return "local"

    @property
    def ports(self):
        layout = event_layout(self.addr_width, self.ts_width)
        ports = {f"i_{d}": StreamPort("in", layout, f"events from {d}") for d in DIRECTIONS}
        ports.update({f"o_{d}": StreamPort("out", layout, f"events to {d}") for d in DIRECTIONS})
        ports["route_error"] = Port("out", 1, False, "sticky: an event was dropped as unroutable")
        return ports

    @property
    def latency(self):
        """Cycles from an input transfer to its event offered on an output: 2."""
        return 2

    def model(self, n=1):
        """Return the router itself: its model is :meth:`route` (and :func:`xy_path`)."""
        if n != 1:
            raise ValueError(f"mesh_router models one router, not n={n!r}")
        return self

    def create(self):
        return MeshRouterGateware(self)


def xy_path(router: MeshRouter, source: tuple[int, int], dest: tuple[int, int]) -> list:
    """Return the nodes an event from ``source`` to ``dest`` visits, both included.

    ``router`` gives the mesh's size (any router of the mesh).
    """
    (x, y), path = source, [source]
    while True:
        hop = router.replace(x=x, y=y).route(router.address(*dest, 0))
        if hop is None:
            raise ValueError(f"node {dest} is outside the {router.width}x{router.height} mesh")
        if hop == "local":
            return path
        x, y = x + STEP[hop][0], y + STEP[hop][1]
        path.append((x, y))


def _buffer(m: Module, name: str, port, data):
    """A two-entry FIFO on input stream ``port`` holding ``data`` (the payload and its route);
    return ``(valid, entry, pop)`` of its head.

    ``port.ready`` comes from a register (fewer than two entries held), so no combinational
    path runs back to the sender. Drive ``pop`` to take the head.
    """
    width = len(data)
    count = Signal(range(3), name=f"{name}_count")
    head = Signal(width, name=f"{name}_head")
    second = Signal(width, name=f"{name}_second")
    pop = Signal(name=f"{name}_pop")
    m.d.comb += port.ready.eq(count != 2)
    push = port.valid & port.ready
    m.d.sync += count.eq(count + push - pop)
    with m.If(pop):
        with m.If(count == 2):
            m.d.sync += head.eq(second)
        with m.Elif(push):
            m.d.sync += head.eq(data)
    with m.Elif(push):
        with m.If(count == 0):
            m.d.sync += head.eq(data)
        with m.Else():
            m.d.sync += second.eq(data)
    return count != 0, head, pop


class MeshRouterGateware(Gateware):
    """Gateware of :class:`MeshRouter` (ports as in its Members section).

    An event's route (one line per output, or "drop") is decoded as it enters its input
    buffer and stored beside it, so an output's arbiter sees registered requests.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        width = event_layout(p.addr_width, p.ts_width).size
        heads, wants = {}, {d: {} for d in DIRECTIONS}
        pops = {d: [] for d in DIRECTIONS}
        bad_any = Const(0, 1)
        for d in DIRECTIONS:
            port = getattr(self, f"i_{d}")
            data = port.payload.as_value()
            dx = data[p.local_width : p.local_width + p.x_width]
            dy = data[p.local_width + p.x_width : p.addr_width]
            bad = Const(0, 1)
            if p.width < 1 << p.x_width:
                bad = bad | (dx >= p.width)
            if p.height < 1 << p.y_width:
                bad = bad | (dy >= p.height)
            east, west = dx > p.x, dx < p.x
            north, south = ~east & ~west & (dy > p.y), ~east & ~west & (dy < p.y)
            local = ~east & ~west & (dy == p.y)
            lines = {"east": east, "west": west, "north": north, "south": south, "local": local}
            outs = [out for out in DIRECTIONS if d in SOURCES[out]]
            for out, line in lines.items():
                if out not in outs:  # a turn XY routing never takes: dropped as misrouted
                    bad = bad | line
            route = Signal(len(outs) + 1, name=f"in_{d}_route")  # one-hot: outs..., drop
            m.d.comb += route.eq(Cat(*[lines[out] & ~bad for out in outs], bad))
            valid, entry, pop = _buffer(m, f"in_{d}", port, Cat(data, route))
            heads[d] = (entry[:width], pop)
            for k, out in enumerate(outs):
                wants[out][d] = valid & entry[width + k]
            drop = valid & entry[-1]
            pops[d].append(drop)
            bad_any = bad_any | drop
        with m.If(bad_any):
            m.d.sync += self.route_error.eq(1)
        # each output: round robin over its inputs, into the output register
        for out in DIRECTIONS:
            o = getattr(self, f"o_{out}")
            srcs = list(wants[out])
            take = ~o.valid | o.ready
            grant = rr_grant(m, Cat(*[wants[out][s] for s in srcs]), take, name=f"rr_{out}")
            chosen = Const(0, width)
            for k, s in enumerate(srcs):
                chosen = chosen | (heads[s][0] & grant[k].replicate(width))
                pops[s].append(take & grant[k])
            with m.If(take):
                m.d.sync += [o.valid.eq(grant.any()), o.payload.eq(chosen)]
        for d, (_, pop) in heads.items():
            any_pop = Const(0, 1)
            for line in pops[d]:
                any_pop = any_pop | line
            m.d.comb += pop.eq(any_pop)
        return m


class Mesh(wiring.Component):
    """``width x height`` :class:`MeshRouter` gateware wired into a mesh.

    Members
    -------
    i_X_Y : in, stream of ``event_layout(addr_width, ts_width)``
        Events from the core of node ``(X, Y)``.
    o_X_Y : out, stream of the same layout
        Events for the core of node ``(X, Y)``.
    route_error : out, 1
        Sticky: some router dropped an unroutable event.

    The routers' ports at the edge of the mesh are tied off (no input, never ready): XY routing
    never sends an event there.
    """

    def __init__(self, width: int, height: int, local_width: int, ts_width: int = 0):
        self.routers = {
            (x, y): MeshRouter(
                width=width, height=height, x=x, y=y, local_width=local_width, ts_width=ts_width
            )
            for x in range(width)
            for y in range(height)
        }
        any_router = self.routers[0, 0]
        self.addr_width = any_router.addr_width
        members = {}
        for x, y in self.routers:
            members[f"i_{x}_{y}"] = In(aer_signature(self.addr_width, ts_width))
            members[f"o_{x}_{y}"] = Out(aer_signature(self.addr_width, ts_width))
        members["route_error"] = Out(1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        gws = {}
        for (x, y), router in self.routers.items():
            gws[x, y] = m.submodules[f"r_{x}_{y}"] = router.create()
        errors = Const(0, 1)
        for (x, y), gw in gws.items():
            wiring.connect(m, wiring.flipped(getattr(self, f"i_{x}_{y}")), gw.i_local)
            wiring.connect(m, gw.o_local, wiring.flipped(getattr(self, f"o_{x}_{y}")))
            errors = errors | gw.route_error
            for d, (sx, sy) in STEP.items():
                neighbour = gws.get((x + sx, y + sy))
                if neighbour is None:
                    m.d.comb += [
                        getattr(gw, f"i_{d}").valid.eq(0),
                        getattr(gw, f"o_{d}").ready.eq(0),
                    ]
                else:
                    wiring.connect(m, getattr(gw, f"o_{d}"), getattr(neighbour, f"i_{OPPOSITE[d]}"))
        m.d.comb += self.route_error.eq(errors)
        return m


@hookimpl
def neurogate_register_components():
    return [MeshRouter]
