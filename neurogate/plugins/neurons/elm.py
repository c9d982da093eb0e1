"""``elm``: Branch-ELM v2 (Expressive Leaky Memory neuron) inference in fixed point.

**Equations** (Spieler, Rahaman, Martius, Schoelkopf & Levina, "The Expressive Leaky Memory
Neuron", ICLR 2024; Branch-ELM), for an input ``x_t`` of ``d_in`` synapses grouped into ``n_b``
equal, contiguous branches, ``n_b`` branch traces ``b``, ``d_m`` memory units ``m`` and ``d_out``
outputs::

    b_t = k_b * b_{t-1} + sum over the synapses s of each branch of w_s * x_t[s]
    z_t = [b_t, k_m * m_{t-1}]
    m_t = k_m * m_{t-1} + (1 - k_lambda) * (W_2 relu(W_1 z_t + c_1) + c_2)
    y_t = W_y m_t + c_y

(the MLP's output layer is linear here). :func:`reference` is this forward pass in float64.

**Weights.** The parameter ``weights`` is a PyTorch ``state_dict``-like mapping of arrays
(anything :func:`numpy.asarray` takes: lists, NumPy arrays, CPU tensors) or the path of an
``.npz`` file holding them (:func:`numpy.savez` of such a mapping), with exactly these keys:

==================  ==================  =======================================
key                 shape               meaning
==================  ==================  =======================================
``w_s``             ``(d_in,)``         synaptic weights
``k_b``             ``(n_b,)``          branch decay factors, in ``[0, 1)``
``k_m``             ``(d_m,)``          memory decay factors, in ``[0, 1)``
``k_lambda``        ``(d_m,)``          memory update gate, in ``[0, 1]``
``mlp.0.weight``    ``(d_h, n_b+d_m)``  ``W_1``
``mlp.0.bias``      ``(d_h,)``          ``c_1``
``mlp.2.weight``    ``(d_m, d_h)``      ``W_2``
``mlp.2.bias``      ``(d_m,)``          ``c_2``
``w_y.weight``      ``(d_out, d_m)``    ``W_y``
``w_y.bias``        ``(d_out,)``        ``c_y``
==================  ==================  =======================================

``n_b``, ``d_m``, ``d_h`` and ``d_out`` are taken from ``k_b``, ``k_m``, ``mlp.0.bias`` and
``w_y.bias``; every other shape must agree. The component holds them as an
:class:`ELMWeights`: read-only float64 copies with value equality and a hash (so an ``elm``
is a frozen, hashable parameter set like any other component; equal weights from a dict and
from an ``.npz`` give equal components). A missing or unknown key, a wrong shape, a decay
outside its range, a value that is not a finite real, and (with ``fraction`` and
``state_width``) a weight that does not fit, each raise ``ValueError``/``TypeError`` naming the
key, the rule and the value. The default weights are :data:`DEFAULT_WEIGHTS`, a small
hand-written set (4 synapses in 2 branches, ``d_m = 2``, ``d_h = 3``, one output), so that
every generic tool (conformance, co-simulation, ``neurogate info elm``) works on ``elm``;
:func:`random_weights` draws well-scaled ones of any size.

**Fixed point.** Every weight, decay, input, trace and memory value is a raw signed integer
with ``fraction`` (default 12) fraction bits; a product is exact and then floored by
``fraction`` bits (``>>``), a dot product sums exact products and shifts once. The decays and
``1 - k_lambda`` are rounded once. ``b`` and ``m`` saturate to signed ``state_width`` (default
24) bits, ``y`` is not saturated (its port is as wide as its range). The raw update, with
``P(a, b) = (a * b) >> F``::

    b = sat(P(k_b, b) + (sum_branch(w_s * x) >> F))
    km = P(k_m, m)
    h = max(0, ((W_1 @ [b, km]) >> F) + c_1)
    m = sat(km + P(1 - k_lambda, ((W_2 @ h) >> F) + c_2))
    y = ((W_y @ m) >> F) + c_y
    spike = y[0] >= round(y_threshold * 2**F)

Every sum is exact: construction refuses weights whose worst-case sums would leave 64 bits
(the NumPy model is ``int64``). :meth:`ELMNeuron.step_arrays` is the one NumPy definition of
this update, used by the component's model and by :class:`ELM`.

**Spike.** ELM has no spike of its own; the component reads ``y[0]`` as a spike logit (in the
paper's NeuronIO task the first output predicts the somatic spike) and fires when ``y[0] >=
y_threshold`` (default 0: probability 1/2). The ``y`` values are state fields, so every output
is observable whatever the rule.

**The component** ``elm`` (:class:`ELMNeuron`, a :class:`~neurogate.core.neuron.NeuronKernel`)
has one input port per synapse, ``x0 .. x{d_in-1}`` (signed ``x_width`` bits, default
``state_width``, raw with ``fraction`` fraction bits), and the state fields ``b0 ..
b{n_b-1}``, ``m0 .. m{d_m-1}`` (signed ``state_width``) and ``y0 .. y{d_out-1}`` (signed, as
wide as the outputs' range; they do not feed back). So it runs in both wrappers of the kernel
contract, bit-true to the same model:

* **parallel** (``ng.component("elm", ...).create()``): one neuron, every product of the step
  in its own hardware, one step per clock (latency 1). The weights are constants of the
  design: each product is built from shifts and adds of the weight's signed digits (as
  ``izhikevich`` and ``adex`` do), every partial sum a kept signal of its proven range, so no
  DSP block is used, a zero weight costs nothing and a saturation that cannot happen is not
  built. Area grows with the number of nonzero weights times their signed digits; the path is
  the whole step (synapse sums, ``W_1``, ``W_2``, gate, ``W_y``) in series, so the clock is low.
* **time-multiplexed core** (:class:`~neurogate.gateware.neuron_core.NeuronCore` of this
  kernel): the same datapath shared by ``n_neurons`` neurons of equal weights, their state and
  inputs in block RAM; ``n_neurons + 4 + stages`` cycles per step. ``stages`` (0..3) is the
  number of pipeline cuts of the update in the core (:meth:`NeuronKernel.stage
  <neurogate.core.neuron.NeuronKernel.stage>`): 1 cuts after ``h``; 2 after the new ``b`` and
  ``km`` and after ``m``; 3 at all three. Cuts raise the core's clock and change neither the
  model nor the parallel neuron.
* **one MAC** (:class:`ELMGateware`, from :meth:`ELMNeuron.create_mac`, also
  :meth:`ELM.gateware`): one neuron on one multiplier, one product per clock: a step takes
  :attr:`ELMGateware.cycles_per_step` cycles (the number of nonzero products plus one per
  empty dot product: ``d_in + n_b + 2 d_m + d_h (n_b + d_m) + d_m d_h + d_out d_m`` with no
  zero weight) and about the area of one multiplier, one accumulator, the operand registers
  (and their multiplexer) and a program ROM (a synchronous read: block RAM once it is large),
  whatever the network's size. It is not a registered component (it is a sequencer with
  ``start`` / ``busy`` / ``done``, not one step per clock).

Use the parallel neuron (or a core of them) when the network is small (tens of products) or
throughput matters; use :class:`ELMGateware` when one large network (hundreds of products:
``d_h (n_b + d_m)`` grows quickly) must fit a small FPGA and ``cycles_per_step`` clocks per
step are affordable. See benchmarks/README.md (``elm``) for measured area and Fmax.

**ELMGateware** runs one step per ``start`` strobe: a program of ``cycles_per_step``
instructions, one multiply-add per clock, in this order: ``k_b * b`` of each branch, then the
branch's synapses ``w_s * x`` (the new ``b``), ``k_m * m`` of each memory unit, the ``d_h`` rows
of ``W_1 [b, km]`` (``h``), then for each memory unit the row of ``W_2 h`` followed by ``(1 -
k_lambda) * that`` (the new ``m``), then the rows of ``W_y m`` (``y``). An instruction is a
weight (a constant, from a ROM read one cycle ahead) times an operand register (``x``, ``b``,
``km``, ``m``, ``h`` or a temporary) added to an exact accumulator; the last instruction of a dot
product shifts the sum, applies its bias / ReLU / saturation and writes the destination
register, which the next instruction may already read. ``x0 ..`` are sampled while ``busy`` is
low and ``start`` is strobed; ``busy`` is high for the ``cycles_per_step`` cycles of the step,
``done`` for one cycle after, when ``y*``, ``b*``, ``m*`` and ``spike`` hold the step's values
(until the next step). Register widths follow from the proven ranges of their values.

>>> import numpy as np
>>> import neurogate as ng
>>> from neurogate.plugins.neurons.elm import random_weights
>>> w = random_weights(np.random.default_rng(0), d_in=8, n_b=4, d_m=3, d_h=5, d_out=2)
>>> neuron = ng.component("elm", weights=w)
>>> sorted(neuron.inputs)[:3], sorted(neuron.state_fields())[:3]
(['x0', 'x1', 'x2'], ['b0', 'b1', 'b2'])
>>> out = neuron.model(3).run({f"x{i}": np.full((5, 3), 4096) for i in range(8)})
>>> out["y0"].shape, out["spike"][:, 0].tolist()
((5, 3), [1, 1, 1, 1, 1])
"""

