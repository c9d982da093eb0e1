"""The plugin manager: built-in and third-party plugins through the same pluggy hooks.

:func:`get_plugin_manager` builds a fresh manager each call. It registers the built-in plugin
modules (:data:`BUILTIN_PLUGINS`), then loads the ``neurogate.plugins`` entry-point group
fail-soft: a plugin that fails to import, to register, or to answer a hook is recorded in
:attr:`PluginManager.unavailable` with the reason, and the others still load. Setting
``NEUROGATE_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point loading off.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass

import pluggy

from . import hookspecs
from .component import KINDS, Component

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginManager",
    "Registered",
    "UnavailablePlugin",
    "get_plugin_manager",
]

#: The entry-point group that third-party plugins register in.
ENTRY_POINT_GROUP = "neurogate.plugins"
#: Set this environment variable (to anything but ``0``) to skip entry-point plugins.
AUTOLOAD_ENV = "NEUROGATE_DISABLE_PLUGIN_AUTOLOAD"
#: The origin shown for built-in plugins.
BUILTIN_ORIGIN = "neurogate (built-in)"

#: Built-in plugin modules, registered through the same hooks as third-party plugins.
#: Adding a built-in component is one line here.
BUILTIN_PLUGINS = (
    "neurogate.sim.backends",
    "neurogate.sim.cosim",
    "neurogate.plugins.encoders.lfsr",
    "neurogate.plugins.encoders.sobol",
    "neurogate.plugins.encoders.vdc",
    "neurogate.plugins.encoders.halton",
    "neurogate.plugins.encoders.bernoulli",
    "neurogate.plugins.encoders.rate",
    "neurogate.plugins.encoders.latency",
    "neurogate.plugins.encoders.delta",
    "neurogate.plugins.encoders.sigma_delta",
    "neurogate.plugins.encoders.phase",
    "neurogate.plugins.encoders.burst",
    "neurogate.plugins.encoders.rank_order",
    "neurogate.plugins.neurons.lif",
    "neurogate.plugins.neurons.if_neuron",
    "neurogate.plugins.neurons.lif_shift",
    "neurogate.plugins.neurons.alif",
    "neurogate.plugins.neurons.cuba_lif",
    "neurogate.plugins.neurons.izhikevich",
    "neurogate.plugins.neurons.hh_stn",
    "neurogate.plugins.neurons.elm",
    "neurogate.plugins.neurons.adex",
    "neurogate.plugins.neurons.glif",
    "neurogate.plugins.neurons.li",
    "neurogate.plugins.arith.and_mul",
    "neurogate.plugins.arith.xnor_mul",
    "neurogate.plugins.arith.mux_add",
    "neurogate.plugins.arith.or_add",
    "neurogate.plugins.arith.cordiv",
    "neurogate.plugins.arith.apc",
    "neurogate.plugins.arith.counter",
    "neurogate.plugins.decorrelators.isolator",
    "neurogate.plugins.decorrelators.shuffle",
    "neurogate.plugins.decorrelators.regen",
    "neurogate.plugins.decorrelators.rescramble",
    "neurogate.plugins.routers.aer_encoder",
    "neurogate.plugins.routers.routing_table",
    "neurogate.plugins.routers.aer_decoder",
    "neurogate.plugins.routers.aer_merge",
    "neurogate.plugins.routers.priority_queue",
    "neurogate.plugins.routers.mesh_router",
    "neurogate.plugins.synapses.dense",
    "neurogate.plugins.synapses.sparse",
    "neurogate.plugins.synapses.sc_dense",
    "neurogate.boards.targets.icebreaker",
    "neurogate.boards.targets.icestick",
    "neurogate.boards.targets.upduino_v3",
    "neurogate.boards.targets.tinyfpga_bx",
    "neurogate.boards.targets.ulx3s",
    "neurogate.boards.targets.orangecrab",
    "neurogate.boards.targets.ecp5_evn",
    "neurogate.boards.targets.colorlight_5a75b",
)


@dataclass(frozen=True)
class UnavailablePlugin:
    """A plugin (or one thing it registers) that could not be loaded, and why."""

    name: str
    origin: str
    reason: str


@dataclass(frozen=True)
class Registered:
    """A registered object and the plugin it came from."""

    obj: object
    origin: str


class PluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` for the ``neurogate`` project with fail-soft loading."""

    def __init__(self):
        super().__init__("neurogate")
        self.add_hookspecs(hookspecs)
        self._load_failures: list[UnavailablePlugin] = []
        self._origins: dict[str, str] = {}
        self._collected: dict[str, tuple[dict[str, Registered], list[UnavailablePlugin]]] = {}

    @property
    def unavailable(self) -> list[UnavailablePlugin]:
        """Plugins, or things they register, that failed to load, each with the reason."""
        failures = list(self._load_failures)
        for hook_name in _REGISTER_HOOKS.values():
            failures += self._collect(hook_name)[1]
        return failures

    def register(self, plugin, name=None):
        """Register ``plugin`` (pluggy's method; also forgets what the hooks returned before)."""
        self._collected.clear()
        return super().register(plugin, name)

    def unregister(self, plugin=None, name=None):
        """Unregister a plugin (pluggy's method; also forgets what the hooks returned before)."""
        self._collected.clear()
        return super().unregister(plugin, name)

    def register_plugin(self, plugin: object, name: str, origin: str) -> bool:
        """Register ``plugin`` under ``name``; on failure record it as unavailable."""
        self._collected.clear()
        try:
            self.register(plugin, name=name)
        except Exception as exc:
            self._load_failures.append(UnavailablePlugin(name, origin, _reason(exc)))
            return False
        self._origins[name] = origin
        return True

    def load_entry_points(self, entry_points: Iterable | None = None) -> None:
        """Load plugins from the ``neurogate.plugins`` entry-point group, fail-soft."""
        if entry_points is None:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            origin = f"{dist.name} {dist.version}" if dist is not None else ep.value
            name = f"entry point {ep.name!r}"
            try:
                plugin = ep.load()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._load_failures.append(UnavailablePlugin(ep.name, origin, _reason(exc)))
                continue
            self.register_plugin(plugin, name=name, origin=origin)

    def origin_of(self, plugin_name: str) -> str:
        """Return where the plugin registered as ``plugin_name`` came from."""
        return self._origins.get(plugin_name, plugin_name)

    def _collect(self, hook_name: str):
        """Call ``hook_name`` on each plugin separately; return (registered, failures)."""
        if hook_name in self._collected:
            return self._collected[hook_name]
        check = _CHECKS[hook_name]
        found: dict[str, Registered] = {}
        failures: list[UnavailablePlugin] = []
        hook = getattr(self.hook, hook_name)
        # get_hookimpls() is in registration order (pluggy *calls* them in reverse), so the
        # built-ins, registered first, keep their names in a clash.
        for impl in hook.get_hookimpls():
            origin = self.origin_of(impl.plugin_name)
            try:
                result = impl.function()
                items = list(result or ())
            except Exception as exc:
                failures.append(UnavailablePlugin(impl.plugin_name, origin, _reason(exc)))
                continue
            for item in items:
                problem = check(item)
                key = getattr(item, "name", repr(item))
                if problem is None and key in found:
                    problem = f"name {key!r} is already registered by {found[key].origin}"
                if problem is not None:
                    failures.append(UnavailablePlugin(str(key), origin, problem))
                    continue
                found[key] = Registered(item, origin)
        self._collected[hook_name] = (found, failures)
        return found, failures

    def components(self) -> dict[str, Registered]:
        """Return ``{name: Registered(component class, origin)}`` from every plugin."""
        return dict(self._collect(_REGISTER_HOOKS["components"])[0])

    def boards(self) -> dict[str, Registered]:
        """Return ``{name: Registered(board, origin)}`` from every plugin."""
        return dict(self._collect(_REGISTER_HOOKS["boards"])[0])

    def sim_backends(self) -> dict[str, Registered]:
        """Return ``{name: Registered(backend class, origin)}`` from every plugin."""
        return dict(self._collect(_REGISTER_HOOKS["sim_backends"])[0])


