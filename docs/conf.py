"""Sphinx configuration of the neurogate documentation.

Build the site with ``python -m sphinx -W -b html docs docs/_build/html``; run every code
example with ``python -m sphinx -W -b doctest docs docs/_build/doctest`` (``tests/test_docs.py``
does both). Nothing here reaches the network.
"""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import neurogate
from neurogate.core.component import REQUIRED, Param

# writing-a-component.rst imports the example plugin module ``custom_neuron``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

project = "neurogate"
author = "neurogate developers"
copyright = "neurogate developers"
release = neurogate.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]
# No intersphinx: the build must work offline.

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Neuromorphic FPGA gateware with bit-true NumPy models",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []
pygments_style = "sphinx"

# -- autodoc / napoleon ------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Components list their ports in a numpydoc "Members" section (STYLE.md rule 13).
napoleon_custom_sections = [("Members", "params_style")]

# -- doctest -----------------------------------------------------------------------------------
# The pages use explicit ``.. doctest::`` / ``.. testcode::`` directives. The ``>>>`` examples
# inside library docstrings run under ``pytest --doctest-modules`` in their own module's
# namespace, so the API page does not run them a second time in a foreign one.
doctest_test_doctest_blocks = ""
# Sphinx's default also ignores exception messages; the messages are part of the contract here.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
trim_doctest_flags = True


def _document_param(app, what, name, obj, options, lines):
    """Render a component's :class:`Param` attributes as their contract: default, rule, meaning."""
    if not isinstance(obj, Param):
        return
    lines.clear()
    if obj.doc:
        lines += [obj.doc[0].upper() + obj.doc[1:] + ".", ""]
    default = "required" if obj.default is REQUIRED else f"``{obj.default!r}``"
    describe = getattr(obj.rule, "describe", None)
    rule = f"; must be {describe()}" if describe is not None else ""
    lines.append(f"Parameter, default {default}{rule}.")


def _keep_params(app, what, name, obj, skip, options):
    """Document Param attributes (they have no docstring of their own)."""
    if isinstance(obj, Param):
        return False
    return None


def setup(app):
    app.connect("autodoc-skip-member", _keep_params)
    app.connect("autodoc-process-docstring", _document_param)
