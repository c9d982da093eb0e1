"""``sc_dense``: stochastic-computing synapses, an all-to-all layer of AND gates and popcounts.

Each input ``x{i}`` is a bitstream (a spike train, or an SC stream from an encoder), one bit
per clock cycle. Each weight ``w[i, j]`` (signed ``weight_bits``) becomes a bitstream in sign
and magnitude: the magnitude ``|w|`` is encoded by an LFSR comparator, exactly as the ``lfsr``
encoder encodes ``x = M[i, j]``::

    M[i, j]    = |w[i, j]| << (lfsr_width - weight_bits + 1)      (so |w| = 2**(weight_bits-1)
                                                                    is M = 2**lfsr_width: all 1s)
    wbit_t[i, j] = 1 if s_t[i] < M[i, j] else 0                  (s_t[i]: row i's LFSR state)

and the synapse multiplies by an AND gate; the output ``y{j}`` adds the products of the
positive weights and subtracts those of the negative ones (a signed popcount)::

    y_t[j] = sum over i with w[i, j] > 0 of (x_t[i] AND wbit_t[i, j])
           - sum over i with w[i, j] < 0 of (x_t[i] AND wbit_t[i, j])        (-n_in .. n_in)

so ``E[y[j]] ~ sum_i P(x[i]) * w[i, j] / 2**(weight_bits - 1)`` when each input is independent
of its row's LFSR (``P(wbit) = (M - 1) / (2**lfsr_width - 1)`` over a full period for ``M >= 1``,
as for the ``lfsr`` encoder). The products are registered and so are the outputs (latency 2:
two cycles after step ``t`` the ``y`` ports show ``y_t``; reset value 0): the register between
the comparators and the adder trees takes a 16 x 16 layer on the UP5K from 30 to about 47 MHz.

Random sources. Row ``i`` has one LFSR (an ``lfsr`` generator of ``lfsr_width`` bits with the
maximal taps and seed ``seeds[i]``) shared by the ``n_out`` synapses of that row; the synapses
summed into one output come from different rows, so their weight streams are different
sequences. ``seeds=None`` takes the ``lfsr`` allocations ``0 .. n_in - 1``
(:meth:`~neurogate.plugins.encoders.lfsr.LFSR.allocate_seed`: states spread around the cycle),
which are also the first seeds a :class:`~neurogate.sc.SeedAllocator` hands to ``lfsr``
encoders of the same width: so that an input's encoder never shares its row's sequence (which
would correlate ``x`` with its weights), add :meth:`SCDenseSynapse.random_sources` to the
design's allocator pinned, and the allocator seeds the encoders around them (or raises
:class:`~neurogate.sc.SeedCollisionError` naming both).

>>> import neurogate as ng
>>> syn = ng.component("sc_dense", weights=[[127, -128], [64, 0]], lfsr_width=8)
>>> out = syn.model().run({"x0": [1, 1, 1, 1], "x1": [1, 1, 1, 1]})
>>> out["y0"][:, 0].tolist(), out["y1"][:, 0].tolist()
([1, 2, 2, 1], [-1, -1, -1, -1])
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal, signed

from neurogate.core.component import (
    Bool,
    Component,
    Gateware,
    Int,
    Model,
    Optional,
    Param,
    Port,
    bits_for,
)
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.encoders.lfsr import LFSR, lfsr_states
from neurogate.plugins.synapses._common import IntArray, fit_weights, int_array_rule

__all__ = ["SCDenseSynapse", "SCDenseSynapseGateware", "SCDenseSynapseModel"]

#: Most inputs or outputs of one layer (one port each).
MAX_SIZE = 256


def _seeds_rule(where, value):
    if value is None:
        return None
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(f"{where} must be None or a sequence of ints, not {value!r}")
    seeds = tuple(value)
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise TypeError(f"{where} must be None or a sequence of ints, not {value!r}")
    return tuple(int(seed) for seed in seeds)


class SCDenseSynapse(Component):
    """Stochastic-computing synapses: AND-gate products, signed popcounts (see the module).

    Members
    -------
    x0, x1, ... : in, 1
        The ``n_in`` input bitstreams.
    y0, y1, ... : out, signed ``bits_for(n_in) + 1``
        Per output, the signed popcount of the products of the step two cycles before.
    """

    name = "sc_dense"
    kind = "synapse"
    #: Network sources it takes: spike vectors and SC bitstreams (one bit per timestep).
    input_kinds = ("spike", "bitstream")

    weights = Param(None, int_array_rule(2, "(n_in, n_out)"), "integer weight matrix (n_in, n_out)")
    n_in = Param(None, Optional(Int(1, MAX_SIZE)), "inputs (default: the weights' rows, or 1)")
    n_out = Param(None, Optional(Int(1, MAX_SIZE)), "outputs (default: the weights' columns, or 1)")
    weight_bits = Param(8, Int(1, 16), "bits of a signed weight")
    lfsr_width = Param(16, Int(3, 32), "bits of each row's LFSR (>= weight_bits - 1)")
    seeds = Param(
        None, _seeds_rule, "LFSR seed of each row (default: lfsr allocations 0 .. n_in - 1)"
    )
    strict = Param(
        True, Bool(), "out-of-range weights raise ValueError (False: clip them with a warning)"
    )

    def validate(self):
        values = self._values
        weights = values["weights"]
        if weights is None:
            values["n_in"] = values["n_in"] or 1
            values["n_out"] = values["n_out"] or 1
            values["weights"] = IntArray(np.zeros((values["n_in"], values["n_out"]), np.int64))
        else:
            shape = weights.shape
            given = (values["n_in"], values["n_out"])
            expected = tuple(g if g is not None else s for g, s in zip(given, shape, strict=True))
            if shape != expected:
                raise ValueError(
                    f"sc_dense.weights must have shape (n_in, n_out) = {expected}, not {shape}"
                )
            for key, size in zip(("n_in", "n_out"), shape, strict=True):
                if not 1 <= size <= MAX_SIZE:
                    raise ValueError(
                        f"sc_dense.weights must have 1..{MAX_SIZE} {key} (shape {shape}), "
                        f"not {size}"
                    )
            values["n_in"], values["n_out"] = shape
            fit_weights(self, "weights", self.weight_format, values["strict"], "(i, j)")
        bits, width = values["weight_bits"], values["lfsr_width"]
        if width < bits - 1:
            raise ValueError(
                f"sc_dense.lfsr_width must be >= weight_bits - 1 = {bits - 1}, not {width}"
            )
        n_in = values["n_in"]
        seeds = values["seeds"]
        if seeds is None:
            generator = LFSR(width=width)
            values["seeds"] = tuple(generator.allocate_seed(i).seed for i in range(n_in))
            return
        if len(seeds) != n_in:
            raise ValueError(
                f"sc_dense.seeds must have one seed per input row ({n_in}), not {len(seeds)}"
            )
        mask = (1 << width) - 1
        for row, seed in enumerate(seeds):
            if not 1 <= seed <= mask:
                raise ValueError(
                    f"sc_dense.seeds must be in 1..{mask} (nonzero {width}-bit LFSR states), "
                    f"not {seed} (row {row})"
                )
        first = {}
        for row, seed in enumerate(seeds):
            if seed in first:
                raise ValueError(
                    f"sc_dense.seeds must differ (no two rows share a weight sequence), not "
                    f"{seed:#x} for rows {first[seed]} and {row}"
                )
            first[seed] = row

    @property
    def weight_format(self) -> FixedFormat:
        """The format of a weight: signed ``weight_bits``."""
        return FixedFormat(self.weight_bits, 0, True)

    @property
    def magnitudes(self) -> np.ndarray:
        """The comparator constants ``M[i, j] = |w[i, j]| << (lfsr_width - weight_bits + 1)``."""
        return np.abs(self.weights.array) << (self.lfsr_width - self.weight_bits + 1)

    def random_sources(self, prefix: str = "sc_dense") -> dict[str, LFSR]:
        """Return ``{f"{prefix}.row{i}": lfsr generator}``, one per row, for a seed allocator."""
        return {
            f"{prefix}.row{i}": LFSR(width=self.lfsr_width, seed=seed)
            for i, seed in enumerate(self.seeds)
        }

    @property
    def out_port(self) -> Port:
        """The format of one output (a signed popcount, ``-n_in .. n_in``)."""
        return Port("out", bits_for(self.n_in) + 1, True, "signed popcount of the products")

    @property
    def ports(self):
        ports = {f"x{i}": Port("in", 1, False, f"input bitstream {i}") for i in range(self.n_in)}
        for j in range(self.n_out):
            ports[f"y{j}"] = self.out_port
        return ports

    @property
    def latency(self):
        return 2

    def model(self, n=1):
        return SCDenseSynapseModel(self, n)

    def create(self):
        return SCDenseSynapseGateware(self)


class SCDenseSynapseModel(Model):
    """Bit-true model of :class:`SCDenseSynapse`; ``n`` instances share the weights and seeds.

    :meth:`step` runs one clock cycle of one instance from a spike vector (for the network
    model); :meth:`run` is the component contract.
    """

    #: Weight bits per chunk of :meth:`run` (bounds the memory of the weight bitstreams).
    CHUNK_BITS = 1 << 22

    def reset(self):
        self._t = 0

    def _states(self, steps: int) -> np.ndarray:
        """Return the rows' LFSR states of the next ``steps`` steps, ``(steps, n_in)``."""
        p = self.component
        taps = LFSR(width=p.lfsr_width).taps
        period = (1 << p.lfsr_width) - 1
        states = np.stack(
            [lfsr_states(p.lfsr_width, taps, seed, steps, start=self._t) for seed in p.seeds],
            axis=1,
        ).astype(np.int64)
        self._t = (self._t + steps) % period
        return states

    def _run(self, inputs, steps):
        p = self.component
        x = np.stack([inputs[f"x{i}"] for i in range(p.n_in)], axis=-1)  # (T, n, n_in)
        magnitude = p.magnitudes  # (n_in, n_out)
        sign = np.sign(p.weights.array).astype(np.float32)
        y = np.empty((steps, self.n, p.n_out), dtype=np.int64)
        chunk = max(1, self.CHUNK_BITS // (p.n_in * p.n_out))
        for t0 in range(0, steps, chunk):
            t1 = min(steps, t0 + chunk)
            s = self._states(t1 - t0)  # (T', n_in)
            wbit = s[:, :, None] < magnitude[None]  # (T', n_in, n_out)
            signed_bits = wbit.astype(np.float32) * sign  # exact: sums of at most 256 terms
            y[t0:t1] = np.matmul(x[t0:t1].astype(np.float32), signed_bits).astype(np.int64)
        return {f"y{j}": y[:, :, j] for j in range(p.n_out)}

    def step(self, spikes) -> np.ndarray:
        """Run one clock cycle of instance 0 from ``spikes`` (``(n_in,)`` 0/1); return ``y``."""
        p = self.component
        spikes = np.asarray(spikes).astype(np.int64).reshape(p.n_in)
        out = self.run({f"x{i}": spikes[i : i + 1] for i in range(p.n_in)})
        return np.array([out[f"y{j}"][0, 0] for j in range(p.n_out)], dtype=np.int64)


def _popcount(bits):
    """A balanced adder tree over 1-bit values (0 for none)."""
    if not bits:
        return 0
    while len(bits) > 1:
        pairs = [bits[k] + bits[k + 1] for k in range(0, len(bits) - 1, 2)]
        bits = pairs + bits[len(pairs) * 2 :]
    return bits[0]


class SCDenseSynapseGateware(Gateware):
    """Gateware of :class:`SCDenseSynapse` (ports as in its Members section).

    One ``lfsr`` generator per row (its ``state`` port is the current state ``s_t``; its own
    comparator is unused and trimmed), one comparator with a constant per nonzero weight, an
    AND gate per synapse whose product is registered, and per output two adder trees (positive
    and negative weights) whose difference is registered.
    """

    def elaborate(self, platform):
        m = Module()
        p = self.params
        magnitude = p.magnitudes
        weights = p.weights.array
        states = []
        for i, seed in enumerate(p.seeds):
            gen = LFSR(width=p.lfsr_width, seed=seed).create()
            m.submodules[f"lfsr{i}"] = gen
            m.d.comb += gen.x.eq(0)
            states.append(gen.state)
        for j in range(p.n_out):
            pos, neg = [], []
            for i in range(p.n_in):
                if weights[i, j] == 0:
                    continue
                product = Signal(name=f"p{i}_{j}")
                m.d.sync += product.eq(getattr(self, f"x{i}") & (states[i] < int(magnitude[i, j])))
                (pos if weights[i, j] > 0 else neg).append(product)
            total = Signal(signed(bits_for(p.n_in) + 1), name=f"sum{j}")
            m.d.comb += total.eq(_popcount(pos) - _popcount(neg))
            m.d.sync += getattr(self, f"y{j}").eq(total)
        return m


@hookimpl
def neurogate_register_components():
    return [SCDenseSynapse]
