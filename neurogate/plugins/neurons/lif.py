"""``lif``: fixed-point leaky integrate-and-fire neuron.

Per step (all values raw ``data_width``-bit two's complement, ``>>`` an arithmetic shift,
products exact)::

    if refr > 0:  refr -= 1;  v = v_rest;  spike = 0            (inputs ignored)
    else:
        v_next = fit(v + (((v_rest - v) * leak_k) >> fraction)
                       + ((current * gain_k) >> fraction) + noise)
        if v_next >= v_threshold:  spike = 1;  v = v_reset;  refr = refractory
        else:                      spike = 0;  v = v_next

``fit`` saturates (``overflow="saturate"``) or keeps the low ``data_width`` bits
(``overflow="wrap"``). Reset: ``v = v_rest``, ``refr = 0``, ``spike = 0``. Outputs are registered
(latency 1). A ``v_threshold`` at the smallest potential is always reached: allowed, with a
``UserWarning``. With ``overflow="wrap"``, ``leak_k=None``, ``gain_k=None`` and ``noise=True``
this is bit-compatible with SC-NeuroCore's ``sc_lif_neuron.v``.

``LIF`` is a :class:`~neurogate.core.neuron.NeuronKernel` (state ``v``, and ``refr`` when
``refractory > 0``), so it also runs in :class:`~neurogate.gateware.neuron_core.NeuronCore`;
its :meth:`~LIF.model` is a faster vectorised model of the same update.

>>> import neurogate as ng
>>> lif = ng.component("lif", v_threshold=300, leak_k=16, gain_k=256)
>>> out = lif.model(n=1).run({"current": [100] * 6})
>>> out["v"][:, 0].tolist(), out["spike"][:, 0].tolist()
([100, 193, 280, 0, 100, 193], [0, 0, 0, 1, 0, 0])
"""

from __future__ import annotations

import warnings
from itertools import repeat

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Signal, signed

from neurogate.core.component import (
    Bool,
    Choice,
    Int,
    Model,
    Optional,
    Param,
    Port,
    bits_for,
)
from neurogate.core.fixed import FixedFormat
from neurogate.core.hookspecs import hookimpl
from neurogate.core.neuron import NeuronKernel

__all__ = ["LIF"]


