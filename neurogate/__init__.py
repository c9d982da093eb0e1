"""neurogate: neuromorphic FPGA gateware as Amaranth components with bit-true NumPy models.

>>> import neurogate as ng
>>> sorted(n for n in ng.components() if n in ("lfsr", "lif"))
['lfsr', 'lif']
>>> enc = ng.component("lfsr", width=16)
>>> enc.kind, enc.latency
('encoder', 1)
"""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from . import boards, sc, sim
from .core import nir
from .core.component import Component, Gateware, Model, Port, StreamPort
from .core.design import load as load_design
from .core.fixed import FixedFormat
from .core.hookspecs import hookimpl, hookspec
from .core.network import Network
from .core.neuron import NeuronKernel
from .core.plugins import PluginManager, get_plugin_manager

try:
    __version__ = version("neurogate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Component",
    "FixedFormat",
    "Gateware",
    "Model",
    "Network",
    "NeuronKernel",
    "PluginManager",
    "Port",
    "StreamPort",
    "__version__",
    "boards",
    "component",
    "components",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "load_design",
    "nir",
    "plugin_manager",
    "reload_plugins",
    "sc",
    "sim",
]


@functools.cache
def plugin_manager() -> PluginManager:
    """Return the process-wide plugin manager (built by :func:`get_plugin_manager` once)."""
    return get_plugin_manager()


def reload_plugins() -> PluginManager:
    """Forget the process-wide plugin manager and build a new one (e.g. after ``pip install``)."""
    plugin_manager.cache_clear()
    return plugin_manager()


def components(pm: PluginManager | None = None) -> dict[str, type[Component]]:
    """Return ``{name: component class}`` for every built-in and plugin component."""
    pm = pm or plugin_manager()
    return {name: reg.obj for name, reg in sorted(pm.components().items())}


def component(name: str, /, pm: PluginManager | None = None, **params) -> Component:
    """Return the component ``name`` with validated parameters ``params``.

    Raises ``LookupError`` naming the known components when ``name`` is not registered, and
    ``TypeError``/``ValueError`` naming the parameter when a parameter is invalid.
    """
    available = components(pm)
    if name not in available:
        known = ", ".join(available) or "(none)"
        raise LookupError(f"no component named {name!r}; known components: {known}")
    return available[name](**params)