from __future__ import annotations

import functools
import hashlib
import os
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from neurogate.core.component import Int, Optional, Param, Port
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel
from neurogate.plugins.neurons.adex import Real
from neurogate.plugins.neurons.izhikevich import _mul_const, _wire

__all__ = [
    "DEFAULT_WEIGHTS",
    "ELM",
    "ELMGateware",
    "ELMNeuron",
    "ELMWeights",
    "check_weights",
    "random_weights",
    "reference",
]

KEYS = (
    "w_s", "k_b", "k_m", "k_lambda", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight",
    "mlp.2.bias", "w_y.weight", "w_y.bias",
)  # fmt: skip

#: The default weights of ``elm``: 4 synapses in 2 branches, ``d_m = 2``, ``d_h = 3``, one
#: output; dyadic values, so exact in fixed point.
DEFAULT_WEIGHTS = {
    "w_s": [0.5, -0.25, 0.75, 0.375],
    "k_b": [0.75, 0.5],
    "k_m": [0.9375, 0.875],
    "k_lambda": [0.75, 0.5],
    "mlp.0.weight": [[0.5, -0.25, 0.25, 0.0], [-0.375, 0.5, 0.0, 0.25], [0.25, 0.25, -0.5, 0.5]],
    "mlp.0.bias": [0.0, 0.125, -0.125],
    "mlp.2.weight": [[0.5, -0.25, 0.25], [0.25, 0.5, -0.5]],
    "mlp.2.bias": [0.0, 0.0625],
    "w_y.weight": [[1.0, -0.5]],
    "w_y.bias": [-0.25],
}

_VECTORS = ("k_b", "k_m", "mlp.0.bias", "w_y.bias")  # their lengths give n_b, d_m, d_h, d_out


# -- weights --------------------------------------------------------------------------------
def _load(where: str, value) -> Mapping:
    """Return ``value`` as a mapping of arrays (an ``.npz`` path is loaded); raise else."""
    what = "a mapping of arrays (a state_dict) or the path of an .npz file"
    if isinstance(value, str | os.PathLike):
        try:
            loaded = np.load(os.fspath(value), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{where} must be {what}, not {value!r} ({exc})") from None
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError(f"{where} must be {what}, not {value!r} (not an .npz archive)")
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} must be {what}, not {reprlib.repr(value)}")
    return value


