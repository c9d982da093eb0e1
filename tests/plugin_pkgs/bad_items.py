"""A plugin that registers a clashing name, a non-component and a component with a bad kind."""

import neurogate as ng
from neurogate.plugins.neurons.lif import LIF


class ClashingLIF(LIF):
    """Claims the built-in name ``lif``."""


class BadKind(ng.Component):
    name = "test_bad_kind"
    kind = "widget"


@ng.hookimpl
def neurogate_register_components():
    return [ClashingLIF, 42, BadKind]
