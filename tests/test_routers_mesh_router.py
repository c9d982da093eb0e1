"""mesh_router: XY routes, one router under random handshakes, and meshes of routers wired up."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.routers.mesh_router import DIRECTIONS, SOURCES, Mesh, xy_path
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- known answers -----------------------------------------------------------------------------
def test_known_answer_routes_and_addresses():
    # 4 x 3 mesh, router (1, 1), 5 local bits: x takes 2 bits, y 2 bits.
    r = ng.component("mesh_router", width=4, height=3, x=1, y=1, local_width=5)
    assert (r.x_width, r.y_width, r.addr_width) == (2, 2, 9)
    assert r.address(3, 2, 17) == 17 + (3 << 5) + (2 << 7)
    assert r.destination(r.address(3, 2, 17)) == (3, 2)
    expected = {
        (1, 1): "local", (2, 0): "east", (3, 2): "east", (0, 2): "west", (0, 0): "west",
        (1, 2): "north", (1, 0): "south", (4 % 4, 3): None,  # row 3 is outside the mesh
    }  # fmt: skip
    for (x, y), out in expected.items():
        assert r.route(r.address(x, y, 0)) == out, (x, y)
    assert xy_path(r, (3, 0), (0, 2)) == [(3, 0), (2, 0), (1, 0), (0, 0), (0, 1), (0, 2)]
    assert xy_path(r, (2, 2), (2, 2)) == [(2, 2)]
    with pytest.raises(ValueError, match=exact("node (1, 3) is outside the 4x3 mesh")):
        xy_path(r, (0, 0), (1, 3))


def test_known_answer_one_hop_timing():
    # Router (0, 0) of a 2 x 1 mesh: an event for (1, 0) entering i_local at cycle 0 is in the
    # input buffer at 1 and on o_east at 2 (latency 2).
    r = ng.component("mesh_router", width=2, height=1, local_width=2)
    res = streams.run(r, {"i_local": [r.address(1, 0, 3)]}, p_valid=1.0, p_ready=1.0, settle=4)
    assert res.cycles_of("i_local") == [0]
    assert res.cycles_of("o_east") == [2]
    assert res.payloads("o_east") == [{"addr": r.address(1, 0, 3)}]


# -- one router: every input, random handshakes ----------------------------------------------
def legal_traffic(r, rng, count):
    """Events each input can legally carry under XY routing in an r.width x r.height mesh."""
    feeds = {}
    for d in DIRECTIONS:
        events = []
        while len(events) < count:
            x, y = int(rng.integers(r.width)), int(rng.integers(r.height))
            out = r.route(r.address(x, y, 0))
            if d in SOURCES[out]:
                events.append(r.address(x, y, len(events) % (1 << r.local_width)))
        feeds[f"i_{d}"] = events
    return feeds


@pytest.mark.parametrize(("width", "height", "x", "y"), [(3, 3, 1, 1), (4, 2, 0, 1), (1, 3, 0, 2)])
@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.7, 0.4)])
def test_router_sends_every_event_where_route_says(width, height, x, y, p_valid, p_ready, rng_seed):
    rng = np.random.default_rng(rng_seed)
    r = ng.component("mesh_router", width=width, height=height, x=x, y=y, local_width=5, ts_width=3)
    feeds = legal_traffic(r, rng, 25)
    tagged = {
        port: [{"addr": a, "ts": k} for a in events]
        for k, (port, events) in enumerate(feeds.items())
    }
    res = streams.run(r, tagged, p_valid=p_valid, p_ready=p_ready, seed=rng_seed)
    assert res.values["route_error"][-1] == 0
    for out in DIRECTIONS:
        got = res.payloads(f"o_{out}")
        for k, d in enumerate(DIRECTIONS):
            sent = [e for e in tagged[f"i_{d}"] if r.route(e["addr"]) == out]
            assert [e for e in got if e["ts"] == k] == sent, (d, out)  # all, in order
        assert len(got) == sum(r.route(a) == out for f in feeds.values() for a in f)


def test_unroutable_events_are_dropped_and_flagged():
    r = ng.component("mesh_router", width=3, height=3, x=1, y=1, local_width=2)
    outside = r.address(0, 3, 0)  # row 3
    u_turn = r.address(2, 1, 0)  # from the east, going east again
    y_to_x = r.address(0, 1, 0)  # from the south, turning west
    feeds = {"i_local": [outside, r.address(1, 1, 1)], "i_east": [u_turn], "i_south": [y_to_x]}
    for port, events in feeds.items():
        res = streams.run(r, {port: events}, p_valid=1.0, p_ready=1.0, settle=6)
        assert res.values["route_error"][-1] == 1, port
        sent = [t for d in DIRECTIONS for t in res.transfers[f"o_{d}"]]
        assert [t.payload["addr"] for t in sent] == events[1:], port  # only the good one


# -- meshes of routers -------------------------------------------------------------------------
def run_mesh(width, height, p_valid, p_ready, seed, per_node=30):
    rng = np.random.default_rng(seed)
    mesh = Mesh(width, height, local_width=6, ts_width=bits(width * height))
    r = mesh.routers[0, 0]
    nodes = list(mesh.routers)
    feeds, seq = {}, Counter()
    for k, src in enumerate(nodes):
        events = []
        for _ in range(per_node):
            dest = nodes[int(rng.integers(len(nodes)))]
            events.append({"addr": r.address(*dest, seq[src, dest]), "ts": k})
            seq[src, dest] += 1
        feeds[f"i_{src[0]}_{src[1]}"] = events
    res = streams.run(mesh, feeds, p_valid=p_valid, p_ready=p_ready, seed=seed)
    return mesh, r, nodes, feeds, res


def bits(n):
    return max(1, (n - 1).bit_length())


@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.8, 0.3), (0.3, 0.8), (0.6, 0.6)])
def test_2x2_mesh_delivers_every_event_once_in_order(p_valid, p_ready, rng_seed):
    _, r, nodes, feeds, res = run_mesh(2, 2, p_valid, p_ready, rng_seed)
    check_delivery(r, nodes, feeds, res)


def test_3x3_mesh_delivers_every_event_once_in_order(rng_seed):
    _, r, nodes, feeds, res = run_mesh(3, 3, 0.7, 0.5, rng_seed, per_node=40)
    check_delivery(r, nodes, feeds, res)


def check_delivery(r, nodes, feeds, res):
    assert res.values["route_error"][-1] == 0
    total = 0
    for dest in nodes:
        got = res.payloads(f"o_{dest[0]}_{dest[1]}")
        total += len(got)
        assert all(r.destination(e["addr"]) == dest for e in got), dest  # the right node
        for k, src in enumerate(nodes):
            sent = [e for e in feeds[f"i_{src[0]}_{src[1]}"] if r.destination(e["addr"]) == dest]
            assert [e for e in got if e["ts"] == k] == sent, (src, dest)  # once each, in order
    assert total == sum(len(f) for f in feeds.values())  # nothing lost, nothing duplicated


def test_mesh_flags_an_event_outside_it():
    # 3 x 2 mesh: the x field has 2 bits, so column 3 is addressable but not in the mesh. The
    # event is dropped where it enters (node (1, 1)); the next one is still delivered.
    mesh = Mesh(3, 2, local_width=2)
    r = mesh.routers[0, 0]
    events = [r.address(3, 0, 1), r.address(0, 0, 2)]
    res = streams.run(mesh, {"i_1_1": events}, p_valid=1.0, p_ready=1.0)
    assert res.values["route_error"][-1] == 1
    assert res.payloads("o_0_0") == [{"addr": events[1]}]
    assert sum(len(res.transfers[f"o_{x}_{y}"]) for x, y in mesh.routers) == 1


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"x": 2}, ValueError, "mesh_router.x must be in 0..1 (width=2), not 2"),
        ({"height": 3, "y": 3}, ValueError, "mesh_router.y must be in 0..2 (height=3), not 3"),
        ({"width": 0}, ValueError, "mesh_router.width must be an int in 1..64, not 0"),
        ({"local_width": 25}, ValueError,
         "mesh_router.local_width must be an int in 1..24, not 25"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("mesh_router", **params)
