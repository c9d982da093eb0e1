"""Shared pieces of the routers: parameter rules, arbiter gateware and stream helpers.

Every router passes address-events (:mod:`neurogate.gateware.aer`) on
:class:`~neurogate.core.component.StreamPort` ports. Round-robin arbitration here always means:
among the requests, grant the first one *after* the last grant (cyclically), so that after
reset request 0 goes first. In gateware the arbiter keeps that state as a thermometer mask
(``above``: the requests strictly above the last grant, all ones after reset).

>>> rr_pick([0, 1, 1, 0, 1], last=2)
4
>>> rr_pick([0, 1, 1, 0, 0], last=2)
1
>>> rr_pick([0, 0, 0], last=0) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value

from neurogate.core.component import Int, Param, bits_for

__all__ = [
    "addr_width_param",
    "at_least",
    "count_width_param",
    "lowest_one_hot",
    "one_hot_index",
    "prefix_any",
    "rr_grant",
    "rr_pick",
    "saturating_increment",
    "ts_width_param",
]


def addr_width_param(default: int = 8) -> Param:
    """The ``addr_width`` parameter: bits of an event's ``addr``."""
    return Param(default, Int(1, 32), "bits of an event's address")


def ts_width_param() -> Param:
    """The ``ts_width`` parameter: bits of an event's timestamp, passed through (0: none)."""
    return Param(0, Int(0, 32), "bits of an event's timestamp, passed through unchanged (0: none)")


def count_width_param() -> Param:
    """The ``count_width`` parameter: bits of a saturating error counter."""
    return Param(16, Int(1, 32), "bits of the saturating counter (holds at all ones)")


def rr_pick(requests: Sequence[int], last: int | None) -> int | None:
    """Return the round-robin grant: the first request after ``last`` (cyclically), or None.

    ``last`` is the index granted last time (``None`` before the first grant: request 0 goes
    first).
    """
    n = len(requests)
    start = 0 if last is None else last + 1
    for k in range(n):
        i = (start + k) % n
        if requests[i]:
            return i
    return None


# -- gateware -----------------------------------------------------------------------------------
def prefix_any(value: Value) -> Value:
    """Return ``p`` with ``p[i] = value[0] | ... | value[i - 1]`` (``p[0] = 0``).

    A log-depth (Sklansky) tree of ORs rather than a carry chain: for a few dozen bits it maps
    to fewer LUT levels than ``x & -x`` on iCE40's carry cells.
    """
    width = len(value)
    bits = [value[i] for i in range(width)]
    # inclusive prefix ORs, doubling the span each round
    span = 1
    while span < width:
        bits = [
            bits[i] | bits[(i // (2 * span)) * 2 * span + span - 1]
            if (i // span) % 2 == 1
            else bits[i]
            for i in range(width)
        ]
        span *= 2
    return Cat(Const(0, 1), *bits[:-1])[:width]


def at_least(value: Value, k: int) -> Value:
    """Return 1 when ``value`` has at least ``k`` bits set (``k >= 1``).

    A tree of population counts saturating at ``k``, kept as thermometer codes (bit ``j`` of a
    node: at least ``j + 1`` of its inputs are set) so that it is plain logic, not adders: with
    ``k <= 3`` a node of four inputs is one LUT4 level, so 16 bits take 3 levels.
    """
    # each node: [at least 1, at least 2, ..., at least k] of its inputs
    nodes = [[value[i]] + [Const(0, 1)] * (k - 1) for i in range(len(value))]
    while len(nodes) > 1:
        merged = []
        for a, b in zip(nodes[::2], nodes[1::2], strict=False):
            ta, tb = [Const(1, 1), *a], [Const(1, 1), *b]  # index j: at least j
            merged.append(
                [Cat(*[ta[i] & tb[j - i] for i in range(j + 1)]).any() for j in range(1, k + 1)]
            )
        if len(nodes) % 2:
            merged.append(nodes[-1])
        nodes = merged
    return nodes[0][k - 1] if nodes else Const(0, 1)


def lowest_one_hot(value: Value) -> Value:
    """Return the lowest set bit of ``value`` as a one-hot value of the same width (0 if none)."""
    return value & ~prefix_any(value)


def one_hot_index(one_hot: Value) -> Value:
    """Return the index of the set bit of a one-hot value (0 when none is set)."""
    width = len(one_hot)
    bits = max(1, bits_for(width - 1))
    out = []
    for j in range(bits):
        mask = sum(1 << i for i in range(width) if (i >> j) & 1)
        out.append((one_hot & Const(mask, width)).any() if mask else Const(0, 1))
    return Cat(*out)


def rr_grant(m: Module, requests: Value, advance: Value, name: str = "rr") -> Value:
    """Build a round-robin arbiter over ``requests``; return the one-hot grant (combinational).

    The grant is the first request after the last *taken* grant (cyclically); request 0 goes
    first after reset. The arbiter's state moves only on cycles where ``advance`` is high (the
    grant was taken).
    """
    width = len(requests)
    above = Signal(width, init=(1 << width) - 1, name=f"{name}_above")
    req = Signal(width, name=f"{name}_req")  # signals keep the simulator's expressions small
    high = Signal(width, name=f"{name}_high")
    m.d.comb += [req.eq(requests), high.eq(req & above)]
    requests = req
    grant = Signal(width, name=f"{name}_grant")
    # both priority encoders side by side, then a mux: shallower than masking first
    m.d.comb += grant.eq(Mux(high.any(), lowest_one_hot(high), lowest_one_hot(requests)))
    with m.If(advance & grant.any()):
        # the bits strictly above the grant: ~(grant | (grant - 1))
        m.d.sync += above.eq(~(grant | (grant - 1)[:width]))
    return grant


def saturating_increment(m: Module, counter: Signal, when: Value) -> None:
    """Add 1 to ``counter`` on cycles where ``when`` is high, holding at all ones."""
    with m.If(when & ~counter.all()):
        m.d.sync += counter.eq(counter + 1)
