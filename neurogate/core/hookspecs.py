"""The neurogate hook specifications.

A plugin is any module or object with functions marked ``@neurogate.hookimpl`` whose names are
the hooks below. Built-in components use these same hooks. Specs gain arguments over time but
never lose them, so a plugin written today keeps working.
"""

from __future__ import annotations

import pluggy

__all__ = ["hookimpl", "hookspec"]

#: Marks a function as a neurogate hook specification (used in this module only).
hookspec = pluggy.HookspecMarker("neurogate")
#: Marks a plugin's function as an implementation of a neurogate hook.
hookimpl = pluggy.HookimplMarker("neurogate")


@hookspec
def neurogate_register_components():
    """Return a list of :class:`~neurogate.core.component.Component` subclasses to register.

    Each class is registered under its ``name``; a name that is already taken makes the later
    plugin's class unavailable (listed by ``neurogate plugins`` with the reason), never replaces
    the earlier one.
    """


@hookspec
def neurogate_register_boards():
    """Return a list of board targets to register (objects with a ``name`` attribute).

    A board target is a :class:`neurogate.boards.Board` instance wrapping an amaranth-boards
    platform; ``neurogate boards`` lists them and ``neurogate build --board NAME`` builds for
    one. A name that is already taken makes the later plugin's board unavailable.
    """


@hookspec
def neurogate_register_sim_backends():
    """Return a list of :class:`~neurogate.sim.backends.Backend` subclasses to register.

    A backend runs a component on some simulator with the same contract as the NumPy model
    (``neurogate.sim.run(..., backend=NAME)``).
    """
