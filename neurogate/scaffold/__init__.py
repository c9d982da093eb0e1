"""``neurogate new-plugin``: scaffold a pip-installable plugin package with one component.

:func:`new_plugin` writes a project from the templates in ``templates/`` (package data)::

    neurogate-NAME/
    ├── pyproject.toml               # the neurogate.plugins entry point
    ├── README.md
    ├── src/neurogate_NAME/
    │   ├── __init__.py
    │   └── NAME.py                  # the component: parameters, model, gateware, hookimpl
    └── tests/
        ├── test_NAME.py             # three lines: neurogate.testing.component_tests
        └── test_known_answers.py    # a vector worked out by hand

The generated component works and is bit-true as generated (a shift-leak LIF neuron, a
sigma-delta encoder, a delay-line decorrelator, or an address-relabelling router stage), so
the author starts from passing tests and changes the model and the gateware together.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     root = new_plugin("my_lif", "neuron", pathlib.Path(tmp) / "plugin")
...     for path in sorted(p for p in root.rglob("*") if p.is_file()):
...         print(path.relative_to(root).as_posix())
README.md
pyproject.toml
src/neurogate_my_lif/__init__.py
src/neurogate_my_lif/my_lif.py
tests/test_known_answers.py
tests/test_my_lif.py
>>> new_plugin("My-LIF", "neuron")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
ValueError: plugin name must be a lowercase Python identifier (...), not 'My-LIF'
"""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path

__all__ = ["KINDS", "new_plugin"]

#: The kinds ``new-plugin`` can scaffold.
KINDS = ("neuron", "encoder", "decorrelator", "router")

_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")

# Per kind: summary, parameter sweep of the generated test, known-answer test, README examples.
_KIND = {
    "neuron": {
        "summary": "A leaky integrate-and-fire neuron with a shift leak",
        "sweep": '{"width": [4, 16], "threshold": [1, 7]}',
        "known_answer": """\
def test_leak_threshold_and_saturation():
    neuron = ng.component("{{name}}", width=8, threshold=100, leak_shift=2)
    out = neuron.model().run({"current": [40, 40, 40, 40, 40, -128, -128]})
    # v: 40; 40 - 10 + 40 = 70; 70 - 17 + 40 = 93; 93 - 23 + 40 = 110 >= 100: spike, v = 0;
    # 40 again; 40 - 10 - 128 = -98; -98 - (-25) - 128 = -201 saturates to -128
    # (-98 >> 2 = -25: the shift rounds down).
    assert out["v"][:, 0].tolist() == [40, 70, 93, 0, 40, -98, -128]
    assert out["spike"][:, 0].tolist() == [0, 0, 0, 1, 0, 0, 0]
""",
        "cli": "neurogate verify {{name}} -p threshold=100 --steps 300",
        "python": 'out = comp.model(n=4).run({"current": [300] * 10})  # 10 steps, 4 neurons',
    },
    "encoder": {
        "summary": "A first-order sigma-delta encoder",
        "sweep": '{"width": [1, 4, 12]}',
        "known_answer": """\
def test_carries():
    enc = ng.component("{{name}}", width=4)
    # acc: 5, 10, 15, 20 -> 4 (carry), 9, 14, 19 -> 3 (carry)
    assert enc.model().run({"x": [5] * 7})["bit"][:, 0].tolist() == [0, 0, 0, 1, 0, 0, 1]
    # full scale - 1: every step but the first carries
    assert enc.model().run({"x": [15] * 4})["bit"][:, 0].tolist() == [0, 1, 1, 1]
""",
        "cli": "neurogate verify {{name}} -p width=10 --steps 300",
        "python": 'bits = comp.model().run({"x": [64] * 16})["bit"]  # density 64/256',
    },
    "decorrelator": {
        "summary": "A delay-line decorrelator",
        "sweep": '{"depth": [1, 2, 5]}',
        "known_answer": """\
def test_delay():
    line = ng.component("{{name}}", depth=2)
    model = line.model()
    assert model.run({"a": [1, 1, 0, 1]})["y"][:, 0].tolist() == [0, 0, 1, 1]
    assert model.run({"a": [0, 0, 1]})["y"][:, 0].tolist() == [0, 1, 0]  # continues
""",
        "cli": "neurogate verify {{name}} -p depth=3 --steps 300",
        "python": 'y = comp.model().run({"a": [1, 0, 1, 1]})["y"]  # a, two cycles later',
    },
    "router": {
        "summary": "An address-event relabelling stage",
        "sweep": '{"addr_width": [2, 5], "ts_width": [0, 3], "offset": [3]}',
        "known_answer": """\
def test_offset_and_drop():
    stage = ng.component("{{name}}", addr_width=4, offset=3)
    events = [{"addr": a} for a in (0, 5, 12, 13, 2)]
    out = stage.model().run({"i": events})["o"]
    assert [e["addr"] for e in out] == [3, 8, 15, 5]  # 13 + 3 = 16 does not fit 4 bits
""",
        "cli": "neurogate rtl {{name}} -p offset=16 -o {{name}}.v",
        "python": 'comp.replace(offset=3).model().run({"i": [{"addr": 1}]})  # o: addr 4',
    },
}


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ValueError(
            "plugin name must be a lowercase Python identifier (a-z, 0-9, _; starting with a "
            f"letter; at most 30 characters), not {name!r}"
        )