class LIF(NeuronKernel):
    """Fixed-point leaky integrate-and-fire neuron (see the module docstring for the update).

    Members
    -------
    current : in, signed ``data_width``
        Input current, raw Q(``fraction``).
    leak_k, gain_k : in, signed ``data_width``
        Present only when the parameter of the same name is ``None`` (runtime value).
    noise : in, signed ``data_width``
        Present only when ``noise=True``; added to the membrane update unscaled.
    spike : out, 1
        1 on the step the membrane crosses ``v_threshold``; registered.
    v : out, signed ``data_width``
        Membrane potential after the step; registered.
    refr : out, unsigned ``bits_for(refractory)``
        Present only when ``refractory > 0``: refractory steps left after the step; registered.
    """

    name = "lif"
    kind = "neuron"

    data_width = Param(16, Int(2, 32), "bits of v, current and the k parameters")
    fraction = Param(8, Int(0, 32), "fraction bits of leak_k and gain_k (Q format)")
    v_rest = Param(0, Int(), "resting potential (raw)")
    v_reset = Param(0, Int(), "potential after a spike (raw)")
    v_threshold = Param(256, Int(), "spike when the next potential is >= this (raw)")
    refractory = Param(0, Int(0, 65535), "steps clamped at v_rest after a spike")
    leak_k = Param(16, Optional(Int()), "leak factor, Q(fraction); None: runtime port")
    gain_k = Param(256, Optional(Int()), "input gain, Q(fraction); None: runtime port")
    noise = Param(False, Bool(), "add a signed noise input port")
    overflow = Param("saturate", Choice("saturate", "wrap"), "policy when v leaves its range")

    def validate(self):
        if self.fraction > self.data_width:
            raise ValueError(
                f"lif.fraction must be an int in 0..{self.data_width} (data_width), "
                f"not {self.fraction!r}"
            )
        raw = FixedFormat(self.data_width, 0, signed=True)
        for key in ("v_rest", "v_reset", "v_threshold", "leak_k", "gain_k"):
            if self._values[key] is not None:
                self.check_fits(key, raw)
        if self.v_threshold == raw.min:
            # Allowed (SC-NeuroCore accepts it too), but almost certainly a mistake.
            warnings.warn(
                f"lif.v_threshold={self.v_threshold} is the smallest {self.data_width}-bit "
                "potential: the neuron spikes on every step it is not refractory",
                UserWarning,
                stacklevel=4,
            )

    @property
    def v_format(self) -> FixedFormat:
        """The membrane potential's format (``data_width`` bits, ``fraction``, ``overflow``)."""
        return FixedFormat(self.data_width, self.fraction, True, self.overflow)

    def state_fields(self):
        fields = {"v": Port("out", self.data_width, True, "membrane potential", init=self.v_rest)}
        if self.refractory:
            fields["refr"] = Port("out", bits_for(self.refractory), False, "refractory steps left")
        return fields

    def input_ports(self):
        dw = self.data_width
        ports = {"current": Port("in", dw, True, "input current")}
        if self.leak_k is None:
            ports["leak_k"] = Port("in", dw, True, "runtime leak factor")
        if self.gain_k is None:
            ports["gain_k"] = Port("in", dw, True, "runtime input gain")
        if self.noise:
            ports["noise"] = Port("in", dw, True, "additive noise")
        return ports

    def update_np(self, state, inputs):
        """One step of the module docstring's update, exact (Python ints beyond 30 bits)."""
        f, exact = self.fraction, self.data_width > 30

        def arr(value):
            return np.asarray(value).astype(object if exact else np.int64)

        v = arr(state["v"])
        leak = arr(inputs["leak_k"]) if self.leak_k is None else self.leak_k
        gain = arr(inputs["gain_k"]) if self.gain_k is None else self.gain_k
        x = v + (((self.v_rest - v) * leak) >> f) + ((arr(inputs["current"]) * gain) >> f)
        if self.noise:
            x = x + arr(inputs["noise"])
        x = self.v_format.fit_array(x)
        spike = x >= self.v_threshold
        nxt = {"v": np.where(spike, self.v_reset, x)}
        if self.refractory:
            refr = arr(state["refr"])
            busy = refr > 0
            spike = spike & ~busy
            nxt["v"] = np.where(busy, self.v_rest, nxt["v"])
            nxt["refr"] = np.where(busy, refr - 1, np.where(spike, self.refractory, 0))
        return nxt, spike.astype(bool)

    def update_hdl(self, m, state, inputs):
        """One step in Amaranth, arranged so that the loop through ``v`` is short.

        With ``K = v_rest * leak_k`` split as ``K = (kh << fraction) + kl`` (``0 <= kl <
        2**fraction``), the update is ``x = a + b`` where

        * ``a = (Cat(kl, v) - v * leak_k) >> fraction``: the state register feeds the
          multiplier directly (no ``v_rest - v`` subtraction in front of it; with ``-dsp`` it
          is the ``SB_MAC16``'s A input) and ``(v << fraction) + kl`` is a concatenation;
        * ``b = ((current * gain_k) >> fraction) + noise + kh`` does not depend on ``v``.

        With saturation the threshold is not compared after the sum: ``b - v_threshold`` is
        formed on the input side and ``a + (b - v_threshold)`` is added in parallel with
        ``a + b``; the spike is its sign. (In wrap mode the same trick needs a second adder one
        bit wider plus a LUT on the wrap count: measured +20 LUT4 for about +3 MHz on UP5K,
        so the wrapped sum is compared.)

        With ``overflow="wrap"`` only the low ``data_width`` bits of each term are kept, which
        depend only on the low ``data_width + fraction`` bits of each product (a narrower
        multiplier). With saturation the sums are exact; as ``v_threshold`` fits the format, a
        sum above the maximum spikes, so only the lower clip is built.
        """
        dw, f = self.data_width, self.fraction
        wrap = self.overflow == "wrap"
        v = state["v"]
        leak_k = Const(self.leak_k, signed(dw)) if self.leak_k is not None else inputs["leak_k"]
        gain_k = Const(self.gain_k, signed(dw)) if self.gain_k is not None else inputs["gain_k"]

        # K = v_rest * leak_k = (kh << f) + kl
        if not self.v_rest:
            kl, kh = None, None
        elif self.leak_k is not None:
            big_k = self.v_rest * self.leak_k
            kl, kh = Const(big_k % (1 << f), f) if f else None, Const(big_k >> f)
        else:
            big_k = Const(self.v_rest, signed(dw)) * leak_k
            kl, kh = (big_k[:f] if f else None), big_k >> f
        top = Cat(kl, v).as_signed() if kl is not None else (v << f)
        prod_a = top - v * leak_k
        prod_b = inputs["current"] * gain_k
        if wrap:
            a = prod_a[: dw + f][f:].as_signed()
            b = prod_b[: dw + f][f:].as_signed()
        else:
            a, b = prod_a >> f, prod_b >> f
        if self.noise:
            b = b + inputs["noise"]
        if kh is not None:
            b = b + kh
        b_sig = Signal(signed(dw) if wrap else b.shape(), name="drive")
        m.d.comb += b_sig.eq(b)
        total = Signal(signed(max(len(a), len(b_sig)) + 1), name="total")
        m.d.comb += total.eq(a + b_sig)
        v_fit = Signal(signed(dw), name="v_fit")
        if wrap:
            m.d.comb += v_fit.eq(total[:dw])
            fire = v_fit >= self.v_threshold
        else:
            # below the minimum: clip; above the maximum: spikes (v_threshold <= maximum).
            # The spike is the sign of total - v_threshold = a + (b - v_threshold), added in
            # parallel with total rather than compared after it.
            lo = self.v_format.min
            m.d.comb += v_fit.eq(Mux(total < lo, lo, total[:dw]))
            b_th = Signal(signed(len(b_sig) + 1), name="drive_minus_threshold")
            over = Signal(signed(max(len(a), len(b_th)) + 1), name="total_minus_threshold")
            m.d.comb += [b_th.eq(b_sig - self.v_threshold), over.eq(a + b_th)]
            # (a threshold at the minimum is always reached, even by a clipped sum)
            fire = ~over[-1] if self.v_threshold > lo else Const(1)
        nxt = {"v": Mux(fire, self.v_reset, v_fit)}
        if not self.refractory:
            return nxt, fire
        refr = state["refr"]
        busy = refr != 0
        nxt["v"] = Mux(busy, self.v_rest, nxt["v"])
        nxt["refr"] = Mux(busy, refr - 1, Mux(fire, self.refractory, 0))
        return nxt, fire & ~busy

    def model(self, n=1):
        return LIFModel(self, n)

    def properties(self, m, dut):
        """Assert the documented bounds and the update formula, for every input sequence.

        * ``v_bound``: ``v <= max(v_threshold - 1, v_reset, v_rest)`` in every cycle (a
          potential at the threshold or above fires and resets), with either ``overflow``;
        * ``refr_bound`` (``refractory > 0``): ``refr <= refractory``;
        * ``update:v``, ``update:spike``, ``update:refr``: each step's result equals the
          module docstring's update of the state and inputs before it, computed at full width
          as written there (a second implementation of :meth:`update_hdl`, which rearranges
          the sums and fires on the sign of ``total - v_threshold``);
        * ``same_as_core:*``: the parallel wrapper equals the neuron core
          (:meth:`NeuronKernel.properties <neurogate.core.neuron.NeuronKernel.properties>`).
        """
        from amaranth.hdl import Assert, ResetSignal

        from neurogate.sim.formal import past

        super().properties(m, dut)
        m.d.comb += Assert(dut.v <= max(self.v_threshold - 1, self.v_reset, self.v_rest), "v_bound")
        if self.refractory:
            m.d.comb += Assert(dut.refr <= self.refractory, "refr_bound")
        dw, f = self.data_width, self.fraction

        def operand(key):
            value = self._values.get(key)
            return Const(value, signed(dw)) if value is not None else past(m, getattr(dut, key))

        v = past(m, dut.v)
        x = v + (((self.v_rest - v) * operand("leak_k")) >> f)
        x = x + ((past(m, dut.current) * operand("gain_k")) >> f)
        if self.noise:
            x = x + past(m, dut.noise)
        fmt = self.v_format
        if self.overflow == "saturate":
            fit = Mux(x < fmt.min, fmt.min, Mux(x > fmt.max, fmt.max, x))
        else:
            fit = x[:dw].as_signed()
        fire = fit >= self.v_threshold
        expect = {"v": Mux(fire, self.v_reset, fit), "spike": fire}
        if self.refractory:
            refr = past(m, dut.refr)
            busy = refr != 0
            expect["v"] = Mux(busy, self.v_rest, expect["v"])
            expect["spike"] = fire & ~busy
            expect["refr"] = Mux(busy, refr - 1, Mux(fire, self.refractory, 0))
        with m.If(past(m, ~ResetSignal())):
            for key, value in expect.items():
                m.d.comb += Assert(getattr(dut, key) == value, f"update:{key}")


