"""TOML design files: a :class:`~neurogate.core.network.Network` written down.

A design file has one table per input and per population, keyed by name, and one
``[[connections]]`` entry per edge::

    [network]
    name = "demo"                 # optional

    [inputs.x]
    size = 16                     # spike input (one bit per element per timestep)

    [inputs.bias]
    size = 8
    kind = "value"                # an integer per element per timestep
    width = 12
    signed = true

    [encoders.rates]
    encoder = "rate"              # a temporal (or SC) encoder, one per element of its source
    source = "bias"
    params = { width = 12, stochastic = true }   # random encoders get distinct seeds

    [populations.hidden]
    neuron = "lif_shift"          # a registered neuron component
    size = 8
    params = { shift = 3, threshold = 300 }
    port_values = {}              # added to a port's drive (a constant input, or a bias on
                                  # the synapses' sum): an int, one int per neuron, or a .npy
    probe = ["v"]                 # state fields recorded by a run

    [[connections]]
    from = "x"
    to = "hidden"
    synapse = "dense"             # a registered synapse component (omit for a value input)
    port = "current"              # the target's input port (default: its first)
    delay = 1                     # timesteps (default 1)
    params = { weights = "w_hidden.npy" }

    [mesh]                        # optional: several cores on a mesh of routers
    width = 2
    height = 1
    place = { hidden = [1, 0] }   # node (x, y) of inputs, encoders, populations; else (0, 0)

Synapse and neuron ``params`` are the component's parameters. A string ending in ``.npy`` is
loaded with :func:`numpy.load` relative to the design file, and a list of lists becomes an
integer array, so weight matrices can live next to the design or inline.

:func:`dump` writes a :class:`~neurogate.core.network.Network` back as a design file (array
parameters as ``.npy`` files beside it), so a network built in Python or imported from NIR can
be kept, edited and loaded again.

Every mistake is a :class:`DesignError` whose message starts with ``file:line:`` — an invalid
TOML syntax, an unknown table or key (with the closest valid key), a value of the wrong type,
and any error of the network itself (an unknown component, a size mismatch, a zero-delay
cycle), placed at the table or key it comes from.

>>> import tempfile, pathlib
>>> text = '''
... [inputs.x]
... size = 2
... kind = "value"
... width = 8
... [populations.p]
... neuron = "if_neuron"
... size = 2
... params = { threshold = 10 }
... [[connections]]
... from = "x"
... to = "p"
... delay = 0
... '''
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.toml"
>>> _ = path.write_text(text)
>>> net = load(path)
>>> net.model().run({"x": [[4, 6]] * 3})["p"]["spike"].astype(int).tolist()
[[0, 0], [0, 1], [1, 0]]
>>> _ = path.write_text(text.replace("neuron =", "neurn ="))
>>> try:
...     load(path)
... except DesignError as exc:
...     line, message = str(exc).split(":")[1], str(exc).split(": ", 1)[1].split(";")[0]
>>> line, message
('7', "populations.p: unknown key 'neurn' (did you mean 'neuron'?)")
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .network import Network, NetworkError

__all__ = ["DesignError", "dump", "dumps", "load", "loads"]


class DesignError(ValueError):
    """A design file that cannot be loaded; the message starts with ``file:line:``."""


# key -> (python types, description); "required" keys are marked with a leading "!"
_SCHEMA = {
    "network": {"name": (str, "a string")},
    "input": {
        "!size": (int, "an int"),
        "kind": (str, "'spike' or 'value'"),
        "width": (int, "an int"),
        "signed": (bool, "true or false"),
    },
    "encoder": {
        "!encoder": (str, "a temporal encoder name"),
        "!source": (str, "a value input name"),
        "params": (dict, "a table"),
    },
    "population": {
        "!neuron": (str, "a component name"),
        "!size": (int, "an int"),
        "params": (dict, "a table"),
        "port_values": (dict, "a table"),
        "probe": (list, "a list of state names"),
    },
    "connection": {
        "!from": (str, "an input or population name"),
        "!to": (str, "a population name"),
        "synapse": (str, "a component name"),
        "port": (str, "a port name"),
        "delay": (int, "an int"),
        "params": (dict, "a table"),
    },
    "mesh": {
        "!width": (int, "an int"),
        "!height": (int, "an int"),
        "place": (dict, "a table of name = [x, y]"),
    },
}
_TOP = ("network", "inputs", "encoders", "populations", "connections", "mesh")


class _Lines:
    """Line numbers of table headers and keys, found by scanning the text."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

    def __init__(self, text: str):
        self.tables: dict[str, int] = {}
        self.keys: dict[tuple[str, str], int] = {}
        current, counts = "", {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self.HEADER.match(line)
            if header:
                name = header.group(2).replace('"', "").replace(" ", "")
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    name = f"{name}[{index}]"
                current = name
                self.tables.setdefault(current, number)
                continue
            key = self.KEY.match(line)
            if key:
                self.keys.setdefault((current, key.group(1).strip('"')), number)

    def of(self, table: str, key: str | None = None) -> int:
        if key is not None and (table, key) in self.keys:
            return self.keys[(table, key)]
        if table in self.tables:
            return self.tables[table]
        parent, _, last = table.rpartition(".")
        if parent and (parent, last) in self.keys:  # an inline table: name = { ... }
            return self.keys[(parent, last)]
        return 1


# Which key of a table a network error is about (the first pattern found in the message).
_KEY_HINTS = (
    (" delay must", "delay"),
    ("no input, encoder or population named", "from"),
    ("the target", "to"),
    ("has no input port", None),  # port (connections) or port_values (populations)
    ("no component named", "synapse/neuron"),
    ("is not a temporal or SC encoder", "encoder"),
    ("must be a value input", "source"),
    ("is not a neuron kernel", "neuron"),
    ("is not a synapse", "synapse"),
    ("shape mismatch", "synapse"),
    (" size must", "size"),
    ("has no parameter", "params"),
)


def _key_of(message: str) -> str | None:
    for pattern, key in _KEY_HINTS:
        if pattern in message:
            if key is None:
                return "port" if message.startswith("connection") else "port_values"
            if key == "synapse/neuron":
                if message.startswith("encoder"):
                    return "encoder"
                return "synapse" if message.startswith("connection") else "neuron"
            return key
    if re.search(r"\w+\.\w+ must ", message):  # a component parameter
        return "params"
    return None


def load(path) -> Network:
    """Read the design file ``path`` and return its :class:`Network`."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DesignError(f"{path}: cannot read the design file: {exc.strerror}") from None
    return loads(text, name=str(path), base=path.parent)


def loads(text: str, name: str = "<design>", base=None) -> Network:
    """Parse design ``text`` (``name`` is used in messages, ``base`` resolves ``.npy`` paths)."""
    base = Path(base) if base is not None else Path.cwd()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = found.group(1) if found else "1"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise DesignError(f"{name}:{line}: invalid TOML: {reason}") from None
    lines = _Lines(text)

    def fail(table, key, message):
        raise DesignError(f"{name}:{lines.of(table, key)}: {table}: {message}")

    def check_table(table, section, schema_name):
        if not isinstance(section, dict):
            fail(table, None, "must be a table")
        schema = _SCHEMA[schema_name]
        keys = {k.lstrip("!"): v for k, v in schema.items()}
        for key, value in section.items():
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                fail(table, key, f"unknown key {key!r}{hint}; valid keys: {', '.join(keys)}")
            types, what = keys[key]
            if not isinstance(value, types) or (types is int and isinstance(value, bool)):
                fail(table, key, f"{key} must be {what}, not {value!r}")
        for key in schema:
            if key.startswith("!") and key[1:] not in section:
                fail(table, None, f"missing required key {key[1:]!r}")

    for key in data:
        if key not in _TOP:
            close = difflib.get_close_matches(key, _TOP, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            line = lines.of(key)
            raise DesignError(
                f"{name}:{line}: unknown table {key!r}{hint}; valid tables: {', '.join(_TOP)}"
            )
    if "network" in data:
        check_table("network", data["network"], "network")
    net_name = data.get("network", {}).get("name", Path(name).stem.replace("-", "_"))
    try:
        net = Network(net_name if net_name.isidentifier() else "network")
    except NetworkError as exc:
        raise DesignError(f"{name}:{lines.of('network', 'name')}: network: {exc}") from None

    def build(table, key, call):
        try:
            return call()
        except NetworkError as exc:
            key = key or _key_of(str(exc))
            raise DesignError(f"{name}:{lines.of(table, key)}: {table}: {exc}") from None

    def resolve(table, params, what="params"):
        out = {}
        for key, value in params.items():
            if isinstance(value, str) and value.endswith(".npy"):
                file = base / value
                try:
                    value = np.load(file)
                except (OSError, ValueError) as exc:
                    raise DesignError(
                        f"{name}:{lines.of(table, what)}: {table}: {what}.{key}: "
                        f"cannot load {file}: {exc}"
                    ) from None
            elif isinstance(value, list) and (
                what == "port_values" or (value and isinstance(value[0], list))
            ):
                value = np.asarray(value)
            out[key] = value
        return out

    for key in ("inputs", "encoders", "populations"):
        if key in data and not isinstance(data[key], dict):
            raise DesignError(f"{name}:{lines.of(key)}: {key} must be tables [{key}.NAME]")
    for iname, section in data.get("inputs", {}).items():
        table = f"inputs.{iname}"
        check_table(table, section, "input")
        build(table, None, lambda iname=iname, s=section: net.input(iname, **s))
    for ename, section in data.get("encoders", {}).items():
        table = f"encoders.{ename}"
        check_table(table, section, "encoder")
        params = resolve(table, section.get("params", {}))
        build(
            table,
            None,
            lambda ename=ename, s=section, params=params: net.encoder(
                ename, s["encoder"], s["source"], **params
            ),
        )
    probes = []
    for pname, section in data.get("populations", {}).items():
        table = f"populations.{pname}"
        check_table(table, section, "population")
        params = resolve(table, section.get("params", {}))
        values = resolve(table, section.get("port_values", {}), "port_values")

        def make(pname=pname, s=section, params=params, values=values):
            return net.population(pname, s["neuron"], s["size"], port_values=values, **params)

        build(table, None, make)
        if section.get("probe"):
            probes.append((table, pname, section["probe"]))
    conns = data.get("connections", [])
    if not isinstance(conns, list):
        raise DesignError(f"{name}:{lines.of('connections')}: connections must be [[connections]]")
    for i, section in enumerate(conns):
        table = f"connections[{i}]"
        check_table(table, section, "connection")
        params = resolve(table, section.get("params", {}))
        build(
            table,
            None,
            lambda s=section, params=params: net.connect(
                s["from"],
                s["to"],
                s.get("synapse"),
                port=s.get("port"),
                delay=s.get("delay", 1),
                **params,
            ),
        )
    for table, pname, fields in probes:
        build(table, "probe", lambda pname=pname, fields=fields: net.probe(pname, *fields))
    if "mesh" in data:
        section = data["mesh"]
        check_table("mesh", section, "mesh")
        place = section.get("place", {})

        def mesh():
            net.mesh(section["width"], section["height"], place)
            net.check()

        try:
            mesh()
        except NetworkError as exc:
            placed = re.search(r"mesh: '(\w+)'", str(exc))
            key = placed.group(1) if placed and placed.group(1) in place else None
            line = lines.of("mesh.place", key) if key else lines.of("mesh")
            raise DesignError(f"{name}:{line}: {exc}") from None
    build("network", None, net.check)
    return net


# -- writing ------------------------------------------------------------------------------------
def _toml_value(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, where) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k} = {_toml_value(v, where)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise DesignError(f"{where}: {value!r} cannot be written to a design file")


def _params(component, table: str, arrays: dict, prefix: str = "") -> dict:
    """The parameters given to ``component``; arrays become ``.npy`` file names."""
    out = {}
    for key, value in component._given.items():
        if value is None:
            raise DesignError(
                f"{table}: {component.name}.{key}=None cannot be written (TOML has no null)"
            )
        if hasattr(value, "shape") or hasattr(value, "array"):
            file = f"{prefix}{table.replace('.', '_').replace('[', '_').replace(']', '')}_{key}.npy"
            arrays[file] = np.asarray(getattr(value, "array", value))
            value = file
        out[key] = value
    return out


def dumps(net: Network, prefix: str = "") -> tuple[str, dict[str, np.ndarray]]:
    """Return ``(toml_text, {npy_file_name: array})`` for ``net`` (see :func:`dump`).

    Array files are named ``<prefix><table>_<parameter>.npy``.
    """
    arrays: dict[str, np.ndarray] = {}
    lines = ["[network]", f"name = {_toml_value(net.name, 'network')}", ""]
    for name, node in net.inputs.items():
        lines += [f"[inputs.{name}]", f"size = {node.size}"]
        if node.kind != "spike":
            lines += [f'kind = "{node.kind}"', f"width = {node.width}"]
            lines += [f"signed = {_toml_value(node.signed, name)}"]
        lines.append("")
    for name, enc in net.encoders.items():
        table = f"encoders.{name}"
        lines += [f"[{table}]", f'encoder = "{enc.encoder.name}"', f'source = "{enc.source}"']
        params = _params(enc.encoder, table, arrays, prefix)
        if params:
            lines.append(f"params = {_toml_value(params, table)}")
        lines.append("")
    for name, pop in net.populations.items():
        table = f"populations.{name}"
        lines += [f"[{table}]", f'neuron = "{pop.neuron.name}"', f"size = {pop.size}"]
        params = _params(pop.neuron, table, arrays, prefix)
        if params:
            lines.append(f"params = {_toml_value(params, table)}")
        if pop.port_values:
            values = {}
            for key, value in pop.port_values.items():
                if isinstance(value, np.ndarray):
                    file = f"{prefix}{table.replace('.', '_')}_{key}.npy"
                    arrays[file] = value
                    value = file
                values[key] = value
            lines.append(f"port_values = {_toml_value(values, table)}")
        if net.probes.get(name):
            lines.append(f"probe = {_toml_value(list(net.probes[name]), table)}")
        lines.append("")
    for i, conn in enumerate(net.connections):
        table = f"connections[{i}]"
        lines += ["[[connections]]", f'from = "{conn.source}"', f'to = "{conn.target}"']
        if conn.synapse is not None:
            lines.append(f'synapse = "{conn.synapse.name}"')
        lines += [f'port = "{conn.port}"', f"delay = {conn.delay}"]
        if conn.synapse is not None:
            params = _params(conn.synapse, table, arrays, prefix)
            if params:
                lines.append(f"params = {_toml_value(params, table)}")
        lines.append("")
    if net.noc is not None:
        lines += ["[mesh]", f"width = {net.noc.width}", f"height = {net.noc.height}"]
        place = {name: list(node) for name, node in net.noc.place.items()}
        if place:
            lines.append(f"place = {_toml_value(place, 'mesh')}")
        lines.append("")
    return "\n".join(lines), arrays


def dump(net: Network, path) -> Path:
    """Write ``net`` as the design file ``path`` and its arrays as ``.npy`` files beside it.

    The array files are named after the design (``<stem>_<table>_<parameter>.npy``), so two
    designs can share a folder.
    """
    path = Path(path)
    text, arrays = dumps(net, prefix=f"{path.stem}_")
    for file, arr in arrays.items():
        np.save(path.parent / file, arr)
    path.write_text(text)
    return path
