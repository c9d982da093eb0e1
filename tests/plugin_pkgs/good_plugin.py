"""A well-formed third-party plugin: one component, registered through the public hook."""

import numpy as np
from amaranth.hdl import Module

import neurogate as ng
from neurogate.core.component import Int, Param
from neurogate.sim.backends import ModelBackend


class Accumulator(ng.Component):
    """Wrapping accumulator: ``acc += x`` each step (registered, latency 1)."""

    name = "test_accum"
    kind = "arith"
    width = Param(8, Int(1, 32), "accumulator width")

    @property
    def ports(self):
        return {"x": ng.Port("in", self.width), "acc": ng.Port("out", self.width)}

    @property
    def latency(self):
        return 1

    def model(self, n=1):
        return AccumulatorModel(self, n)

    def create(self):
        return AccumulatorGateware(self)


class AccumulatorModel(ng.Model):
    def reset(self):
        self._acc = np.zeros(self.n, dtype=np.int64)

    def _run(self, inputs, steps):
        total = self._acc + np.cumsum(inputs["x"], axis=0)
        out = total & ((1 << self.component.width) - 1)
        if steps:
            self._acc = out[-1].copy()
        return {"acc": out}


class AccumulatorGateware(ng.Gateware):
    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.acc.eq(self.acc + self.x)
        return m


@ng.hookimpl
def neurogate_register_components():
    return [Accumulator]


class CopyOfModelBackend(ModelBackend):
    """A plugin backend: the NumPy model under another name."""

    name = "test_model_copy"


@ng.hookimpl
def neurogate_register_sim_backends():
    return [CopyOfModelBackend]


class Board:
    name = "test_board"


@ng.hookimpl
def neurogate_register_boards():
    return [Board()]