def _checked(where: str, weights) -> dict[str, np.ndarray]:
    """Return the weights as float64 arrays in :data:`KEYS` order, checked; raise else."""
    weights = _load(where, weights)
    unknown = [key for key in weights if key not in KEYS]
    if unknown:
        raise ValueError(f"{where} must have only the keys {', '.join(KEYS)}, not {unknown[0]!r}")
    out = {}
    for key in KEYS:
        if key not in weights:
            raise ValueError(f"{where} must have the keys {', '.join(KEYS)}; {key!r} is missing")
        name = f"{where}[{key!r}]"
        try:
            arr = np.asarray(weights[key])
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"{name} must be an array of real numbers, not {reprlib.repr(weights[key])}"
            ) from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be an array of real numbers, not dtype {arr.dtype}")
        arr = arr.astype(np.float64)  # a copy
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite, not {float(arr[~np.isfinite(arr)][0])!r}")
        arr.setflags(write=False)
        out[key] = arr
    for key in ("w_s", *_VECTORS):
        if out[key].ndim != 1 or not out[key].size:
            raise ValueError(
                f"{where}[{key!r}] must be a non-empty 1-D array, not of shape {out[key].shape}"
            )
    n_b, d_m, d_h, d_out = (len(out[key]) for key in _VECTORS)
    d_in = len(out["w_s"])
    if d_in % n_b:
        raise ValueError(
            f"{where}['w_s'] must have a multiple of {n_b} synapses (one group per branch of "
            f"'k_b'), not {d_in}"
        )
    expected = {
        "k_lambda": (d_m,),
        "mlp.0.weight": (d_h, n_b + d_m),
        "mlp.2.weight": (d_m, d_h),
        "mlp.2.bias": (d_m,),
        "w_y.weight": (d_out, d_m),
    }
    for key, shape in expected.items():
        if out[key].shape != shape:
            raise ValueError(f"{where}[{key!r}] must have shape {shape}, not {out[key].shape}")
    for key, closed in (("k_b", False), ("k_m", False), ("k_lambda", True)):
        value = out[key]
        bad = (value < 0) | ((value > 1) if closed else (value >= 1))
        if bad.any():
            span = "[0, 1]" if closed else "[0, 1)"
            raise ValueError(f"{where}[{key!r}] must be in {span}, not {float(value[bad][0])!r}")
    return out


class ELMWeights(Mapping):
    """The weights of an ``elm`` neuron, checked: a read-only ``{key: float64 array}`` mapping.

    Built from a ``state_dict``-like mapping or an ``.npz`` path (see the module docstring;
    a bad one raises ``ValueError``/``TypeError`` naming ``where``, the key and the rule). It
    compares by value and hashes, so it can be a component parameter; ``repr`` shows the
    dimensions and a digest, not the values. ``numpy.savez(path, **weights)`` writes it back.
    """

    __slots__ = ("_arrays", "_digest")

    def __init__(self, weights, where: str = "elm.weights"):
        arrays = _checked(where, weights)
        digest = hashlib.blake2b(digest_size=8)
        for key, arr in arrays.items():
            digest.update(f"{key}{arr.shape}".encode() + arr.tobytes())
        self._arrays = arrays
        self._digest = digest.hexdigest()

    def __getitem__(self, key) -> np.ndarray:
        return self._arrays[key]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def dims(self) -> dict[str, int]:
        """``{"d_in", "n_b", "d_m", "d_h", "d_out"}``: the sizes the weights imply."""
        a = self._arrays
        return {"d_in": len(a["w_s"]), "n_b": len(a["k_b"]), "d_m": len(a["k_m"]),
                "d_h": len(a["mlp.0.bias"]), "d_out": len(a["w_y.bias"])}  # fmt: skip

    def __eq__(self, other):
        if not isinstance(other, ELMWeights):
            return NotImplemented
        return self._digest == other._digest and all(
            np.array_equal(a, other._arrays[k]) for k, a in self._arrays.items()
        )

    def __hash__(self):
        return hash(self._digest)

    def __repr__(self):
        dims = ", ".join(f"{k}={v}" for k, v in self.dims.items())
        return f"ELMWeights({dims}, blake2b {self._digest})"


def check_weights(weights) -> ELMWeights:
    """Return the weights checked (see the module docstring) as :class:`ELMWeights`; raise else."""
    return weights if isinstance(weights, ELMWeights) else ELMWeights(weights)


def _weights_rule(where: str, value) -> ELMWeights:
    return value if isinstance(value, ELMWeights) else ELMWeights(value, where)


def random_weights(rng, d_in=16, n_b=4, d_m=8, d_h=16, d_out=1) -> dict:
    """Return a random, well-scaled weight dict (for tests and benchmarks)."""
    return {
        "w_s": rng.normal(0, 0.5, d_in),
        "k_b": rng.uniform(0.5, 0.95, n_b),
        "k_m": rng.uniform(0.8, 0.99, d_m),
        "k_lambda": rng.uniform(0.0, 0.9, d_m),
        "mlp.0.weight": rng.normal(0, 0.5 / np.sqrt(n_b + d_m), (d_h, n_b + d_m)),
        "mlp.0.bias": rng.normal(0, 0.1, d_h),
        "mlp.2.weight": rng.normal(0, 0.3 / np.sqrt(d_h), (d_m, d_h)),
        "mlp.2.bias": rng.normal(0, 0.1, d_m),
        "w_y.weight": rng.normal(0, 1 / np.sqrt(d_m), (d_out, d_m)),
        "w_y.bias": rng.normal(0, 0.1, d_out),
    }


