"""Address-event representation (AER): the one definition of a spike event on a stream.

A spike travelling between populations, routers and synapses is an **address-event**: the
index of the neuron that fired (``addr``) and, optionally, a timestamp (``ts``, e.g. the
timestep it fired in). On the wire it is the payload of an :mod:`amaranth.lib.stream` stream
(``valid`` / ``ready``; a transfer happens on a cycle where both are high), so every AER port in
neurogate is ``stream.Signature(event_layout(addr_width, ts_width))``.

>>> from amaranth.lib import stream
>>> layout = event_layout(10)
>>> layout.size, list(dict(layout.members))
(10, ['addr'])
>>> event_layout(10, ts_width=8).size
18
>>> sig = aer_signature(10)
>>> isinstance(sig, stream.Signature), sig.members["payload"].shape == layout
(True, True)
"""

from __future__ import annotations

from amaranth.hdl import unsigned
from amaranth.lib import data, stream

__all__ = ["aer_signature", "event_layout"]


def event_layout(addr_width: int, ts_width: int = 0) -> data.StructLayout:
    """Return the layout of one address-event: ``addr`` (and ``ts`` when ``ts_width > 0``)."""
    if not isinstance(addr_width, int) or isinstance(addr_width, bool) or addr_width < 1:
        raise ValueError(f"addr_width must be an int >= 1, not {addr_width!r}")
    if not isinstance(ts_width, int) or isinstance(ts_width, bool) or ts_width < 0:
        raise ValueError(f"ts_width must be an int >= 0, not {ts_width!r}")
    members = {"addr": unsigned(addr_width)}
    if ts_width:
        members["ts"] = unsigned(ts_width)
    return data.StructLayout(members)


def aer_signature(addr_width: int, ts_width: int = 0) -> stream.Signature:
    """Return the stream signature of an AER port (payload :func:`event_layout`)."""
    return stream.Signature(event_layout(addr_width, ts_width))