class LIFModel(Model):
    """Vectorised bit-true model of :class:`LIF`.

    How it is fast (one core; ``benchmarks/README.md`` has the numbers and what did not help):

    * **Folded leak.** ``v + (((v_rest - v) * k) >> f) == (v * c + v_rest * k) >> f`` with
      ``c = 2**f - k`` (exact: ``v << f`` is a multiple of ``2**f``): one multiplication and one
      shift per step.
    * **Drive in cache-sized blocks.** ``d = ((current * gain_k) >> f) + noise`` does not depend
      on the state, so it is computed for a block of steps at a time (``BLOCK_VALUES``, about
      the L2 cache): a casting ``np.copyto`` (far faster than a mixed-dtype ufunc), then
      in-place ufuncs.
    * **Reset coordinates.** The loop keeps ``u = v - v_reset`` (the constants absorb the
      shift), so a spike resets ``u`` to 0 and "reset where spiking" is one multiplication by
      the boolean no-spike row: about half the cost of ``np.putmask``/``np.copyto(where=)`` and
      a third of ``np.where``. Each block of output rows goes back to ``v`` while in cache.
    * **Clip only when it can act.** ``v_threshold`` fits the format, so anything above the
      maximum spikes whether or not it was clipped: no upper clip. The lower clip is left out of
      a run when an exact integer bound over the inputs' ranges shows it never acts.
    * **Wrap in two shifts.** ``overflow="wrap"`` keeps bits ``f .. f + data_width - 1`` of
      ``z = u * c + (d << f)``: ``(z << a) >> (a + f)``, exact modulo the dtype.
    * **Narrow, allocation-free calls.** ``int32`` whenever every intermediate value provably
      fits (``int64`` otherwise). With the defaults a step is five ufunc calls (multiply, shift,
      add, compare, select), each writing into a preallocated row (positional ``out``) with 0-d
      array operands (a Python int is converted again on every call); scratch buffers persist
      across :meth:`run` calls.
    * **Refractory counter** ``q`` (steps since the last spike, saturating at ``refractory``)
      is ``uint8``/``uint16``, updated as ``(q + in_refractory) * no_spike`` on boolean views;
      the ``refr`` output is ``refractory - q``.
    * **Few instances** (``n <= SCALAR_MAX_N``, where NumPy's per-call overhead dominates) and
      parameters too wide for ``int64`` take a plain Python-integer loop.
    """

    #: Up to this many instances the plain Python loop is faster than NumPy calls.
    SCALAR_MAX_N = 10
    #: Values of the drive per block of steps (``int32``: 512 KiB, about one core's L2 cache).
    BLOCK_VALUES = 1 << 17

    def reset(self):
        p = self.component
        self._dtype = self._pick_dtype()
        self._v = np.full(self.n, p.v_rest, dtype=np.int64)
        self._refr = np.zeros(self.n, dtype=np.int64)  # refractory steps left
        self._buffers = {}

    def _pick_dtype(self):
        """Return ``np.int32``/``np.int64`` if the vector loop is exact in it, else ``None``."""
        p = self.component
        dw, f = p.data_width, p.fraction
        if p.overflow == "wrap":
            # Only bits f .. f + dw - 1 of the sum are kept, and those are exact modulo 2**bits.
            return np.int32 if dw + f <= 32 else np.int64
        half = 1 << (dw - 1)
        u_max = half + abs(p.v_reset) + 1  # |v - v_reset|
        if p.leak_k is None:
            k_max, c_max = half, (1 << f) + half
        else:
            k_max, c_max = abs(p.leak_k), abs((1 << f) - p.leak_k)
        g_max = half if p.gain_k is None else abs(p.gain_k)
        e_max = half * g_max + (half << f if p.noise else 0) + abs(p.v_rest - p.v_reset) * k_max
        total = u_max * c_max + e_max
        for dtype, bits in ((np.int32, 31), (np.int64, 63)):
            if total < (1 << bits):
                return dtype
        return None

    def _run(self, inputs, steps):
        if self._dtype is None or self.n <= self.SCALAR_MAX_N:
            return self._run_scalar(inputs, steps)
        return self._run_vector(inputs, steps)

    # -- the vector loop ------------------------------------------------------------------
    def _buffer(self, name, shape, dtype):
        """Return a scratch array kept across :meth:`run` calls (no allocation per call)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.empty(shape, dtype=dtype)
        return buf

    def _may_leave_range(self, inputs):
        """Return whether ``x`` can fall below the format (saturate) during this run.

        An exact lower bound over every reachable state and the actual input ranges (one
        reduction per input): when it is in range, the lower clip is left out of the loop. (The
        upper clip never matters: ``v_threshold`` fits the format, so such an ``x`` spikes.)
        """
        p = self.component
        f, lo, hi, vr = p.fraction, p.v_format.min, p.v_format.max, p.v_reset
        rest_k = p.v_rest - vr

        def extremes(key):
            arr = inputs[key]
            return (int(arr.min()), int(arr.max())) if arr.size else (0, 0)

        if p.leak_k is None:
            k_lo, k_hi = extremes("leak_k")
        else:
            k_lo = k_hi = p.leak_k
        u_c = min(u * ((1 << f) - k) for u in (lo - vr, hi - vr) for k in (k_lo, k_hi))
        big_k = min(rest_k * k_lo, rest_k * k_hi)
        cur = inputs["current"]
        if p.gain_k is not None:
            # one reduction: the product is monotonic in the current
            g = p.gain_k
            c_end = int(cur.min() if g >= 0 else cur.max()) if cur.size else 0
            drive = (c_end * g) >> f
        else:
            c_lo, c_hi = extremes("current")
            g_lo, g_hi = extremes("gain_k")
            drive = min(c * g for c in (c_lo, c_hi) for g in (g_lo, g_hi)) >> f
        if p.noise:
            drive += int(inputs["noise"].min()) if cur.size else 0
        return ((u_c + big_k) >> f) + drive < lo - vr

    def _run_vector(self, inputs, steps):
        p = self.component
        n, dt = self.n, self._dtype
        bits = np.dtype(dt).itemsize * 8
        f, dw, period = p.fraction, p.data_width, p.refractory
        lo = p.v_format.min
        v_reset, v_rest = p.v_reset, p.v_rest
        wrap = p.overflow == "wrap"
        rest_k = v_rest - v_reset  # the leak pulls towards v_rest: (v_rest - v_reset) * k in u

        def const(value):
            # A 0-d array of the loop dtype: the cheapest scalar operand for a ufunc. Reduced
            # modulo 2**bits, which only ever changes it in wrap mode (where that is exact).
            value = ((value + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))
            return np.array(value, dtype=dt)

        out_v = np.empty((steps, n), dtype=dt)
        out_s = np.empty((steps, n), dtype=np.bool_)
        out_s8 = out_s.view(np.uint8)
        block = max(1, min(steps, self.BLOCK_VALUES // n))
        d_buf = self._buffer("d", (block, n), dt)  # drive (saturate) or E (wrap), per step
        tmp = self._buffer("tmp", (n,), dt)
        u = u_buf = self._buffer("u", (n,), dt)
        np.subtract(self._v, v_reset, out=u, casting="unsafe")  # reset coordinates

        # -- constants, as 0-d arrays (full rows where NumPy is faster with them)
        f0 = const(f)
        mask_f = const(-(1 << f))
        g = p.gain_k
        # Saturate: d = (current * g) >> f, or current * (g >> f) when g is a multiple of 2**f.
        # Wrap: d = ((current * g) >> f) << f, i.e. current * g with the low f bits cleared.
        g_mult = g is not None and g % (1 << f) == 0
        g_eff = g >> f if g_mult and not wrap else g
        g0 = const(g_eff) if g is not None else None
        floor_shift = f and not g_mult and not wrap
        floor_mask = f and not g_mult and wrap
        k_const = None  # added to u * c before the shift, when not 0
        if p.leak_k is not None:
            k = p.leak_k
            c_rows = [const((1 << f) - k)] * block
            big_k = rest_k * k
            if wrap:
                d_const = big_k + (v_reset << f)  # wrap works in v coordinates
            else:
                d_const = big_k >> f  # exact split: (z + K) >> f == ((z + K % 2**f) >> f) + K >> f
                if big_k % (1 << f):
                    k_const = const(big_k % (1 << f))
        else:
            c_buf = self._buffer("c", (block, n), dt)
            k_buf = self._buffer("k", (block, n), dt) if rest_k else None
            two_f = const(1 << f)
            d_const = v_reset << f if wrap else 0
        d_const0 = const(d_const)
        k_rows = [k_const] * block if k_const is not None else None
        if p.gain_k is None or p.noise:
            x_buf = self._buffer("x", (block, n), dt)
        if wrap:
            # keep bits f .. f + dw - 1 of z, sign-extended: (z << a) >> (a + f)
            shift_a = bits - f - dw
            a0, sh0 = const(shift_a), const(shift_a + f)
            th0 = const(p.v_threshold)
        else:
            th0 = const(p.v_threshold - v_reset)
            lo_row = np.full(n, lo - v_reset, dtype=dt)  # np.maximum is faster on full rows
        vr0 = const(v_reset)
        if period:
            qt = np.uint8 if period <= 255 else np.uint16
            q = self._buffer("q", (n,), qt)  # steps since the last spike, saturating at period
            np.subtract(period, self._refr, out=q, casting="unsafe")
            period0 = np.array(period, dtype=qt)
            ns = self._buffer("ns", (n,), np.bool_)
            inref = self._buffer("inref", (n,), np.bool_)
            keep = self._buffer("keep", (n,), np.bool_)
            inref8 = inref.view(np.uint8)
            rest0 = const(rest_k)
            out_r = np.empty((steps, n), dtype=qt)  # refractory steps left: period - q
            t_r = 0  # its next row

        clip = not wrap and self._may_leave_range(inputs)
        multiply, add, right_shift, left_shift = np.multiply, np.add, np.right_shift, np.left_shift
        less, maximum, copyto = np.less, np.maximum, np.copyto
        for t0 in range(0, steps, block):
            t1 = min(steps, t0 + block)
            d = d_buf[: t1 - t0]
            # -- the drive of the block: d = ((current * gain_k) >> f) + noise. copyto() casts
            # far faster than a ufunc with mixed dtypes; the rest is in place in the cache.
            copyto(d, inputs["current"][t0:t1], casting="unsafe")
            if g is None:
                x = x_buf[: t1 - t0]
                copyto(x, inputs["gain_k"][t0:t1], casting="unsafe")
                multiply(d, x, out=d)
            elif g_eff != 1:
                multiply(d, g0, out=d)
            if floor_shift:
                right_shift(d, f0, out=d)
            elif floor_mask:
                np.bitwise_and(d, mask_f, out=d)  # (x >> f) << f in one operation
            if p.noise:
                x = x_buf[: t1 - t0]
                copyto(x, inputs["noise"][t0:t1], casting="unsafe")
                if wrap and f:
                    left_shift(x, f0, out=x)
                add(d, x, out=d)
            if p.leak_k is None:
                c = c_rows = c_buf[: t1 - t0]
                copyto(c, inputs["leak_k"][t0:t1], casting="unsafe")
                if rest_k:
                    k_rows = k_buf[: t1 - t0]
                    multiply(c, const(rest_k), out=k_rows)
                np.subtract(two_f, c, out=c)  # c = 2**f - leak_k
            if wrap and k_rows is not None:
                add(d, k_rows, out=d)  # E = (drive << f) + K: z = u * c + E
                k_rows = None
            if d_const:
                add(d, d_const0, out=d)
            rows, srows, srows8 = out_v[t0:t1], out_s[t0:t1], out_s8[t0:t1]
            ks = k_rows if k_rows is not None else c_rows  # (unused when k_rows is None)
            for row, srow, srow8, d_t, c_t, k_t in zip(
                rows, srows, srows8, d, c_rows, ks, strict=False
            ):
                multiply(u, c_t, tmp)  # u * (2**f - leak_k)
                if wrap:
                    add(tmp, d_t, tmp)  # z
                    if shift_a:
                        left_shift(tmp, a0, tmp)
                    if shift_a or f:
                        right_shift(tmp, sh0, tmp)  # x = wrap(z >> f), v coordinates
                    if period:
                        less(tmp, th0, ns)
                    else:
                        less(tmp, th0, srow)  # "no spike"; inverted after the block
                    if v_reset:
                        np.subtract(tmp, vr0, tmp)
                else:
                    if k_rows is not None:
                        add(tmp, k_t, tmp)
                    if f:
                        right_shift(tmp, f0, tmp)
                    add(tmp, d_t, tmp)  # x, reset coordinates
                    if clip:
                        maximum(tmp, lo_row, out=tmp)
                    if period:
                        less(tmp, th0, ns)
                    else:
                        less(tmp, th0, srow)  # "no spike"; inverted after the block
                if period:
                    less(q, period0, inref)  # still refractory: no spike, v = v_rest
                    np.logical_or(ns, inref, srow)  # no spike (inverted below)
                    np.greater(ns, inref, keep)  # keeps its x
                    multiply(tmp, keep, row)
                    if rest0:
                        copyto(row, rest0, where=inref)
                    add(q, inref8, q)  # q + 1 while refractory, saturating at period
                    multiply(q, srow8, q)  # 0 after a spike
                    np.subtract(period0, q, out_r[t_r])
                    t_r += 1
                else:
                    multiply(tmp, srow, row)  # reset to 0 (v_reset) where spiking
                u = row
            np.logical_not(srows, out=srows)  # rows held "no spike"
            if v_reset:
                copyto(u_buf, u)  # the state stays in reset coordinates
                u = u_buf
                add(rows, vr0, out=rows)  # back to v coordinates
        if steps:
            self._v = out_v[-1].astype(np.int64)
            if period:
                self._refr = period - q.astype(np.int64)
        if period:
            return {"spike": out_s.view(np.uint8), "v": out_v, "refr": out_r}
        return {"spike": out_s.view(np.uint8), "v": out_v}

    # -- the scalar loop ------------------------------------------------------------------
    def _run_scalar(self, inputs, steps):
        """Step each instance with Python integers: exact for every width, fast for tiny ``n``."""
        p = self.component
        f, th, v_rest, v_reset, period = (
            p.fraction,
            p.v_threshold,
            p.v_rest,
            p.v_reset,
            p.refractory,
        )
        lo = p.v_format.min  # no upper clip: anything above the maximum spikes anyway
        wrap = p.overflow == "wrap"
        sign, mask = 1 << (p.data_width - 1), (1 << p.data_width) - 1
        cols = {key: arr.T.tolist() for key, arr in inputs.items()}
        out_v = np.empty((steps, self.n), dtype=self._dtype or np.int64)
        out_s = np.empty((steps, self.n), dtype=np.uint8)
        out_r = np.empty((steps, self.n), dtype=np.int64) if period else None
        for i in range(self.n):
            cur = cols["current"][i]
            if p.gain_k is None:
                drive = [(x * g) >> f for x, g in zip(cur, cols["gain_k"][i], strict=True)]
            else:
                g = p.gain_k
                drive = [(x * g) >> f for x in cur]
            if p.noise:
                drive = [d + z for d, z in zip(drive, cols["noise"][i], strict=True)]
            # v + (((v_rest - v) * k) >> f) == (v * (2**f - k) + v_rest * k) >> f
            if p.leak_k is None:
                leaks = cols["leak_k"][i]
                cs = [(1 << f) - k for k in leaks]
                ks = [v_rest * k for k in leaks] if v_rest else repeat(0)
            else:
                cs = repeat((1 << f) - p.leak_k)
                ks = repeat(v_rest * p.leak_k)
            v, refr = int(self._v[i]), int(self._refr[i])
            vs, ss, rs = [], [], []
            for d, c, k in zip(drive, cs, ks, strict=False):  # cs, ks may repeat forever
                if refr:
                    refr -= 1
                    v = v_rest
                    s = 0
                else:
                    x = ((v * c + k) >> f) + d
                    if wrap:
                        x = ((x + sign) & mask) - sign
                    elif x < lo:
                        x = lo
                    if x >= th:
                        v, s, refr = v_reset, 1, period
                    else:
                        v, s = x, 0
                vs.append(v)
                ss.append(s)
                if period:
                    rs.append(refr)
            out_v[:, i] = vs
            out_s[:, i] = ss
            if period:
                out_r[:, i] = rs
            self._v[i], self._refr[i] = v, refr
        if period:
            return {"spike": out_s, "v": out_v, "refr": out_r}
        return {"spike": out_s, "v": out_v}


@hookimpl
def neurogate_register_components():
    return [LIF]