def reference(weights, x) -> dict:
    """Float64 forward pass of the equations: ``x`` is ``(steps, d_in)``; returns b, m, y."""
    w = check_weights(weights)
    x = np.asarray(x, dtype=np.float64)
    n_b, d_m = len(w["k_b"]), len(w["k_m"])
    b, m = np.zeros(n_b), np.zeros(d_m)
    out = {"b": [], "m": [], "y": []}
    for xt in x:
        b = w["k_b"] * b + (w["w_s"] * xt).reshape(n_b, -1).sum(axis=1)
        km = w["k_m"] * m
        h = np.maximum(0, w["mlp.0.weight"] @ np.concatenate([b, km]) + w["mlp.0.bias"])
        m = km + (1 - w["k_lambda"]) * (w["mlp.2.weight"] @ h + w["mlp.2.bias"])
        out["b"].append(b)
        out["m"].append(m)
        out["y"].append(w["w_y.weight"] @ m + w["w_y.bias"])
    return {key: np.array(value) for key, value in out.items()}


# -- quantisation and ranges ----------------------------------------------------------------
def _bits(bound: int) -> int:
    """Bits of a signed value within ``-bound .. bound``."""
    return max(int(bound).bit_length() + 1, 2)


def _signed_bits(lo: int, hi: int) -> int:
    """Bits of a signed value within ``lo .. hi``."""
    return max(_bits(-lo - 1) if lo < 0 else 1, _bits(hi))


def _dot(weights, ranges):
    """Return ``(lo, hi, mag)`` of an exact dot product of ints with operands in ``ranges``.

    ``lo .. hi`` is the range of the sum, ``mag`` a bound of any partial sum's magnitude.
    """
    lo = hi = mag = 0
    for w, (a, b) in zip(weights, ranges, strict=True):
        w = int(w)
        lo += min(w * a, w * b)
        hi += max(w * a, w * b)
        mag += abs(w) * max(abs(a), abs(b))
    return lo, hi, mag


def _clip(rng, lo, hi):
    return min(max(rng[0], lo), hi), max(min(rng[1], hi), lo)


@dataclass(frozen=True)
class _Fixed:
    """The raw integers of a parameter set and the proven range of every value of the step."""

    fraction: int
    state_width: int
    x_width: int
    raw: dict  # key -> read-only int64 array, plus "1-k_lambda"
    threshold: int  # raw y_threshold, clamped to the range of y0 (plus one)
    ranges: dict  # name -> list of (lo, hi), one per element
    acc_mag: int  # bound of every exact sum (and partial sum) of the step
    widest: str  # what needs acc_mag

    @property
    def dims(self) -> tuple[int, int, int, int, int]:
        r = self.raw
        return (len(r["w_s"]), len(r["k_b"]), len(r["k_m"]), len(r["mlp.0.bias"]),
                len(r["w_y.bias"]))  # fmt: skip

    @property
    def state_range(self) -> tuple[int, int]:
        top = 1 << (self.state_width - 1)
        return -top, top - 1

    @property
    def y_width(self) -> int:
        return _signed_bits(
            min(r[0] for r in self.ranges["y"]), max(r[1] for r in self.ranges["y"])
        )


@functools.lru_cache(maxsize=64)
def _fixed(weights: ELMWeights, fraction: int, state_width: int, x_width: int, y_threshold):
    """Quantise ``weights`` and prove the ranges (see :class:`_Fixed`); raise if they do not fit."""
    f = fraction
    one = 1 << f
    top = 1 << (state_width - 1)
    raw = {}
    for key in KEYS:
        raw[key] = np.round(weights[key] * one).astype(np.int64)
    raw["1-k_lambda"] = np.round((1 - weights["k_lambda"]) * one).astype(np.int64)
    for key, value in raw.items():
        big = int(np.abs(value).argmax(axis=None))
        if abs(int(value.flat[big])) > top - 1:
            real = weights[key] if key in weights else 1 - weights["k_lambda"]
            name = "1 - elm.weights['k_lambda']" if key == "1-k_lambda" else f"elm.weights[{key!r}]"
            raise ValueError(
                f"{name} must fit signed {state_width} bits with {f} fraction bits, not "
                f"{float(real.flat[big])!r}"
            )
        value.setflags(write=False)
    d_in, n_b, d_m = len(raw["w_s"]), len(raw["k_b"]), len(raw["k_m"])
    per = d_in // n_b
    s = (-top, top - 1)
    xr = (-(1 << (x_width - 1)), (1 << (x_width - 1)) - 1)
    mags = {}
    ranges = {"x": [xr] * d_in}

    def dot(what, weights, operands):
        lo, hi, mag = _dot(weights, operands)
        mags[what] = max(mags.get(what, 0), mag, abs(lo), abs(hi))
        return lo >> f, hi >> f

    ranges["b"] = []
    for k in range(n_b):
        kb = dot("k_b * b", [raw["k_b"][k]], [s])
        syn = dot("w_s * x", raw["w_s"][k * per : (k + 1) * per], [xr] * per)
        ranges["b"].append(_clip((kb[0] + syn[0], kb[1] + syn[1]), *s))
    ranges["km"] = [dot("k_m * m", [raw["k_m"][j]], [s]) for j in range(d_m)]
    z = ranges["b"] + ranges["km"]
    ranges["h"] = []
    for i, row in enumerate(raw["mlp.0.weight"]):
        lo, hi = dot("W_1 [b, km]", row, z)
        c = int(raw["mlp.0.bias"][i])
        ranges["h"].append((max(0, lo + c), max(0, hi + c)))
    ranges["t"], ranges["m"] = [], []
    for j, row in enumerate(raw["mlp.2.weight"]):
        lo, hi = dot("W_2 h", row, ranges["h"])
        c = int(raw["mlp.2.bias"][j])
        ranges["t"].append((lo + c, hi + c))
        u = dot("(1 - k_lambda) * t", [raw["1-k_lambda"][j]], [ranges["t"][-1]])
        km = ranges["km"][j]
        ranges["m"].append(_clip((km[0] + u[0], km[1] + u[1]), *s))
    ranges["y"] = []
    for o, row in enumerate(raw["w_y.weight"]):
        lo, hi = dot("W_y m", row, ranges["m"])
        c = int(raw["w_y.bias"][o])
        ranges["y"].append((lo + c, hi + c))
    widest = max(mags, key=mags.get)
    if _bits(mags[widest]) > 64:
        raise ValueError(
            f"elm.weights must keep every sum of the step within 64 bits (the model is int64) "
            f"with state_width={state_width}, x_width={x_width} and fraction={f}, not need "
            f"{_bits(mags[widest])} bits (in {widest})"
        )
    y0 = ranges["y"][0]
    threshold = min(max(round(y_threshold * one), y0[0]), y0[1] + 1)
    return _Fixed(f, state_width, x_width, raw, threshold, ranges, mags[widest], widest)


