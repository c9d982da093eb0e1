"""``elm``: Branch-ELM v2 (Expressive Leaky Memory neuron) inference in fixed point, NumPy only.

**Status.** This module has the fixed-point NumPy model (:class:`ELM`, :meth:`ELM.run`), the
float64 reference (:func:`reference`) and the weight loading with its checks. It has **no
gateware yet** and is therefore not a registered component: the state update is a small MLP
per neuron, which does not fit the one-update-per-clock :class:`~neurogate.core.neuron.NeuronKernel`
contract; it needs its own component with one MAC datapath time-multiplexed over the MLP.

**Equations** (Spieler, Rahaman, Martius, Schoelkopf & Levina, "The Expressive Leaky Memory
Neuron", ICLR 2024; Branch-ELM), for an input ``x_t`` of ``d_in`` synapses grouped into ``n_b``
equal, contiguous branches, ``n_b`` branch traces ``b``, ``d_m`` memory units ``m`` and ``d_out``
outputs::

    b_t = k_b * b_{t-1} + sum over the synapses s of each branch of w_s * x_t[s]
    z_t = [b_t, k_m * m_{t-1}]
    m_t = k_m * m_{t-1} + (1 - k_lambda) * (W_2 relu(W_1 z_t + c_1) + c_2)
    y_t = W_y m_t + c_y

(the MLP's output layer is linear here). The weights come from a PyTorch ``state_dict``-like
mapping of arrays (anything :func:`numpy.asarray` takes), with these keys and shapes:

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
``w_y.bias``; every other shape must agree (``ValueError`` naming the key, its shape and the
expected one; a missing key is a ``KeyError`` naming it).

**Fixed point.** Every weight, decay, input, trace and memory value is a raw signed integer
with ``fraction`` (default 12) fraction bits; a product is exact and then floored by
``fraction`` bits (``>>``), a dot product sums exact products and shifts once. The decays and
``1 - k_lambda`` are rounded once. ``b`` and ``m`` saturate to signed ``state_width`` (default
24) bits, ``y`` is not saturated. The raw update, with ``P(a, b) = (a * b) >> F``::

    b = sat(P(k_b, b) + (sum_branch(w_s * x) >> F))
    km = P(k_m, m)
    h = max(0, ((W_1 @ [b, km]) >> F) + c_1)
    m = sat(km + P(1 - k_lambda, ((W_2 @ h) >> F) + c_2))
    y = ((W_y @ m) >> F) + c_y

>>> import numpy as np
>>> from neurogate.plugins.neurons.elm import ELM, random_weights
>>> w = random_weights(np.random.default_rng(0), d_in=8, n_b=4, d_m=3, d_h=5, d_out=2)
>>> elm = ELM(w)
>>> elm.run(np.ones((3, 8)))["y"].shape
(3, 2)
"""

from __future__ import annotations

import numpy as np

__all__ = ["ELM", "check_weights", "random_weights", "reference"]

KEYS = (
    "w_s", "k_b", "k_m", "k_lambda", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight",
    "mlp.2.bias", "w_y.weight", "w_y.bias",
)  # fmt: skip


