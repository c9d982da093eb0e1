"""``elm``: Branch-ELM v2 (Expressive Leaky Memory neuron) inference in fixed point, NumPy only.

**Status.** :class:`ELM` is the fixed-point NumPy model (:meth:`ELM.run`), :func:`reference`
the float64 forward pass and :class:`ELMGateware` the gateware, bit-true to :class:`ELM` (one
MAC datapath time-multiplexed over every product of the step, see "Gateware" below). The MLP
per neuron does not fit the one-update-per-clock
:class:`~neurogate.core.neuron.NeuronKernel` contract, so ``elm`` is its own class and is not
a registered component (it has no place in the component registry's parameter model, which
wants hashable parameters, not a weight dict).

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

**Gateware.** :class:`ELMGateware` (an :class:`amaranth.lib.wiring.Component`) runs one
step per ``start`` strobe: a program of ``cycles_per_step`` instructions, one multiply-add
per clock on one multiplier, in this order: ``k_b * b`` of each branch, then the branch's
synapses ``w_s * x`` (the new ``b``), ``k_m * m`` of each memory unit, the ``d_h`` rows of
``W_1 [b, km]`` (``h``), then for each memory unit the row of ``W_2 h`` followed by ``(1 -
k_lambda) * that`` (the new ``m``), then the rows of ``W_y m`` (``y``). An instruction is a
weight (a constant, from a ROM indexed by the program counter) times an operand register
(``x``, ``b``, ``km``, ``m``, ``h`` or a temporary) added to an exact accumulator; the last
instruction of a dot product shifts the sum, applies its bias / ReLU / saturation and writes
the destination register, which the next instruction may already read. ``x`` is sampled
while ``busy`` is low and ``start`` is strobed; ``busy`` is high for the ``cycles_per_step``
cycles of the step, ``done`` for one cycle after, when ``y``, ``b`` and ``m`` hold the step's
values. Widths follow from the weights: each register class is as wide as the bound of its
values (``b`` and ``m``: ``state_width``; ``h``, the temporary and ``y``: from the sums of the
absolute weights), the accumulator as wide as the largest dot product needs.

>>> import numpy as np
>>> from neurogate.plugins.neurons.elm import ELM, random_weights
>>> w = random_weights(np.random.default_rng(0), d_in=8, n_b=4, d_m=3, d_h=5, d_out=2)
>>> elm = ELM(w)
>>> elm.run(np.ones((3, 8)))["y"].shape
(3, 2)
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Array, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["ELM", "ELMGateware", "check_weights", "random_weights", "reference"]

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

    def gateware(self) -> ELMGateware:
        """Return the gateware of this neuron (:class:`ELMGateware`)."""
        return ELMGateware(self)


# post operations of the last instruction of a dot product
_T, _B, _KM, _H, _TB, _M, _Y = range(7)


def _bits(bound: int) -> int:
    """Bits of a signed value within ``-bound .. bound``."""
    return max(int(bound).bit_length() + 1, 2)


class ELMGateware(wiring.Component):
    """Gateware of an :class:`ELM`: one MAC datapath, one step per ``start`` (module docstring).

    Members
    -------
    x : in, array of d_in signed state_width
        The raw input of the step, sampled with ``start``.
    start : in, 1
        Strobe: run one step (ignored while ``busy``).
    busy : out, 1
        High while the step runs.
    done : out, 1
        High for one cycle when ``y``, ``b`` and ``m`` hold the step's values.
    y, b, m : out, arrays
        The raw output, branch traces and memory.
    """

    def __init__(self, elm: ELM):
        self.elm = elm
        r, f, sw = elm.raw, elm.fraction, elm.state_width
        n_b, d_m = elm.n_b, elm.d_m
        d_in, d_h, d_out = len(r["w_s"]), len(r["mlp.0.bias"]), len(r["w_y.bias"])
        smax = 1 << (sw - 1)
        w1, w2, wy = r["mlp.0.weight"], r["mlp.2.weight"], r["w_y.weight"]
        h_max = (
            max(int(np.abs(row).sum()) * smax >> f for row in w1)
            + int(np.abs(r["mlp.0.bias"]).max())
            + 1
        )
        t_max = (
            max(
                max(int(np.abs(row).sum()) * h_max >> f for row in w2)
                + int(np.abs(r["mlp.2.bias"]).max()),
                smax,
            )
            + 1
        )
        y_max = (
            max(int(np.abs(row).sum()) * smax >> f for row in wy)
            + int(np.abs(r["w_y.bias"]).max())
            + 1
        )
        self.y_width = _bits(y_max)
        self.op_width = _bits(max(smax, h_max, t_max))
        # operand registers: x, b, km, m, h, t
        base = {"x": 0, "b": d_in, "km": d_in + n_b, "m": d_in + n_b + d_m}
        base["h"] = base["m"] + d_m
        base["t"] = base["h"] + d_h
        self.n_operands = base["t"] + 1
        prog = []  # (weight, operand, last, post, target, bias)
        acc_max = 0

        def dot(weights, operands, post, target, bias=0, op_max=smax):
            nonlocal acc_max
            weights = [int(w) for w in weights]
            acc_max = max(acc_max, sum(abs(w) for w in weights) * op_max)
            for k, (w, o) in enumerate(zip(weights, operands, strict=True)):
                last = k == len(weights) - 1
                prog.append(
                    (
                        w,
                        o,
                        int(last),
                        post if last else 0,
                        target if last else 0,
                        bias if last else 0,
                    )
                )

        per = d_in // n_b
        for k in range(n_b):
            dot([r["k_b"][k]], [base["b"] + k], _T, 0)
            dot(r["w_s"][k * per : (k + 1) * per], range(k * per, (k + 1) * per), _B, k)
        for j in range(d_m):
            dot([r["k_m"][j]], [base["m"] + j], _KM, j)
        z = [base["b"] + k for k in range(n_b)] + [base["km"] + j for j in range(d_m)]
        for i in range(d_h):
            dot(w1[i], z, _H, i, int(r["mlp.0.bias"][i]))
        for j in range(d_m):
            dot(w2[j], [base["h"] + i for i in range(d_h)], _TB, 0, int(r["mlp.2.bias"][j]), h_max)
            dot([r["1-k_lambda"][j]], [base["t"]], _M, j, 0, t_max)
        for o in range(d_out):
            dot(wy[o], [base["m"] + j for j in range(d_m)], _Y, o, int(r["w_y.bias"][o]))
        self.program = prog
        self.acc_width = _bits(acc_max)
        self.base = base
        self.dims = (d_in, n_b, d_m, d_h, d_out)
        super().__init__({
            "x": In(data.ArrayLayout(signed(sw), d_in)),
            "start": In(1),
            "busy": Out(1),
            "done": Out(1),
            "y": Out(data.ArrayLayout(signed(self.y_width), d_out)),
            "b": Out(data.ArrayLayout(signed(sw), n_b)),
            "m": Out(data.ArrayLayout(signed(sw), d_m)),
        })  # fmt: skip

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles of ``busy`` per step (one per instruction)."""
        return len(self.program)

    def elaborate(self, platform):
        m = Module()
        elm = self.elm
        f, sw = elm.fraction, elm.state_width
        d_in, n_b, d_m, _, _ = self.dims
        lo, hi = -(1 << (sw - 1)), (1 << (sw - 1)) - 1
        prog = self.program
        n = len(prog)

        def rom(name, values, shape):
            mem = Memory(shape=shape, depth=n, init=[int(v) for v in values])
            m.submodules[name] = mem
            return mem.read_port(domain="comb")

        pc = Signal(range(n))
        cols = list(zip(*prog, strict=True))
        wmax = max(abs(v) for v in cols[0])
        ports = {
            "w": rom("rom_w", cols[0], signed(_bits(wmax))),
            "op": rom("rom_op", cols[1], unsigned(max(self.n_operands - 1, 1).bit_length())),
            "last": rom("rom_last", cols[2], unsigned(1)),
            "post": rom("rom_post", cols[3], unsigned(3)),
            "target": rom("rom_target", cols[4], unsigned(max(max(cols[4]), 1).bit_length())),
            "bias": rom("rom_bias", cols[5], signed(_bits(max(abs(v) for v in cols[5])))),
        }
        for port in ports.values():
            m.d.comb += port.addr.eq(pc)
        regs = Array(Signal(signed(self.op_width), name=f"opnd{i}") for i in range(self.n_operands))
        acc = Signal(signed(self.acc_width))
        busy = Signal()
        m.d.comb += [self.busy.eq(busy)]
        for k in range(n_b):
            m.d.comb += self.b[k].eq(regs[self.base["b"] + k])
        for j in range(d_m):
            m.d.comb += self.m[j].eq(regs[self.base["m"] + j])
        total = Signal(signed(self.acc_width), name="acc_next")
        m.d.comb += total.eq(acc + ports["w"].data * regs[ports["op"].data])
        s = total >> f

        def sat(v):
            return Mux(v < lo, lo, Mux(v > hi, hi, v))

        m.d.sync += self.done.eq(0)
        with m.If(~busy & self.start):
            m.d.sync += [busy.eq(1), pc.eq(0), acc.eq(0)]
            for i in range(d_in):
                m.d.sync += regs[i].eq(self.x[i])
        with m.Elif(busy):
            m.d.sync += acc.eq(Mux(ports["last"].data, 0, total))
            with m.If(pc == n - 1):
                m.d.sync += [busy.eq(0), self.done.eq(1)]
            with m.Else():
                m.d.sync += pc.eq(pc + 1)
            target, bias = ports["target"].data, ports["bias"].data
            t = regs[self.base["t"]]
            with m.If(ports["last"].data), m.Switch(ports["post"].data):
                with m.Case(_T):
                    m.d.sync += t.eq(s)
                with m.Case(_B):
                    m.d.sync += regs[self.base["b"] + target].eq(sat(t + s))
                with m.Case(_KM):
                    m.d.sync += regs[self.base["km"] + target].eq(s)
                with m.Case(_H):
                    hv = s + bias
                    m.d.sync += regs[self.base["h"] + target].eq(Mux(hv < 0, 0, hv))
                with m.Case(_TB):
                    m.d.sync += t.eq(s + bias)
                with m.Case(_M):
                    km = regs[self.base["km"] + target]
                    m.d.sync += regs[self.base["m"] + target].eq(sat(km + s))
                with m.Case(_Y):
                    m.d.sync += self.y[target].eq(s + bias)

        return m