# -- the component --------------------------------------------------------------------------
def _clamp_hdl(m, name, value, lo, hi, to_lo, to_hi):
    """Saturate ``value`` (within ``lo .. hi``) to ``to_lo .. to_hi``; only the sides needed."""
    if lo < to_lo:
        value = Mux(value < to_lo, to_lo, value)
    if hi > to_hi:
        value = Mux(value > to_hi, to_hi, value)
    lo, hi = _clip((lo, hi), to_lo, to_hi)
    return _wire(m, name, value, lo, hi), lo, hi


def _dot_hdl(m, name, weights, operands):
    """Return ``(sum, lo, hi)`` of constant ``weights`` times ``(value, lo, hi)`` operands.

    Each product is shifts and adds (zero weights are left out); the sum a balanced tree of
    kept signals of their ranges.
    """
    nodes = []
    for j, (w, (value, lo, hi)) in enumerate(zip(weights, operands, strict=True)):
        if int(w):
            nodes.append(_mul_const(m, f"{name}_{j}", value, lo, hi, int(w)))
    if not nodes:
        return Const(0), 0, 0
    level = 0
    while len(nodes) > 1:
        level += 1
        pairs = []
        for k in range(0, len(nodes) - 1, 2):
            (a, alo, ahi), (b, blo, bhi) = nodes[k], nodes[k + 1]
            lo, hi = alo + blo, ahi + bhi
            pairs.append((_wire(m, f"{name}_s{level}_{k // 2}", a + b, lo, hi), lo, hi))
        nodes = pairs + nodes[len(nodes) - len(nodes) % 2 :]
    return nodes[0]


#: Pipeline cuts by ``stages``: 1 after the new ``b`` and ``km``, 2 after ``h``, 3 after ``m``.
_CUTS = {0: (), 1: (2,), 2: (1, 3), 3: (1, 2, 3)}


