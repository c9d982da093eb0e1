"""NIR import: a trained network (snnTorch, Norse, Lava, Rockpool, Sinabs, ...) as a Network.

:func:`load` reads a `NIR <https://neuroir.org>`_ graph (a ``.nir`` file or a
``nir.NIRGraph``), quantises it to integer weights and fixed-point neuron parameters, and
returns an :class:`Imported`: the :class:`~neurogate.core.network.Network` (``.network``), a
quantisation report (``.report``, printed as a table), the bit-true run of the network
(``.run``), a float64 run of the NIR graph itself (``.reference``) and the comparison of the
two on the same input (``.compare``). The ``nir`` package is optional
(``pip install 'neurogate[nir]'``); importing neurogate does not import it.

Time. NIR stores continuous-time equations and no time step, so ``dt`` (seconds) is an
argument; snnTorch writes its graphs for ``dt = 1e-4`` (its ``beta`` becomes ``tau = dt /
(1 - beta)``), the default. Every equation is discretised by forward Euler with that ``dt``
(snnTorch's and Norse's convention): ``tau * dv/dt = f(v, I)`` becomes ``v += dt / tau * f(v, I)``
once per timestep, the input ``I`` being that of the current step.

Graph. NIR edges carry no delay. Here every edge that leaves a spiking node (an ``Input`` or a
spiking neuron) delivers its spikes ``delay`` timesteps later, ``delay=1`` by default: that is
what the AER hardware does (:mod:`neurogate.core.network`, a spike is routed during its step and
integrated in the next), so the imported network runs as gateware. ``delay=0`` gives NIR's own
timing (an input spike can reach the output in the same step; a model-only network), except
that an edge closing a cycle (a recurrent layer) always has ``delay >= 1``. The float reference
applies the same delays, so the comparison is like for like. Chains of ``Affine``, ``Linear``
and ``Scale`` nodes between two neurons are multiplied out (in float64) into one weight matrix
per (source, target) pair, which becomes a ``dense`` synapse; edges into one node add.

Node mappings (``W`` is the weight matrix into a neuron, ``b`` the bias, ``x = W s + b`` its
input; ``a = dt / tau``; ``q`` is the real value of one integer weight, ``qv`` that of one
potential step; NIR thresholds are strict, ``v > thr``, neurogate's are ``v >= raw``, so the raw
threshold is ``floor(thr / qv) + 1``):

=================  ============================================================================
NIR node           neurogate
=================  ============================================================================
``Input``          a spike input (one bit per element per timestep; NIR values must be 0/1)
``Affine``         folded into the next neuron's weights (``W``) and bias (``b``)
``Linear``         folded into the next neuron's weights
``Scale``          folded into the next neuron's weights and bias (a diagonal matrix)
``LIF``            ``lif``: ``v += a (v_leak - v) + a r x``; ``leak_k = round(a 2**f)``,
                   ``gain_k = 2**(f + g)`` (exact), ``v_rest = v_leak / qv``, ``v_reset / qv``;
                   resets to ``v_reset`` after a spike. The per-neuron ``a r`` is folded into
                   the weights, so the integer weights are ``round(a r W / q)``
``IF``             ``if_neuron`` (``reset="zero"``) when ``v_reset = 0``, else ``lif`` with
                   ``leak_k = 0``: ``v += dt r x`` (NIR's ``dv/dt = R I``; snnTorch and Sinabs
                   read ``IF`` as ``v += r x``: import those with ``dt=1``)
``CubaLIF``        ``cuba_lif`` (Loihi): ``I += a_syn (w_in x - I)``, ``v += a_mem (v_leak - v +
                   r I)``; ``du = round(4096 a_syn) - 1``, ``dv = round(4096 a_mem)``, the
                   weights are ``a_syn w_in a_mem r W`` in units of ``q``, which sets the current
                   ``u`` to ``q / 64`` per step (``a_in << 6``); ``q`` is chosen so that the
                   threshold is a whole number of weights (``vth = thr / q`` exactly), and
                   ``a_mem v_leak`` becomes the bias ``bias_mant << bias_exp``. Needs
                   ``v_reset = 0``
``LI``             ``li`` (new kernel): ``v += a (v_leak - v) + a r x``, no spike; its ``v``
                   is an output
``Integrator``     ``li`` with ``leak_k = 0``: ``v += dt r x`` (NIR's ``I`` node)
``Threshold``      after an ``LI`` or ``Integrator`` that feeds nothing else: that ``li``
                   population gets ``threshold`` (spikes while ``v > thr``; no reset);
                   elsewhere a memoryless ``li`` (``leak_k = 2**f``: ``v = x``) with threshold
``Output``         the spikes of the population feeding it, or the ``v`` of an ``LI`` /
                   ``Integrator``; an ``Output`` fed by weights (a linear read-out) gets a
                   memoryless ``li`` population (``v = x``) and reads its ``v``
=================  ============================================================================

Other node types (``Conv2d``, ``Flatten``, ``Delay``, ``CubaLI``, nested ``NIRGraph``, ...) raise
:class:`NIRImportError` naming the node and its type. Time constants, thresholds, ``v_leak`` and
``v_reset`` must be the same for every neuron of a node (a population shares one parameter
set); ``r`` and ``w_in`` may differ (they are folded into the weights).

Quantisation, per population: ``q = max|W| / (2**(weight_bits - 1) - 1)`` over all its incoming
weights (or ``weight_scale``, given per population or for all; weights beyond the range are then
clipped with a ``UserWarning``, or :class:`NIRImportError` with ``strict=True``); integer weights
``round(W / q)``. A bias becomes the population's per-neuron ``port_values`` on its input port
(added to the synapses' sum every step, from step 0, before the saturation to the port; in up
to 16-bit weights, clipped like weights when larger). The potential of ``lif`` / ``li`` /
``if_neuron`` has ``state_format.width`` bits (default 16) and ``g = state_format.fraction``
guard bits below the weight LSB (``qv = q / 2**g``; default: the most that keep ``2 *
(|threshold| + the largest one-step input)`` in range, at most ``(width - 2) // 3``;
``if_neuron`` and memoryless ``li`` use ``g = 0``), and ``f = min(16, width - 2 - g)`` fraction
bits for the leak (``gain_k = 2**(f + g)`` must fit the
state). ``dense`` synapses read out ``acc_bits`` = the target's input width.

Recurrent layers work: snnTorch's ``RLeaky`` arrives flattened by nirtorch as a cycle through
the neuron node (its recurrent ``Affine`` is a connection from the population to itself, with
``delay >= 1``). Nested ``NIRGraph`` nodes are not flattened (an error names them).

Reference. :meth:`Imported.reference` runs the NIR graph in float64 NumPy: each node's equation
as in the table's left half (forward Euler, the same ``dt``), the same edge delays, strict
thresholds, resets to ``v_reset``; neurons start where their kernels start (``v = v_leak`` for
``LIF`` and ``LI``, 0 otherwise; ``CubaLIF``'s current 0). The quantised network differs only
by rounding: weights to ``q``, potentials to ``qv``, leaks to ``2**-f`` (``lif``: per-term floor)
or ``2**-12`` (``cuba_lif``: truncation toward zero), saturation at the formats' limits.

>>> import numpy as np
>>> import nir
>>> import neurogate as ng
>>> graph = nir.NIRGraph.from_list(
...     nir.Affine(weight=np.array([[0.6, 0.3], [-0.2, 0.9]]), bias=np.zeros(2)),
...     nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2),
...             v_threshold=np.ones(2)),
... )
>>> imp = ng.nir.load(graph)
>>> imp.network
Network('nir': 1 inputs, 1 populations, 1 connections)
>>> spikes = (np.random.default_rng(1).random((50, 2)) < 0.5).astype(np.uint8)
>>> cmp = imp.compare({"input": spikes})
>>> cmp.layers[0].agreement
1.0
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .fixed import FixedFormat
from .network import Network, NetworkError

__all__ = [
    "Comparison",
    "Imported",
    "LayerComparison",
    "LayerReport",
    "NIRImportError",
    "QuantReport",
    "load",
]

#: NIR node types this importer maps (``I`` is NIR's Integrator).
SUPPORTED = ("Input", "Output", "Affine", "Linear", "Scale", "IF", "LIF", "CubaLIF", "LI", "I")
SUPPORTED += ("Threshold",)
_SPIKING = ("IF", "LIF", "CubaLIF", "Threshold")
_LINEAR = ("Affine", "Linear", "Scale")
_POTENTIAL = ("LI", "I")
_TYPE_NAMES = {"I": "Integrator"}
#: Largest bias weight width (``dense.weight_bits`` is at most 16).
BIAS_BITS = 16


class NIRImportError(ValueError):
    """A NIR graph that cannot be imported: the message names the node (and its type)."""


def _nir():
    try:
        import nir
    except ImportError:
        raise ImportError(
            "neurogate.nir needs the 'nir' package: pip install 'neurogate[nir]'"
        ) from None
    return nir


def _type(node) -> str:
    return type(node).__name__


def _label(name, node) -> str:
    kind = _type(node)
    return f"NIR node {name!r} ({_TYPE_NAMES.get(kind, kind)})"


# -- the result -----------------------------------------------------------------------------------
@dataclasses.dataclass
class LayerReport:
    """What quantisation did to one population (see :class:`QuantReport`)."""

    population: str
    nir_node: str
    nir_type: str
    kernel: str
    size: int
    params: dict
    sources: tuple[str, ...] = ()
    weight_count: int = 0
    weight_min: float = 0.0
    weight_max: float = 0.0
    scale: float = 1.0
    clipped: int = 0
    bias_min: float | None = None
    bias_max: float | None = None
    bias_bits: int | None = None
    bias_clipped: int = 0
    v_scale: float = 1.0
    threshold: float | None = None
    threshold_raw: int | None = None
    leak: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def fires_at(self) -> float | None:
        """The real potential at which the quantised neuron fires (``raw * v_scale``)."""
        if self.threshold_raw is None:
            return None
        return self.threshold_raw * self.v_scale

    def lines(self) -> list[str]:
        """Return the report of this layer as text lines."""
        head = (
            f"{self.population} (NIR {self.nir_node!r}, {self.nir_type}) -> "
            f"{self.kernel} x {self.size}, potential LSB {self.v_scale:.6g}"
        )
        out = [head]
        if self.weight_count:
            out.append(
                f"    weights   from {', '.join(self.sources)}: {self.weight_count} in "
                f"[{self.weight_min:.6g}, {self.weight_max:.6g}], LSB {self.scale:.6g}, "
                f"{self.clipped} clipped"
            )
        if self.bias_min is not None:
            out.append(
                f"    bias      [{self.bias_min:.6g}, {self.bias_max:.6g}] in {self.bias_bits}-bit "
                f"weights, {self.bias_clipped} clipped"
            )
        if self.threshold is not None:
            out.append(
                f"    threshold {self.threshold:.6g} -> raw {self.threshold_raw} "
                f"(fires at v >= {self.fires_at:.6g})"
            )
        for key, (ideal, quantised, text) in self.leak.items():
            out.append(f"    {key:<9} {ideal:.6g} -> {text} = {quantised:.6g}")
        out.extend(f"    note      {n}" for n in self.notes)
        return out


@dataclasses.dataclass
class QuantReport:
    """The quantisation report: one :class:`LayerReport` per population; ``str()`` prints it."""

    layers: list[LayerReport]
    dt: float
    weight_bits: int
    delay: int

    def __getitem__(self, population: str) -> LayerReport:
        for layer in self.layers:
            if layer.population == population:
                return layer
        raise KeyError(population)

    def __str__(self):
        lines = [
            f"NIR import: {len(self.layers)} populations, dt = {self.dt:g} s, "
            f"{self.weight_bits}-bit weights, delay {self.delay}"
        ]
        for layer in self.layers:
            lines.extend(layer.lines())
        return "\n".join(lines)


@dataclasses.dataclass
class LayerComparison:
    """Quantised network vs float reference for one population."""

    population: str
    kind: str  # "spike" or "value"
    net_spikes: int = 0
    ref_spikes: int = 0
    agreement: float = 1.0  # fraction of (sample, step, neuron) with equal spikes
    first_mismatch: tuple | None = None  # (sample, step, neuron)
    max_error: float = 0.0  # value layers: largest |net - ref|
    rms_error: float = 0.0
    ref_range: float = 0.0  # value layers: max |ref|

    def line(self) -> str:
        if self.kind == "value":
            return (
                f"  {self.population:<14} value   max |error| {self.max_error:.4g} "
                f"(rms {self.rms_error:.4g}; reference within +-{self.ref_range:.4g})"
            )
        where = (
            "-"
            if self.first_mismatch is None
            else "sample {}, step {}, neuron {}".format(*self.first_mismatch)
        )
        return (
            f"  {self.population:<14} spikes {self.net_spikes:>8} {self.ref_spikes:>8} "
            f"{100 * self.agreement:>9.2f} %  {where}"
        )


@dataclasses.dataclass
class Comparison:
    """The result of :meth:`Imported.compare`; ``str()`` prints it."""

    samples: int
    steps: int
    layers: list[LayerComparison]
    outputs: dict  # output name -> dict of numbers
    net: dict = dataclasses.field(repr=False, default_factory=dict)
    ref: dict = dataclasses.field(repr=False, default_factory=dict)

    def __getitem__(self, population: str) -> LayerComparison:
        for layer in self.layers:
            if layer.population == population:
                return layer
        raise KeyError(population)

    def __str__(self):
        lines = [
            f"quantised network vs float64 reference: {self.samples} sample(s) x {self.steps} "
            "steps",
            f"  {'population':<14} kind   {'net':>8} {'ref':>8} {'agreement':>11}  first mismatch",
        ]
        lines += [layer.line() for layer in self.layers]
        for name, info in self.outputs.items():
            text = ", ".join(f"{k} {100 * v:.2f} %" for k, v in info.items())
            lines.append(f"  output {name!r}: {text}")
        return "\n".join(lines)


@dataclasses.dataclass
class _Pop:
    """A population being planned: its NIR node(s), kernel and incoming drive."""

    name: str  # network name
    node: str  # NIR node (the neuron, or the Output of a read-out)
    kind: str  # NIR type of the neuron, "Threshold", or "Output" (a read-out)
    size: int
    threshold_node: str | None = None  # a Threshold fused into an LI / Integrator
    drive: dict = dataclasses.field(default_factory=dict)  # source node -> (n, n_src) float
    bias: np.ndarray | None = None
    field: str = "spike"  # what it outputs: "spike", or "v" (a potential)
    v_scale: float = 1.0
    neuron: Any = None
    weights: dict = dataclasses.field(default_factory=dict)  # source node -> (n_src, n) int
    bias_int: np.ndarray | None = None
    bias_bits: int = 0
    port_bits: int = 16


class Imported:
    """A NIR graph imported as a :class:`~neurogate.core.network.Network` (see :func:`load`).

    Attributes: ``network``, ``report`` (:class:`QuantReport`), ``graph`` (the NIR graph),
    ``inputs`` (NIR input node -> network input), ``outputs`` (NIR output node ->
    ``(population, "spike" | "v")``), ``populations`` (NIR node -> population), ``dt``,
    ``delay``.
    """

    def __init__(self, graph, network, report, pops, plan):
        self.graph = graph
        self.network = network
        self.report = report
        self.dt = report.dt
        self.delay = report.delay
        self._pops = pops
        self._plan = plan
        self.inputs = dict(plan["inputs"])
        self.outputs = dict(plan["outputs"])
        self.populations = {p.node: p.name for p in pops.values()}

    def __repr__(self):
        return f"Imported({self.network!r}, dt={self.dt:g}, delay={self.delay})"

    # -- inputs ---------------------------------------------------------------------------
    def _arrays(self, inputs, steps=None):
        """Return ``({nir input: (B, T, n) uint8}, batched, T)``."""
        names = self.inputs
        if not isinstance(inputs, Mapping):
            if len(names) != 1:
                raise NIRImportError(
                    f"the graph has {len(names)} inputs ({', '.join(names)}): give a dict"
                )
            inputs = {next(iter(names)): inputs}
        by_net = {v: k for k, v in names.items()}
        arrays, batched = {}, None
        for key, value in inputs.items():
            node = key if key in names else by_net.get(key)
            if node is None:
                raise NIRImportError(
                    f"no input {key!r}; the inputs are: {', '.join(map(repr, names))}"
                )
            arr = np.asarray(value)
            size = self.network.inputs[names[node]].size
            if arr.ndim not in (2, 3) or arr.shape[-1] != size:
                raise NIRImportError(
                    f"input {node!r} must have shape (steps, {size}) or (samples, steps, "
                    f"{size}), not {arr.shape}"
                )
            if arr.size and not np.isin(arr, (0, 1)).all():
                bad = arr.flat[np.flatnonzero(~np.isin(arr, (0, 1)))[0]].item()
                raise NIRImportError(f"input {node!r} must be spikes (0 or 1), not {bad!r}")
            if batched is None:
                batched = arr.ndim == 3
            elif batched != (arr.ndim == 3):
                raise NIRImportError("give every input with a samples axis, or none")
            arrays[node] = (arr if arr.ndim == 3 else arr[None]).astype(np.uint8)
        missing = [k for k in names if k not in arrays]
        if missing:
            raise NIRImportError(f"input {missing[0]!r} is missing")
        shapes = {a.shape[:2] for a in arrays.values()}
        if len(shapes) != 1:
            raise NIRImportError(f"inputs have different (samples, steps): {sorted(shapes)}")
        _, length = shapes.pop()
        steps = length if steps is None else int(steps)
        if steps > length:
            raise NIRImportError(f"inputs have {length} steps, fewer than steps={steps}")
        return {k: a[:, :steps] for k, a in arrays.items()}, batched, steps

    # -- the quantised network --------------------------------------------------------------
    def _run_network(self, arrays, steps) -> dict:
        """``{population: (B, T, n)}``: spikes (bool) or potentials (float, real units)."""
        model = self.network.model()
        samples = next(iter(arrays.values())).shape[0]
        out = {
            p.name: np.zeros(
                (samples, steps, p.size), dtype=bool if p.field == "spike" else np.float64
            )
            for p in self._pops.values()
        }
        for s in range(samples):
            model.reset()
            feed = {self.inputs[k]: a[s] for k, a in arrays.items()}
            res = model.run(feed, steps=steps, progress=False)
            for p in self._pops.values():
                rec = res[p.name]
                out[p.name][s] = rec["spike"] if p.field == "spike" else rec["v"] * p.v_scale
        return out

    def run(self, inputs, steps: int | None = None) -> dict:
        """Run the bit-true network; return ``{NIR output: array}``.

        ``inputs`` maps each NIR ``Input`` node (or its network name) to spikes of shape
        ``(steps, n)`` or ``(samples, steps, n)`` (a bare array when there is one input).
        Spike outputs are ``bool`` arrays, potential outputs ``float64`` in the graph's units
        (raw ``v`` times the potential LSB); a samples axis is kept when given.
        """
        arrays, batched, steps = self._arrays(inputs, steps)
        res = self._run_network(arrays, steps)
        out = {name: res[pop] for name, (pop, _) in self.outputs.items()}
        return out if batched else {k: v[0] for k, v in out.items()}

    # -- the float reference ----------------------------------------------------------------
    def _run_reference(self, arrays, steps) -> dict:
        """``{NIR node: (B, T, n)}`` for every neuron and Output node, in float64."""
        plan = self._plan
        nodes, order, preds = plan["nodes"], plan["order"], plan["preds"]
        samples = next(iter(arrays.values())).shape[0]
        size = plan["size"]
        depth = max([d for p in preds.values() for _, d in p] + [0]) + 1
        hist = {n: np.zeros((depth, samples, size[n])) for n in plan["delayed"]}
        state = {}
        dt = self.dt
        for name in order:
            node = nodes[name]
            kind = _type(node)
            if kind in ("LIF", "LI"):
                state[name] = {
                    "v": np.broadcast_to(
                        _vec(node.v_leak, size[name]), (samples, size[name])
                    ).copy()
                }
            elif kind in ("IF", "I"):
                state[name] = {"v": np.zeros((samples, size[name]))}
            elif kind == "CubaLIF":
                state[name] = {
                    "v": np.zeros((samples, size[name])),
                    "i": np.zeros((samples, size[name])),
                }
        record = {
            n: np.zeros(
                (samples, steps, size[n]), dtype=bool if _type(nodes[n]) in _SPIKING else np.float64
            )
            for n in order
            if _type(nodes[n]) in _SPIKING + _POTENTIAL + ("Output",)
        }
        for t in range(steps):
            cur = {}
            for name in order:
                node = nodes[name]
                kind = _type(node)
                n = size[name]
                x = np.zeros((samples, plan["in_size"][name]))
                for src, d in preds[name]:
                    if d == 0:
                        x = x + cur[src]
                    elif t - d >= 0:
                        x = x + hist[src][(t - d) % depth]
                if kind == "Input":
                    y = arrays[name][:, t].astype(np.float64)
                elif kind == "Affine":
                    y = x @ np.asarray(node.weight, np.float64).T + _vec(
                        node.bias, node.weight.shape[0]
                    )
                elif kind == "Linear":
                    y = x @ np.asarray(node.weight, np.float64).T
                elif kind == "Scale":
                    y = x * _vec(node.scale, n)
                elif kind == "Output":
                    y = x
                elif kind == "Threshold":
                    y = x > _vec(node.threshold, n)
                else:
                    st = state[name]
                    p = {k: _vec(getattr(node, k), n) for k in _PARAMS[kind]}
                    if kind == "CubaLIF":
                        st["i"] = st["i"] + dt / p["tau_syn"] * (p["w_in"] * x - st["i"])
                        st["v"] = st["v"] + dt / p["tau_mem"] * (
                            p["v_leak"] - st["v"] + p["r"] * st["i"]
                        )
                    elif kind in ("LIF", "LI"):
                        st["v"] = st["v"] + dt / p["tau"] * (p["v_leak"] - st["v"] + p["r"] * x)
                    else:  # IF, I
                        st["v"] = st["v"] + dt * p["r"] * x
                    if kind in _SPIKING:
                        y = st["v"] > p["v_threshold"]
                        st["v"] = np.where(y, p["v_reset"], st["v"])
                    else:
                        y = st["v"].copy()
                cur[name] = y
                if name in record:
                    record[name][:, t] = y
                if name in hist:
                    hist[name][t % depth] = y
        return record

    def reference(self, inputs, steps: int | None = None) -> dict:
        """Run the NIR graph in float64 (see the module docstring); return ``{NIR output: array}``.

        Same inputs and outputs as :meth:`run` (spikes ``bool``, potentials ``float64``).
        """
        arrays, batched, steps = self._arrays(inputs, steps)
        rec = self._run_reference(arrays, steps)
        out = {name: rec[self._plan["output_node"][name]] for name in self.outputs}
        return out if batched else {k: v[0] for k, v in out.items()}

    def compare(self, inputs, steps: int | None = None, labels=None) -> Comparison:
        """Run both on ``inputs``; return a :class:`Comparison` (per population and output).

        With a samples axis, each output reports how often the network and the reference pick
        the same class (the neuron with the most spikes, or the largest final potential), and
        with ``labels`` (one int per sample) both accuracies.
        """
        arrays, _, steps = self._arrays(inputs, steps)
        net = self._run_network(arrays, steps)
        ref = self._run_reference(arrays, steps)
        samples = next(iter(arrays.values())).shape[0]
        layers = []
        for p in self._pops.values():
            a = net[p.name]
            b = ref[p.threshold_node or p.node]
            if p.field == "spike":
                diff = a != b
                first = tuple(int(i) for i in np.argwhere(diff)[0]) if diff.any() else None
                layers.append(
                    LayerComparison(
                        p.name,
                        "spike",
                        net_spikes=int(a.sum()),
                        ref_spikes=int(b.sum()),
                        agreement=float(1.0 - diff.mean()) if diff.size else 1.0,
                        first_mismatch=first,
                    )
                )
            else:
                err = np.abs(a - b)
                layers.append(
                    LayerComparison(
                        p.name,
                        "value",
                        max_error=float(err.max()) if err.size else 0.0,
                        rms_error=float(np.sqrt((err**2).mean())) if err.size else 0.0,
                        ref_range=float(np.abs(b).max()) if b.size else 0.0,
                    )
                )
        outputs = {}
        for name, (pop, field) in self.outputs.items():
            a = net[pop]
            b = ref[self._plan["output_node"][name]]
            if field == "spike":
                score_a, score_b = a.sum(axis=1), b.sum(axis=1)
            else:
                score_a, score_b = a[:, -1], b[:, -1]
            pick_a, pick_b = score_a.argmax(axis=1), score_b.argmax(axis=1)
            info = {"class agreement": float((pick_a == pick_b).mean())}
            if labels is not None:
                lab = np.asarray(labels).reshape(-1)
                if lab.shape != (samples,):
                    raise NIRImportError(f"labels must have {samples} entries, not {lab.shape}")
                info["accuracy net"] = float((pick_a == lab).mean())
                info["accuracy ref"] = float((pick_b == lab).mean())
            outputs[name] = info
        return Comparison(samples, steps, layers, outputs, net=net, ref=ref)


_PARAMS = {
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "IF": ("r", "v_threshold", "v_reset"),
    "I": ("r",),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
}


def _vec(value, n) -> np.ndarray:
    """``value`` as a float64 vector of ``n`` (a scalar or 1-element array is broadcast)."""
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        return np.full(n, arr[0])
    return arr


def _size(shape) -> int:
    return int(np.prod(np.asarray(shape, dtype=np.int64).reshape(-1))) if shape is not None else 0


def _ident(name: str, used: set) -> str:
    text = re.sub(r"\W", "_", str(name)) or "n"
    if not text.isidentifier():
        text = "n" + text
    base, i = text, 1
    while text in used:
        text = f"{base}_{i}"
        i += 1
    used.add(text)
    return text


# -- planning -------------------------------------------------------------------------------------
class _Planner:
    """Turns a NIR graph into populations, drives and delays (no quantisation yet)."""

    def __init__(self, graph, delay):
        nir = _nir()
        if not isinstance(graph, nir.NIRGraph):
            raise NIRImportError(
                f"expected a nir.NIRGraph or a .nir file, not {type(graph).__name__}"
            )
        self.nodes = dict(graph.nodes)
        self.edges = [(str(a), str(b)) for a, b in graph.edges]
        for name, node in self.nodes.items():
            if _type(node) not in SUPPORTED:
                supported = ", ".join(_TYPE_NAMES.get(k, k) for k in SUPPORTED)
                raise NIRImportError(
                    f"{_label(name, node)} cannot be mapped to neurogate; the importer maps "
                    f"{supported}"
                )
        for a, b in self.edges:
            for end in (a, b):
                if end not in self.nodes:
                    raise NIRImportError(f"NIR edge {a!r} -> {b!r}: no node named {end!r}")
        self.succ = {n: [] for n in self.nodes}
        self.pred = {n: [] for n in self.nodes}
        for a, b in self.edges:
            self.succ[a].append(b)
            self.pred[b].append(a)
        self.delay = delay
        self._sizes()

    def kind(self, name) -> str:
        return _type(self.nodes[name])

    # sizes: every node's output size, checked along every edge
    def _own_size(self, name):
        node, kind = self.nodes[name], self.kind(name)
        if kind == "Input":
            return _size(node.input_type.get("input"))
        if kind in ("Affine", "Linear"):
            w = np.asarray(node.weight)
            if w.ndim != 2:
                raise NIRImportError(
                    f"{_label(name, node)}: weight must be a 2-D matrix, not shape {w.shape}"
                )
            return w.shape[0]
        keys = {"Scale": ("scale",), "Threshold": ("threshold",), "Output": ()}.get(kind)
        keys = keys if keys is not None else _PARAMS[kind]
        sizes = {np.asarray(getattr(node, k)).size for k in keys} - {1}
        if len(sizes) > 1:
            raise NIRImportError(
                f"{_label(name, node)}: shape mismatch: its parameters have sizes {sorted(sizes)}"
            )
        return sizes.pop() if sizes else None

    def _in_size(self, name):
        node, kind = self.nodes[name], self.kind(name)
        if kind in ("Affine", "Linear"):
            return np.asarray(node.weight).shape[1]
        return self.size.get(name)

    def _sizes(self):
        self.size = {}
        for name in self.nodes:
            own = self._own_size(name)
            if own is not None:
                self.size[name] = own
        for _ in range(len(self.nodes) + 1):  # infer the rest (scalar parameters) from inputs
            changed = False
            for name in self.nodes:
                if name not in self.size:
                    known = [self.size[p] for p in self.pred[name] if p in self.size]
                    if known:
                        self.size[name] = known[0]
                        changed = True
            if not changed:
                break
        for name in self.nodes:
            if name not in self.size:
                raise NIRImportError(
                    f"{_label(name, self.nodes[name])}: its size cannot be inferred (scalar "
                    "parameters and no sized input)"
                )
        for a, b in self.edges:
            want = self._in_size(b)
            if self.size[a] != want:
                raise NIRImportError(
                    f"NIR edge {a!r} -> {b!r}: shape mismatch: {_label(a, self.nodes[a])} "
                    f"gives {self.size[a]} values, {_label(b, self.nodes[b])} takes {want}"
                )

    # populations, fusions and outputs
    def plan(self) -> dict:
        used: set[str] = set()
        inputs = {n: _ident(n, used) for n in self.nodes if self.kind(n) == "Input"}
        if not inputs:
            raise NIRImportError("the NIR graph has no Input node")
        fused = {}  # Threshold -> LI/I it is fused into
        for name in self.nodes:
            if self.kind(name) != "Threshold":
                continue
            preds = self.pred[name]
            if len(preds) == 1 and self.kind(preds[0]) in _POTENTIAL:
                li = preds[0]
                others = [s for s in self.succ[li] if s != name and self.kind(s) != "Output"]
                if not others and li not in fused.values():
                    fused[name] = li
        pops: dict[str, _Pop] = {}
        for name in self.nodes:
            kind = self.kind(name)
            if kind in _SPIKING + _POTENTIAL and name not in fused:
                thr = next((t for t, li in fused.items() if li == name), None)
                field = "spike" if kind in _SPIKING or thr else "v"
                pops[name] = _Pop(_ident(name, used), name, kind, self.size[name], thr, field=field)
        for name in self.nodes:  # a potential may only feed Outputs (or its fused Threshold)
            if self.kind(name) in _POTENTIAL:
                for s in self.succ[name]:
                    if self.kind(s) != "Output" and fused.get(s) != name:
                        raise NIRImportError(
                            f"{_label(name, self.nodes[name])} feeds {_label(s, self.nodes[s])}: "
                            "its output is a potential, and neurogate routes only spikes "
                            "between populations (an LI or Integrator may feed Output nodes "
                            "and one Threshold)"
                        )
        self.alias = {t: li for t, li in fused.items()}  # source node -> population node
        outputs, output_node = {}, {}
        for name in self.nodes:
            if self.kind(name) != "Output":
                continue
            preds = self.pred[name]
            if not preds:
                raise NIRImportError(f"{_label(name, self.nodes[name])} has no input edge")
            src = self.alias.get(preds[0], preds[0])
            if len(preds) == 1 and src in pops:
                pop = pops[src]
                field = "v" if self.kind(src) in _POTENTIAL and preds[0] == src else "spike"
                if field == "v" and pop.field != "v":
                    raise NIRImportError(
                        f"{_label(name, self.nodes[name])} reads the potential of "
                        f"{_label(src, self.nodes[src])}, which is fused with Threshold "
                        f"{pop.threshold_node!r}: read that Threshold's spikes instead"
                    )
                outputs[name] = (pop.name, field)
                output_node[name] = preds[0]
            elif len(preds) == 1 and self.kind(preds[0]) == "Input":
                raise NIRImportError(
                    f"{_label(name, self.nodes[name])} reads Input {preds[0]!r} directly: "
                    "there is nothing to compute"
                )
            else:  # weights (or several sources) feed it: a read-out population
                pops[name] = _Pop(_ident(name, used), name, "Output", self.size[name], field="v")
                outputs[name] = (pops[name].name, "v")
                output_node[name] = name
        self.pops = pops
        self._drives()
        delays = self._delays(inputs)
        return {
            "inputs": inputs,
            "outputs": outputs,
            "output_node": output_node,
            "pops": pops,
            "used": used,
            "delays": delays,
            **self._reference_plan(delays),
        }

    def _source(self, name) -> str | None:
        """The population/input node whose spikes leave ``name``, or None if not a source."""
        kind = self.kind(name)
        if kind == "Input":
            return name
        if kind in _SPIKING:
            return self.alias.get(name, name)
        return None

    def _expr(self, name, memo, stack):
        """``({source: (n, n_src)}, bias (n,))``: the output of ``name`` as a map of sources."""
        if name in memo:
            return memo[name]
        src = self._source(name)
        n = self.size[name]
        if src is not None:
            return {src: np.eye(n)}, np.zeros(n)
        if name in stack:
            cycle = [*stack[stack.index(name) :], name]
            raise NIRImportError(
                f"a cycle of NIR nodes without a spiking neuron: {' -> '.join(cycle)}"
            )
        node, kind = self.nodes[name], self.kind(name)
        if kind not in _LINEAR:  # a potential (LI / Integrator): rejected in plan()
            raise NIRImportError(f"{_label(name, node)} cannot drive a population")
        terms, bias = self._sum(name, memo, [*stack, name])
        if kind == "Scale":
            s = _vec(node.scale, n)
            mat, add = np.diag(s), np.zeros(n)
        else:
            mat = np.asarray(node.weight, dtype=np.float64)
            add = _vec(node.bias, n) if kind == "Affine" else np.zeros(n)
        out = ({k: mat @ m for k, m in terms.items()}, mat @ bias + add)
        memo[name] = out
        return out

    def _sum(self, name, memo, stack):
        terms: dict[str, np.ndarray] = {}
        bias = np.zeros(self._in_size(name))
        for p in self.pred[name]:
            t, b = self._expr(p, memo, stack)
            for k, m in t.items():
                terms[k] = terms[k] + m if k in terms else m
            bias = bias + b
        return terms, bias

    def _drives(self):
        memo: dict = {}
        for name, pop in self.pops.items():
            terms, bias = self._sum(name, memo, [name])
            if not terms and not bias.any():
                raise NIRImportError(
                    f"{_label(name, self.nodes[name])} has no input: nothing drives it"
                )
            pop.drive, pop.bias = terms, bias

    def _delays(self, inputs) -> dict:
        """``{(source node, population node): delay}``; cycles get ``delay >= 1``."""
        edges = [(s, p) for p, pop in self.pops.items() for s in pop.drive]
        if self.delay >= 1:
            return dict.fromkeys(edges, self.delay)
        succ = {}
        for s, p in edges:
            succ.setdefault(s, []).append(p)
        back, state = set(), {}

        def visit(node):
            state[node] = 1
            for nxt in succ.get(node, ()):
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    visit(nxt)
            state[node] = 2

        for node in [*inputs, *self.pops]:
            if node not in state:
                visit(node)
        return {e: (1 if e in back else 0) for e in edges}

    def _reach(self, name, memo) -> set:
        """Populations whose drive the output of ``name`` enters (through linear nodes)."""
        if name in memo:
            return memo[name]
        memo[name] = set()
        if name in self.pops:
            out = {name}
        elif self.kind(name) in _LINEAR:
            out = set().union(*(self._reach(s, memo) for s in self.succ[name]))
        else:
            out = set()
        memo[name] = out
        return out

    def _reference_plan(self, delays) -> dict:
        """The float reference's node order, predecessor delays and delayed nodes."""
        memo: dict = {}
        preds = {n: [] for n in self.nodes}
        for a, b in self.edges:
            src = self._source(a)
            d = 0
            if src is not None:
                found = {delays[(src, p)] for p in self._reach(b, memo) if (src, p) in delays}
                if len(found) > 1:
                    raise NIRImportError(
                        f"NIR edge {a!r} -> {b!r} leads to both forward and recurrent paths; "
                        "give it delay >= 1 (load(..., delay=1))"
                    )
                d = found.pop() if found else 0
            preds[b].append((a, d))
        order, state = [], {}

        def visit(node, path):
            if state.get(node) == 2:
                return
            if state.get(node) == 1:
                cycle = [*path[path.index(node) :], node]
                raise NIRImportError(f"a cycle of NIR nodes without delay: {' -> '.join(cycle)}")
            state[node] = 1
            for p, d in preds[node]:
                if d == 0:
                    visit(p, [*path, node])
            state[node] = 2
            order.append(node)

        for node in self.nodes:
            visit(node, [])
        delayed = {a for node in preds for a, d in preds[node] if d > 0}
        return {
            "nodes": self.nodes,
            "order": order,
            "preds": preds,
            "delayed": delayed,
            "size": self.size,
            "in_size": {n: self._in_size(n) for n in self.nodes},
        }


