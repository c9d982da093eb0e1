"""A plugin whose import fails (as with a missing dependency)."""

import importlib

importlib.import_module("neurogate_missing_dependency")