class ELMNeuron(NeuronKernel):
    """Branch-ELM v2 neuron as a neuron kernel (see the module docstring).

    Members
    -------
    x0 .. x{d_in-1} : in, signed x_width
        The raw input of each synapse (``fraction`` fraction bits).
    spike : out, 1
        1 on the step ``y0 >= y_threshold``; registered.
    b0 .. b{n_b-1} : out, signed state_width
        Branch traces after the step; registered.
    m0 .. m{d_m-1} : out, signed state_width
        Memory units after the step; registered.
    y0 .. y{d_out-1} : out, signed (the range of the outputs)
        Outputs of the step; registered.
    """

    name = "elm"

    weights = Param(
        ELMWeights(DEFAULT_WEIGHTS),
        _weights_rule,
        "weights: a state_dict-like mapping of arrays or an .npz path (default: a small set)",
    )
    fraction = Param(12, Int(1, 20), "fraction bits of every raw value")
    state_width = Param(24, Int(8, 48), "bits of the saturating branch traces b and memory m")
    x_width = Param(None, Optional(Int(2, 48)), "bits of each input x (default: state_width)")
    y_threshold = Param(0.0, Real(), "spike when y0 >= y_threshold (y0 as a spike logit)")
    stages = Param(0, Int(0, 3), "pipeline cuts of the update in a NeuronCore (0..3)")

    def validate(self):
        _ = self.fixed  # quantise and prove the ranges now: raises if the weights do not fit

    @property
    def fixed(self) -> _Fixed:
        """The raw integers and proven ranges of this parameter set."""
        x_width = self.x_width if self.x_width is not None else self.state_width
        return _fixed(self.weights, self.fraction, self.state_width, x_width, self.y_threshold)

    @property
    def pipeline_stages(self) -> int:
        return self.stages

    @property
    def raw(self) -> dict:
        """``{key: int64 array}``: the raw weights (``fraction`` fraction bits), and
        ``"1-k_lambda"``."""
        return self.fixed.raw

    def state_fields(self):
        fx = self.fixed
        _, n_b, d_m, _, d_out = fx.dims
        sw = self.state_width
        fields = {f"b{k}": Port("out", sw, True, f"branch trace {k}") for k in range(n_b)}
        fields.update({f"m{j}": Port("out", sw, True, f"memory unit {j}") for j in range(d_m)})
        fields.update({f"y{o}": Port("out", fx.y_width, True, f"output {o}") for o in range(d_out)})
        return fields

    def input_ports(self):
        fx = self.fixed
        return {f"x{i}": Port("in", fx.x_width, True, f"input of synapse {i}")
                for i in range(fx.dims[0])}  # fmt: skip

    def step_arrays(self, b, m, x):
        """Return the new ``(b, m, y)`` of ``n`` neurons: the one NumPy definition of the step.

        ``b`` is ``(n, n_b)``, ``m`` ``(n, d_m)``, ``x`` ``(n, d_in)``, raw ``int64``; the
        results are ``(n, n_b)``, ``(n, d_m)``, ``(n, d_out)``.
        """
        fx = self.fixed
        r, f = fx.raw, fx.fraction
        lo, hi = fx.state_range
        _, n_b, _, _, _ = fx.dims
        n = x.shape[0]
        syn = (x * r["w_s"]).reshape(n, n_b, -1).sum(axis=2)
        b = np.clip(((r["k_b"] * b) >> f) + (syn >> f), lo, hi)
        km = (r["k_m"] * m) >> f
        z = np.concatenate([b, km], axis=1)
        h = np.maximum(0, ((z @ r["mlp.0.weight"].T) >> f) + r["mlp.0.bias"])
        t = ((h @ r["mlp.2.weight"].T) >> f) + r["mlp.2.bias"]
        m = np.clip(km + ((r["1-k_lambda"] * t) >> f), lo, hi)
        y = ((m @ r["w_y.weight"].T) >> f) + r["w_y.bias"]
        return b, m, y

    def update_np(self, state, inputs):
        d_in, n_b, d_m, _, d_out = self.fixed.dims

        def stack(prefix, count, source):
            return np.stack([np.asarray(source[f"{prefix}{i}"], dtype=np.int64)
                             for i in range(count)], axis=1)  # fmt: skip

        b, m, y = self.step_arrays(stack("b", n_b, state), stack("m", d_m, state),
                                   stack("x", d_in, inputs))  # fmt: skip
        out = {f"b{k}": b[:, k] for k in range(n_b)}
        out.update({f"m{j}": m[:, j] for j in range(d_m)})
        out.update({f"y{o}": y[:, o] for o in range(d_out)})
        return out, y[:, 0] >= self.fixed.threshold

    def update_hdl(self, m, state, inputs):
        fx = self.fixed
        r, f = fx.raw, fx.fraction
        d_in, n_b, d_m, _, _ = fx.dims
        per = d_in // n_b
        lo, hi = fx.state_range
        cuts = _CUTS[self.stages]

        def cut(point, live):
            """Pass ``{name: (value, lo, hi)}`` through pipeline cut ``point`` if it is made."""
            if point not in cuts:
                return live
            got = self.stage(m, {key: value for key, (value, _, _) in live.items()})
            return {key: (got[key], vlo, vhi) for key, (_, vlo, vhi) in live.items()}

        xs = [(inputs[f"x{i}"], *fx.ranges["x"][i]) for i in range(d_in)]
        live = {}
        for k in range(n_b):
            kb, kb_lo, kb_hi = _dot_hdl(m, f"elm_kb{k}", [r["k_b"][k]], [(state[f"b{k}"], lo, hi)])
            syn, s_lo, s_hi = _dot_hdl(m, f"elm_syn{k}", r["w_s"][k * per : (k + 1) * per],
                                       xs[k * per : (k + 1) * per])  # fmt: skip
            value = (kb >> f) + (syn >> f)
            live[f"b{k}"] = _clamp_hdl(m, f"elm_b{k}", value, (kb_lo >> f) + (s_lo >> f),
                                       (kb_hi >> f) + (s_hi >> f), lo, hi)  # fmt: skip
        for j in range(d_m):
            km, km_lo, km_hi = _dot_hdl(m, f"elm_km{j}", [r["k_m"][j]], [(state[f"m{j}"], lo, hi)])
            live[f"km{j}"] = (_wire(m, f"elm_km{j}", km >> f, km_lo >> f, km_hi >> f),
                              km_lo >> f, km_hi >> f)  # fmt: skip
        live = cut(1, live)
        z = [live[f"b{k}"] for k in range(n_b)] + [live[f"km{j}"] for j in range(d_m)]
        for i, row in enumerate(r["mlp.0.weight"]):
            acc, a_lo, a_hi = _dot_hdl(m, f"elm_w1_{i}", row, z)
            c = int(r["mlp.0.bias"][i])
            pre, p_lo, p_hi = (acc >> f) + c, (a_lo >> f) + c, (a_hi >> f) + c
            value = pre if p_lo >= 0 else Mux(pre < 0, 0, pre)
            live[f"h{i}"] = (_wire(m, f"elm_h{i}", value, max(0, p_lo), max(0, p_hi)),
                             max(0, p_lo), max(0, p_hi))  # fmt: skip
        live = cut(2, live)
        hs = [live[f"h{i}"] for i in range(len(r["mlp.0.bias"]))]
        after = {f"b{k}": live[f"b{k}"] for k in range(n_b)}
        for j, row in enumerate(r["mlp.2.weight"]):
            acc, a_lo, a_hi = _dot_hdl(m, f"elm_w2_{j}", row, hs)
            c = int(r["mlp.2.bias"][j])
            t = (_wire(m, f"elm_t{j}", (acc >> f) + c, (a_lo >> f) + c, (a_hi >> f) + c),
                 (a_lo >> f) + c, (a_hi >> f) + c)  # fmt: skip
            u, u_lo, u_hi = _dot_hdl(m, f"elm_u{j}", [r["1-k_lambda"][j]], [t])
            km, km_lo, km_hi = live[f"km{j}"]
            after[f"m{j}"] = _clamp_hdl(m, f"elm_m{j}", km + (u >> f), km_lo + (u_lo >> f),
                                        km_hi + (u_hi >> f), lo, hi)  # fmt: skip
        live = cut(3, after)
        out = {key: value for key, (value, _, _) in live.items()}
        ms = [live[f"m{j}"] for j in range(d_m)]
        for o, row in enumerate(r["w_y.weight"]):
            acc, _, _ = _dot_hdl(m, f"elm_wy{o}", row, ms)
            out[f"y{o}"] = (acc >> f) + int(r["w_y.bias"][o])
        return out, out["y0"] >= fx.threshold

    def create_mac(self) -> ELMGateware:
        """Return the one-MAC, time-multiplexed gateware of this neuron (:class:`ELMGateware`)."""
        return ELMGateware(self)