# -- quantisation ---------------------------------------------------------------------------------
def _uniform(name, node, key, values, n) -> float:
    arr = _vec(values, n)
    if arr.size and not np.allclose(arr, arr[0], rtol=1e-6, atol=0.0):
        raise NIRImportError(
            f"{_label(name, node)}: {key} differs between neurons ({arr.min():.6g} .. "
            f"{arr.max():.6g}); a population shares one value"
        )
    return float(arr[0]) if arr.size else 0.0


def _rate(name, node, key, dt, tau) -> float:
    if not tau > 0:
        raise NIRImportError(f"{_label(name, node)}: {key} must be > 0, not {tau!r}")
    a = dt / tau
    if a > 1:
        raise NIRImportError(
            f"{_label(name, node)}: dt / {key} = {a:.6g} > 1: forward Euler is unstable; "
            "use a smaller dt"
        )
    return a


def _fit(what, real, q, bits, strict):
    """Round ``real / q`` to ints, clipped to signed ``bits``; return ``(ints, clipped)``."""
    ints = np.rint(real / q).astype(np.int64)
    lim = (1 << (bits - 1)) - 1
    bad = (ints > lim) | (ints < -lim - 1)
    count = int(bad.sum())
    if count:
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        text = (
            f"{what}: {count} value(s) do not fit {bits}-bit signed weights (the first: "
            f"{real[first]:.6g} = {ints[first]} LSB of {q:.6g}, at (i, j) = {first})"
        )
        if strict:
            raise NIRImportError(text)
        warnings.warn(text + "; clipped", UserWarning, stacklevel=4)
        ints = np.clip(ints, -lim - 1, lim)
    return ints, count