def check_weights(weights) -> dict:
    """Return the weights as float64 arrays, checked (see the module docstring); raise else."""
    out = {}
    for key in KEYS:
        if key not in weights:
            raise KeyError(f"elm weights: missing {key!r} (keys needed: {', '.join(KEYS)})")
        out[key] = np.asarray(weights[key], dtype=np.float64)
    for key in ("k_b", "k_m", "mlp.0.bias", "w_y.bias"):
        if out[key].ndim != 1:
            raise ValueError(
                f"elm weights: {key!r} must be 1-dimensional, not of shape {out[key].shape}"
            )
    n_b, d_m = len(out["k_b"]), len(out["k_m"])
    d_h, d_out = len(out["mlp.0.bias"]), len(out["w_y.bias"])
    d_in = out["w_s"].shape[0] if out["w_s"].ndim == 1 else -1
    if d_in > 0 and d_in % n_b:
        raise ValueError(
            f"elm weights: 'w_s' has {d_in} synapses, not a multiple of the {n_b} branches of 'k_b'"
        )
    expected = {
        "w_s": (d_in,),
        "k_lambda": (d_m,),
        "mlp.0.weight": (d_h, n_b + d_m),
        "mlp.2.weight": (d_m, d_h),
        "mlp.2.bias": (d_m,),
        "w_y.weight": (d_out, d_m),
    }
    for key, shape in expected.items():
        if out[key].shape != shape or min(shape) < 1:
            want = "(d_in,)" if key == "w_s" else str(shape)
            raise ValueError(f"elm weights: {key!r} has shape {out[key].shape}, expected {want}")
    for key, closed in (("k_b", False), ("k_m", False), ("k_lambda", True)):
        value = out[key]
        bad = (value < 0) | ((value > 1) if closed else (value >= 1))
        if bad.any():
            span = "[0, 1]" if closed else "[0, 1)"
            raise ValueError(
                f"elm weights: {key!r} must be in {span}, not {float(value[bad][0])!r}"
            )
    return out


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


class ELM:
    """Fixed-point Branch-ELM v2 neuron (see the module docstring).

    Parameters
    ----------
    weights : mapping
        The ``state_dict``-like weights.
    fraction : int
        Fraction bits of every raw value (1..20).
    state_width : int
        Bits of the saturating ``b`` and ``m`` (8..48).
    """

    def __init__(self, weights, fraction: int = 12, state_width: int = 24):
        checks = (("fraction", fraction, 1, 20), ("state_width", state_width, 8, 48))
        for key, value, lo, hi in checks:
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"elm {key} must be an int in {lo}..{hi}, not {value!r}")
        w = check_weights(weights)
        self.fraction, self.state_width = fraction, state_width
        self.weights = w
        one = 1 << fraction
        self.raw = {key: np.round(value * one).astype(np.int64) for key, value in w.items()}
        self.raw["1-k_lambda"] = np.round((1 - w["k_lambda"]) * one).astype(np.int64)
        limit = 1 << (state_width - 1)
        self._lo, self._hi = -limit, limit - 1
        for key, value in self.raw.items():
            if value.size and np.abs(value).max() > limit - 1:
                biggest = float(np.abs(w.get(key, 1)).max())
                raise ValueError(
                    f"elm weights: {key!r} does not fit signed {state_width} bits with "
                    f"{fraction} fraction bits (largest magnitude {biggest!r})"
                )
        self.n_b, self.d_m = len(w["k_b"]), len(w["k_m"])
        self.reset()

    def reset(self) -> None:
        """Zero the branch traces and the memory."""
        self.b = np.zeros(self.n_b, dtype=np.int64)
        self.m = np.zeros(self.d_m, dtype=np.int64)

    def step(self, x_raw):
        """One step for a raw input ``x_raw`` (``(d_in,)`` ints); returns raw ``y``."""
        r, f = self.raw, self.fraction
        syn = (r["w_s"] * np.asarray(x_raw, dtype=np.int64)).reshape(self.n_b, -1).sum(axis=1)
        self.b = np.clip(((r["k_b"] * self.b) >> f) + (syn >> f), self._lo, self._hi)
        km = (r["k_m"] * self.m) >> f
        h = np.maximum(
            0, ((r["mlp.0.weight"] @ np.concatenate([self.b, km])) >> f) + r["mlp.0.bias"]
        )
        d = ((r["mlp.2.weight"] @ h) >> f) + r["mlp.2.bias"]
        self.m = np.clip(km + ((r["1-k_lambda"] * d) >> f), self._lo, self._hi)
        return ((r["w_y.weight"] @ self.m) >> f) + r["w_y.bias"]

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