def _reason(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _check_named(item) -> str | None:
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not name:
        return f"{item!r} has no name"
    return None


def _check_component(item) -> str | None:
    if not (isinstance(item, type) and issubclass(item, Component)):
        return f"{item!r} is not a neurogate Component subclass"
    if not item.name or not isinstance(item.name, str):
        return f"{item.__qualname__} has no name"
    if item.kind not in KINDS:
        return f"{item.__qualname__}.kind must be one of {', '.join(KINDS)}, not {item.kind!r}"
    return None


_REGISTER_HOOKS = {
    "components": "neurogate_register_components",
    "boards": "neurogate_register_boards",
    "sim_backends": "neurogate_register_sim_backends",
}
_CHECKS = {
    "neurogate_register_components": _check_component,
    "neurogate_register_boards": _check_named,
    "neurogate_register_sim_backends": _check_named,
}


def get_plugin_manager(*, autoload: bool | None = None, entry_points=None) -> PluginManager:
    """Build a fresh plugin manager with the built-ins and (unless disabled) entry points.

    Parameters
    ----------
    autoload : bool, optional
        Load the ``neurogate.plugins`` entry-point group. Defaults to true unless the
        environment variable ``NEUROGATE_DISABLE_PLUGIN_AUTOLOAD`` is set to a non-empty value
        other than ``0``.
    entry_points : iterable of importlib.metadata.EntryPoint, optional
        Use these instead of the installed entry points (for tests).
    """
    pm = PluginManager()
    for module_name in BUILTIN_PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            pm._load_failures.append(UnavailablePlugin(module_name, BUILTIN_ORIGIN, _reason(exc)))
            continue
        pm.register_plugin(module, name=module_name, origin=BUILTIN_ORIGIN)
    if autoload is None:
        autoload = os.environ.get(AUTOLOAD_ENV, "") in ("", "0")
    if autoload or entry_points is not None:
        pm.load_entry_points(entry_points)
    return pm