def _quantise(pl, pop: _Pop, opts, report_sources) -> LayerReport:
    node = pl.nodes[pop.node]
    kind, n, dt = pop.kind, pop.size, opts["dt"]
    label = _label(pop.node, node)
    drive = {k: m.copy() for k, m in pop.drive.items()}
    bias = pop.bias.copy()
    leak, notes = {}, []
    p = {}
    if kind in _PARAMS:
        for key in _PARAMS[kind]:
            if key in ("r", "w_in"):
                p[key] = _vec(getattr(node, key), n)
            else:
                p[key] = _uniform(pop.node, node, key, getattr(node, key), n)
    # per-neuron factor of the input into the potential, per step
    if kind in ("LIF", "LI"):
        a = _rate(pop.node, node, "tau", dt, p["tau"])
        c = a * p["r"]
    elif kind in ("IF", "I"):
        a, c = 0.0, dt * p["r"]
    elif kind == "CubaLIF":
        a_s = _rate(pop.node, node, "tau_syn", dt, p["tau_syn"])
        a_m = _rate(pop.node, node, "tau_mem", dt, p["tau_mem"])
        c = a_s * p["w_in"] * a_m * p["r"]
    else:  # Threshold, read-out
        c = np.ones(n)
    for k in drive:
        drive[k] = c[:, None] * drive[k]
    bias = c * bias
    thr = None
    if kind == "Threshold":
        thr = _uniform(pop.node, node, "threshold", node.threshold, n)
    elif pop.threshold_node is not None:
        tnode = pl.nodes[pop.threshold_node]
        thr = _uniform(pop.threshold_node, tnode, "threshold", tnode.threshold, n)
    elif "v_threshold" in p:
        thr = p["v_threshold"]

    # the weight LSB q
    wmax = max([float(np.abs(m).max()) for m in drive.values() if m.size] + [0.0])
    qmax = (1 << (opts["weight_bits"] - 1)) - 1
    given = opts["weight_scale"]
    if isinstance(given, Mapping):
        given = given.get(pop.node, given.get(pop.name))
    if given is not None:
        q = float(given)
        if not q > 0:
            raise NIRImportError(f"{label}: weight_scale must be > 0, not {given!r}")
    elif wmax > 0:
        q = wmax / qmax
    else:
        q = max(float(np.abs(bias).max()), abs(thr or 0.0), 1.0) / qmax
    if kind == "CubaLIF" and given is None and thr is not None and thr > 0 and wmax > 0:
        whole = math.floor(qmax * thr / wmax)  # q = thr / whole: vth is exact
        if whole >= 1:
            q = thr / whole
    weights = {}
    clipped = 0
    for k, m in drive.items():
        ints, cnt = _fit(
            f"{label}: weights from {k!r}", m.T, q, opts["weight_bits"], opts["strict"]
        )
        weights[k] = ints
        clipped += cnt
    bias_int, bias_bits, bias_clipped = None, 0, 0
    if bias.any():
        raw = np.rint(bias / q)
        need = int(np.abs(raw).max()).bit_length() + 1
        bias_bits = min(BIAS_BITS, max(opts["weight_bits"], need))
        ints, bias_clipped = _fit(f"{label}: bias", bias[None, :], q, bias_bits, opts["strict"])
        bias_int = ints
    # the potential
    width, guard = opts["width"], opts["guard"]
    max_drive = np.zeros(n)
    for w in weights.values():
        max_drive += np.clip(w, 0, None).sum(axis=0)
    if bias_int is not None:
        max_drive += np.abs(bias_int[0])
    levels = [abs(thr or 0.0) / q] + [
        abs(p[k]) / q for k in ("v_leak", "v_reset") if k in p and kind != "CubaLIF"
    ]
    span = max(levels) + (float(max_drive.max()) if n else 0.0)
    kernel_name, params = "", {}
    g = 0
    stateless = kind in ("Threshold", "Output")
    use_if = kind == "IF" and p["v_reset"] == 0.0 and thr >= 0 and guard is None
    if kind != "CubaLIF" and not stateless and not use_if:
        if guard is None:
            room = ((1 << (width - 1)) - 1) / max(2.0 * span, 1.0)
            g = math.floor(math.log2(room)) if room >= 1 else 0
            g = max(0, min((width - 2) // 3, g))  # the rest is for the leak's fraction
        else:
            g = guard
            if g > width - 2:
                raise NIRImportError(
                    f"{label}: state_format has {g} guard bits; at most width - 2 = {width - 2}"
                )
    qv = q / (1 << g)
    fmt = FixedFormat(width, 0, True)

    def raw(what, value, rounding=round):
        r = int(rounding(value / qv))
        if not fmt.min <= r <= fmt.max:
            raise NIRImportError(
                f"{label}: {what} {value:.6g} is {r} potential steps of {qv:.6g}, which does "
                f"not fit the {width}-bit state; give a wider state_format"
            )
        return r

    thr_raw = None
    if kind == "CubaLIF":
        if p["v_reset"] != 0.0:
            raise NIRImportError(
                f"{label}: v_reset must be 0 for cuba_lif (Loihi resets to 0), not {p['v_reset']:g}"
            )
        kernel_name = "cuba_lif"
        qv = q / 64
        du = min(4095, max(0, round(4096 * a_s) - 1))
        dv = min(4095, max(0, round(4096 * a_m)))
        vth = round(thr / q) if thr is not None else 0
        if not 0 <= vth <= 131071:
            raise NIRImportError(
                f"{label}: the threshold {thr:.6g} is {vth} weight LSBs of {q:.6g}; cuba_lif "
                "takes 0..131071"
            )
        thr_raw = (vth << 6) + 1  # v > vth << 6
        params = {"du": du, "dv": dv, "vth": vth}
        bias_v = a_m * p["v_leak"] / qv
        if bias_v:
            mant, exp = _mant_exp(bias_v)
            params.update(bias_mant=mant, bias_exp=exp)
            leak["v bias"] = (bias_v * qv, (mant << exp) * qv, f"{mant} << {exp}")
        leak["dt/tau_syn"] = (a_s, (du + 1) / 4096, f"(du + 1) / 4096 = {du + 1}/4096")
        leak["dt/tau_mem"] = (a_m, dv / 4096, f"dv / 4096 = {dv}/4096")
        port_bits = 16
    elif use_if:
        kernel_name = "if_neuron"
        thr_raw = raw("the threshold", thr, math.floor) + 1
        params = {"data_width": width, "threshold": thr_raw, "reset": "zero"}
        port_bits = width
    else:
        f = min(16, width - 2 - g) if not stateless else 0
        if f < 0:
            raise NIRImportError(f"{label}: a {width}-bit state has no room for {g} guard bits")
        gain = 1 << (f + g)
        if kind in ("LIF", "IF"):
            kernel_name = "lif"
            leak_k = round(a * (1 << f))
            params = {
                "data_width": width,
                "fraction": f,
                "leak_k": leak_k,
                "gain_k": gain,
                "v_rest": raw("v_leak", p.get("v_leak", 0.0)),
                "v_reset": raw("v_reset", p["v_reset"]),
            }
            thr_raw = raw("the threshold", thr, math.floor) + 1
            thr_raw = min(thr_raw, fmt.max)
            params["v_threshold"] = thr_raw
            if kind == "LIF":
                leak["dt/tau"] = (a, leak_k / (1 << f), f"{leak_k}/2**{f}")
        else:  # li: LI, Integrator, Threshold, read-out
            kernel_name = "li"
            if kind == "LI":
                leak_k = round(a * (1 << f))
                leak["dt/tau"] = (a, leak_k / (1 << f), f"{leak_k}/2**{f}")
            elif kind == "I":
                leak_k = 0
            else:
                leak_k = 1 << f  # memoryless: v = input
            params = {"data_width": width, "fraction": f, "leak_k": leak_k, "gain_k": gain}
            if p.get("v_leak"):
                params["v_rest"] = raw("v_leak", p["v_leak"])
            if thr is not None:
                thr_raw = raw("the threshold", thr, math.floor) + 1
                params["threshold"] = min(thr_raw, fmt.max)
        port_bits = width
    from neurogate import component

    try:
        pop.neuron = component(kernel_name, **params)
    except (TypeError, ValueError) as exc:
        raise NIRImportError(f"{label}: {exc}") from None
    pop.v_scale = qv
    pop.weights = weights
    pop.bias_int = bias_int
    pop.bias_bits = bias_bits
    pop.port_bits = port_bits
    all_w = np.concatenate([m.reshape(-1) for m in drive.values()]) if drive else np.zeros(0)
    return LayerReport(
        population=pop.name,
        nir_node=pop.node if pop.threshold_node is None else f"{pop.node}+{pop.threshold_node}",
        nir_type=_TYPE_NAMES.get(kind, kind) if kind != "Output" else "Output (read-out)",
        kernel=kernel_name,
        size=n,
        params=dict(params),
        sources=tuple(report_sources[k] for k in drive),
        weight_count=int(all_w.size),
        weight_min=float(all_w.min()) if all_w.size else 0.0,
        weight_max=float(all_w.max()) if all_w.size else 0.0,
        scale=q,
        clipped=clipped,
        bias_min=float(bias.min()) if bias_int is not None else None,
        bias_max=float(bias.max()) if bias_int is not None else None,
        bias_bits=bias_bits if bias_int is not None else None,
        bias_clipped=bias_clipped,
        v_scale=qv,
        threshold=thr,
        threshold_raw=thr_raw,
        leak=leak,
        notes=notes,
    )


def _mant_exp(value: float) -> tuple[int, int]:
    """The ``(mant, exp)`` with ``mant << exp`` closest to ``value`` (13-bit mant, exp 0..7)."""
    best = None
    for exp in range(8):
        mant = max(-4096, min(4095, round(value / (1 << exp))))
        err = abs((mant << exp) - value)
        if best is None or err < best[0]:
            best = (err, mant, exp)
    return best[1], best[2]


# -- the entry point ------------------------------------------------------------------------------
def _state_format(state_format):
    if state_format is None:
        return 16, None
    if isinstance(state_format, FixedFormat):
        width, guard = state_format.width, state_format.fraction
    elif isinstance(state_format, int) and not isinstance(state_format, bool):
        width, guard = state_format, None
    else:
        raise NIRImportError(
            f"state_format must be a FixedFormat, an int width or None, not {state_format!r}"
        )
    if not 4 <= width <= 32:
        raise NIRImportError(f"state_format width must be in 4..32, not {width}")
    return width, guard


def load(
    source,
    dt: float = 1e-4,
    weight_bits: int = 8,
    state_format=None,
    strict: bool = False,
    delay: int = 1,
    weight_scale=None,
    name: str | None = None,
) -> Imported:
    """Import a NIR graph as a quantised :class:`~neurogate.core.network.Network`.

    Parameters
    ----------
    source : str, Path or nir.NIRGraph
        A ``.nir`` file or a graph.
    dt : float
        The timestep in seconds the continuous NIR equations are discretised with (forward
        Euler). snnTorch exports assume ``1e-4``.
    weight_bits : int
        Bits of a signed integer weight (2..16).
    state_format : FixedFormat, int or None
        The potential of ``lif`` / ``li`` / ``if_neuron``: ``width`` bits (4..32) with
        ``fraction`` guard bits below the weight LSB; an int gives the width (guard bits
        chosen); None: 16 bits, guard bits chosen.
    strict : bool
        Raise :class:`NIRImportError` for weights that do not fit, instead of clipping them
        with a ``UserWarning``.
    delay : int
        Timesteps a spike takes along each edge (1: as the gateware; 0: NIR's timing).
    weight_scale : float, mapping or None
        The real value of one weight LSB, for every population or ``{NIR node: value}``;
        None: ``max|W| / (2**(weight_bits - 1) - 1)`` (no weight clipped).
    name : str or None
        The network's name (default: the file's stem, or ``"nir"``).

    Returns
    -------
    Imported
    """
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
        raise NIRImportError(f"dt must be a positive number of seconds, not {dt!r}")
    if (
        isinstance(weight_bits, bool)
        or not isinstance(weight_bits, int)
        or not (2 <= weight_bits <= 16)
    ):
        raise NIRImportError(f"weight_bits must be an int in 2..16, not {weight_bits!r}")
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 1 << 16:
        raise NIRImportError(f"delay must be an int >= 0, not {delay!r}")
    width, guard = _state_format(state_format)
    nir = _nir()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise NIRImportError(f"{path}: no such file")
        try:
            graph = nir.read(path)
        except Exception as exc:  # h5py and nir raise many kinds
            raise NIRImportError(f"{path}: not a readable NIR file ({exc})") from None
        default_name = path.stem
    else:
        graph, default_name = source, "nir"
    planner = _Planner(graph, delay)
    plan = planner.plan()
    pops = plan["pops"]
    opts = {
        "dt": float(dt),
        "weight_bits": weight_bits,
        "strict": strict,
        "weight_scale": weight_scale,
        "width": width,
        "guard": guard,
    }
    source_names = {**plan["inputs"], **{k: p.name for k, p in pops.items()}}
    for t, li in planner.alias.items():
        source_names[t] = pops[li].name
    layers = [_quantise(planner, pop, opts, source_names) for pop in pops.values()]
    net_name = _ident(name or default_name, set())
    net = Network(net_name)
    try:
        for node, input_name in plan["inputs"].items():
            net.input(input_name, planner.size[node])
        for pop in pops.values():
            values = None
            if pop.bias_int is not None:
                # the bias: a per-neuron constant added to the drive before its saturation
                port = next(iter(pop.neuron.input_ports().values()))
                bias = np.clip(pop.bias_int[0], port.format.min, port.format.max)
                values = {next(iter(pop.neuron.input_ports())): bias}
            net.population(pop.name, pop.neuron, pop.size, port_values=values)
        from neurogate import component

        for pop in pops.values():
            for src, ints in pop.weights.items():
                syn = component(
                    "dense",
                    weights=ints,
                    weight_bits=weight_bits,
                    acc_bits=pop.port_bits,
                )
                net.connect(source_names[src], pop.name, syn, delay=plan["delays"][(src, pop.node)])
            if pop.field == "v":
                net.probe(pop.name, "v")
    except NetworkError as exc:  # pragma: no cover - the plan should make a valid network
        raise NIRImportError(f"the imported network is invalid: {exc}") from None
    report = QuantReport(layers, float(dt), weight_bits, delay)
    return Imported(graph, net, report, pops, plan)