class ELM:
    """One fixed-point Branch-ELM v2 neuron stepped in NumPy (a thin wrapper of
    :class:`ELMNeuron`, whose :meth:`~ELMNeuron.step_arrays` it runs).

    Parameters
    ----------
    weights : mapping or path
        The ``state_dict``-like weights (or an ``.npz`` path).
    fraction : int
        Fraction bits of every raw value (1..20).
    state_width : int
        Bits of the saturating ``b`` and ``m`` (8..48); raw inputs have as many.
    """

    def __init__(self, weights, fraction: int = 12, state_width: int = 24):
        self.kernel = ELMNeuron(weights=weights, fraction=fraction, state_width=state_width)
        self.fraction, self.state_width = fraction, state_width
        self.weights = self.kernel.weights
        self.raw = self.kernel.raw
        _, self.n_b, self.d_m, _, _ = self.kernel.fixed.dims
        self.reset()

    def reset(self) -> None:
        """Zero the branch traces and the memory."""
        self.b = np.zeros(self.n_b, dtype=np.int64)
        self.m = np.zeros(self.d_m, dtype=np.int64)

    def step(self, x_raw):
        """One step for a raw input ``x_raw`` (``(d_in,)`` ints); returns raw ``y``."""
        x = np.asarray(x_raw, dtype=np.int64)
        xr = self.kernel.fixed.ranges["x"][0]
        if x.size and (x.min() < xr[0] or x.max() > xr[1]):
            bad = x[(x < xr[0]) | (x > xr[1])][0]
            raise ValueError(f"elm input must fit signed {self.state_width} bits, not {int(bad)}")
        b, m, y = self.kernel.step_arrays(self.b[None], self.m[None], x[None])
        self.b, self.m = b[0], m[0]
        return y[0]

    def run(self, x, raw: bool = False) -> dict:
        """Run ``x`` (``(steps, d_in)``, real unless ``raw``); return the raw b, m, y."""
        x = np.asarray(x)
        if not raw:
            x = np.round(x * (1 << self.fraction)).astype(np.int64)
        out = {"b": [], "m": [], "y": []}
        for xt in x:
            y = self.step(xt)
            out["b"].append(self.b.copy())
            out["m"].append(self.m.copy())
            out["y"].append(y)
        return {key: np.array(value, dtype=np.int64) for key, value in out.items()}

    def gateware(self) -> ELMGateware:
        """Return the one-MAC gateware of this neuron (:class:`ELMGateware`)."""
        return ELMGateware(self.kernel)


# -- one MAC, time-multiplexed --------------------------------------------------------------
# post operations of the last instruction of a dot product
_T, _B, _KM, _H, _TB, _M, _Y = range(7)


