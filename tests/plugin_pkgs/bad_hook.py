"""A plugin whose hook raises."""

import neurogate as ng


@ng.hookimpl
def neurogate_register_components():
    raise RuntimeError("the plugin's hook failed")