def _test_call(name: str, sweep: str) -> str:
    """The generated test line, wrapped as ``ruff format`` wraps it at 100 columns."""
    line = f'test_{name} = component_tests("{name}", sweep={sweep})'
    if len(line) <= 100:
        return line
    args = f'    "{name}", sweep={sweep}'
    if len(args) <= 100:
        return f"test_{name} = component_tests(\n{args}\n)"
    return f'test_{name} = component_tests(\n    "{name}",\n    sweep={sweep},\n)'


def _render(template: str, values: dict[str, str]) -> str:
    text = resources.files(__name__).joinpath("templates", template).read_text("utf-8")
    for _ in range(2):  # per-kind snippets hold placeholders themselves
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
    left = re.search(r"\{\{\w+\}\}", text)
    if left:  # a template bug, not a user error
        raise AssertionError(f"template {template} has an unknown placeholder {left.group()}")
    return text


def new_plugin(name: str, kind: str, directory: str | Path | None = None) -> Path:
    """Write a plugin project for component ``name`` of ``kind``; return its directory.

    Parameters
    ----------
    name : str
        The component's registry name, also the module name: a lowercase identifier. The
        distribution is ``neurogate-NAME`` (``_`` as ``-``), the import package
        ``neurogate_NAME``.
    kind : str
        One of :data:`KINDS`.
    directory : path, optional
        Where to write the project (default: ``./neurogate-NAME``). It must not exist or be
        empty.

    Raises
    ------
    ValueError
        A bad name or kind, or a name that a built-in or installed plugin already registers.
    FileExistsError
        ``directory`` exists and is not an empty directory.
    """
    _check_name(name)
    if kind not in KINDS:
        raise ValueError(f"plugin kind must be one of {', '.join(KINDS)}, not {kind!r}")
    import neurogate as ng

    taken = ng.plugin_manager().components()
    if name in taken:
        raise ValueError(
            f"plugin name {name!r} is already registered by {taken[name].origin}; choose "
            "another (names are unique among installed plugins)"
        )
    dist = "neurogate-" + name.replace("_", "-")
    root = Path(directory) if directory is not None else Path(dist)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} already exists and is not empty; not overwriting it")
    spec = _KIND[kind]
    package = "neurogate_" + name
    version = ng.__version__ if re.fullmatch(r"\d+(\.\d+)*", ng.__version__) else "0.1"
    values = {
        "name": name,
        "Class": "".join(part.capitalize() for part in name.split("_") if part),
        "kind": kind,
        "dist": dist,
        "package": package,
        "summary": spec["summary"],
        "sweep": spec["sweep"],
        "known_answer": spec["known_answer"],
        "cli_examples": spec["cli"],
        "python_example": spec["python"],
        "neurogate_version": version,
    }
    files = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"src/{package}/__init__.py": "__init__.py.tmpl",
        f"src/{package}/{name}.py": f"{kind}.py.tmpl",
        f"tests/test_{name}.py": "test_component.py.tmpl",
        "tests/test_known_answers.py": "test_known_answers.py.tmpl",
    }
    values["test_call"] = _test_call(name, spec["sweep"])
    rendered = {path: _render(template, values) for path, template in files.items()}
    for path, text in rendered.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root