class ELMGateware(wiring.Component):
    """One ``elm`` neuron on one MAC datapath, one step per ``start`` (see the module docstring).

    Parameters
    ----------
    neuron : ELMNeuron or ELM
        The neuron (weights, widths, threshold).

    Members
    -------
    x0 .. x{d_in-1} : in, signed x_width
        The raw inputs of the step, sampled with ``start``.
    start : in, 1
        Strobe: run one step (ignored while ``busy``).
    busy : out, 1
        High while the step runs.
    done : out, 1
        High for one cycle when the outputs below hold the step's values.
    spike : out, 1
        ``y0 >= y_threshold`` of the last step.
    b0 .., m0 .., y0 .. : out, signed
        The branch traces, memory and outputs (the widths of :class:`ELMNeuron`'s ports).
    """

    def __init__(self, neuron):
        kernel = neuron.kernel if isinstance(neuron, ELM) else neuron
        self.kernel = kernel
        fx = kernel.fixed
        r = fx.raw
        d_in, n_b, d_m, d_h, d_out = fx.dims
        s = fx.state_range
        rng = fx.ranges
        t_ranges = rng["t"] + [
            ((a >> fx.fraction), (b >> fx.fraction))
            for a, b in (sorted((int(k) * s[0], int(k) * s[1])) for k in r["k_b"])
        ]
        op_ranges = [*rng["x"], s, *rng["km"], *rng["h"], *t_ranges]
        self.op_width = max(_signed_bits(lo, hi) for lo, hi in op_ranges)
        # operand registers: x, b, km, m, h, t
        base = {"x": 0, "b": d_in, "km": d_in + n_b, "m": d_in + n_b + d_m}
        base["h"] = base["m"] + d_m
        base["t"] = base["h"] + d_h
        self.n_operands = base["t"] + 1
        prog = []  # (weight, operand, last, post, target, bias)
        mags = [0]

        def dot(weights, operands, ranges, post, target, bias=0):
            pairs = [(int(w), o, rg) for w, o, rg in zip(weights, operands, ranges, strict=True)]
            mags.append(_dot([w for w, _, _ in pairs], [rg for _, _, rg in pairs])[2])
            pairs = [p for p in pairs if p[0]] or pairs[:1]  # zero weights cost no cycle
            for k, (w, o, _) in enumerate(pairs):
                last = k == len(pairs) - 1
                prog.append((w, o, int(last), post if last else 0, target if last else 0,
                             bias if last else 0))  # fmt: skip

        per = d_in // n_b
        for k in range(n_b):
            dot([r["k_b"][k]], [base["b"] + k], [s], _T, 0)
            span = range(k * per, (k + 1) * per)
            dot(r["w_s"][k * per : (k + 1) * per], span, [rng["x"][i] for i in span], _B, k)
        for j in range(d_m):
            dot([r["k_m"][j]], [base["m"] + j], [s], _KM, j)
        z = [base["b"] + k for k in range(n_b)] + [base["km"] + j for j in range(d_m)]
        for i in range(d_h):
            dot(r["mlp.0.weight"][i], z, rng["b"] + rng["km"], _H, i, int(r["mlp.0.bias"][i]))
        for j in range(d_m):
            dot(r["mlp.2.weight"][j], [base["h"] + i for i in range(d_h)], rng["h"], _TB, 0,
                int(r["mlp.2.bias"][j]))  # fmt: skip
            dot([r["1-k_lambda"][j]], [base["t"]], [rng["t"][j]], _M, j)
        for o in range(d_out):
            dot(r["w_y.weight"][o], [base["m"] + j for j in range(d_m)], rng["m"], _Y, o,
                int(r["w_y.bias"][o]))  # fmt: skip
        self.program = prog
        self.acc_width = _bits(max(mags))
        self.base = base
        self.dims = (d_in, n_b, d_m, d_h, d_out)
        ports = {f"x{i}": In(signed(fx.x_width)) for i in range(d_in)}
        ports.update({"start": In(1), "busy": Out(1), "done": Out(1), "spike": Out(1)})
        ports.update({f"b{k}": Out(signed(fx.state_width)) for k in range(n_b)})
        ports.update({f"m{j}": Out(signed(fx.state_width)) for j in range(d_m)})
        ports.update({f"y{o}": Out(signed(fx.y_width)) for o in range(d_out)})
        super().__init__(ports)

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles of ``busy`` per step (one per instruction)."""
        return len(self.program)

    def elaborate(self, platform):
        m = Module()
        fx = self.kernel.fixed
        f = fx.fraction
        lo, hi = fx.state_range
        d_in, n_b, d_m, _, d_out = self.dims
        prog = self.program
        n = len(prog)
        cols = list(zip(*prog, strict=True))
        layout = data.StructLayout({
            "w": signed(_bits(max(abs(v) for v in cols[0]))),
            "op": unsigned(max(self.n_operands - 1, 1).bit_length()),
            "last": unsigned(1),
            "post": unsigned(3),
            "target": unsigned(max(max(cols[4]), 1).bit_length()),
            "bias": signed(_bits(max(abs(v) for v in cols[5]))),
        })  # fmt: skip
        init = [dict(zip(("w", "op", "last", "post", "target", "bias"), row, strict=True))
                for row in prog]  # fmt: skip
        m.submodules.rom = rom = Memory(shape=layout, depth=n, init=init)
        fetch = rom.read_port()  # synchronous: the ROM may be block RAM
        ins = fetch.data  # the instruction at pc (its address was presented a cycle before)

        pc = Signal(range(n))
        busy = Signal()
        regs = Array(Signal(signed(self.op_width), name=f"opnd{i}") for i in range(self.n_operands))
        acc = Signal(signed(self.acc_width))
        m.d.comb += self.busy.eq(busy)
        for k in range(n_b):
            m.d.comb += getattr(self, f"b{k}").eq(regs[self.base["b"] + k])
        for j in range(d_m):
            m.d.comb += getattr(self, f"m{j}").eq(regs[self.base["m"] + j])
        total = Signal(signed(self.acc_width), name="acc_next")
        m.d.comb += total.eq(acc + ins.w * regs[ins.op])
        s = total >> f

        def sat(v):
            return Mux(v < lo, lo, Mux(v > hi, hi, v))

        starting = ~busy & self.start
        m.d.comb += fetch.addr.eq(Mux(busy, pc + 1, 0))
        m.d.sync += self.done.eq(0)
        with m.If(starting):
            m.d.sync += [busy.eq(1), pc.eq(0), acc.eq(0)]
            for i in range(d_in):
                m.d.sync += regs[i].eq(getattr(self, f"x{i}"))
        with m.Elif(busy):
            m.d.sync += acc.eq(Mux(ins.last, 0, total))
            with m.If(pc == n - 1):
                m.d.sync += [busy.eq(0), self.done.eq(1)]
            with m.Else():
                m.d.sync += pc.eq(pc + 1)
            target = ins.target
            t = regs[self.base["t"]]
            with m.If(ins.last), m.Switch(ins.post):
                with m.Case(_T):
                    m.d.sync += t.eq(s)
                with m.Case(_B):
                    m.d.sync += regs[self.base["b"] + target].eq(sat(t + s))
                with m.Case(_KM):
                    m.d.sync += regs[self.base["km"] + target].eq(s)
                with m.Case(_H):
                    hv = s + ins.bias
                    m.d.sync += regs[self.base["h"] + target].eq(Mux(hv < 0, 0, hv))
                with m.Case(_TB):
                    m.d.sync += t.eq(s + ins.bias)
                with m.Case(_M):
                    km = regs[self.base["km"] + target]
                    m.d.sync += regs[self.base["m"] + target].eq(sat(km + s))
                with m.Case(_Y):
                    ys = Array(getattr(self, f"y{o}") for o in range(d_out))
                    y = s + ins.bias
                    m.d.sync += ys[target].eq(y)
                    with m.If(target == 0):
                        m.d.sync += self.spike.eq(y >= fx.threshold)
        return m


@hookimpl
def neurogate_register_components():
    return [ELMNeuron]
