"""Reactive test benches that run unchanged on ``pysim``, ``verilator`` and ``icarus``.

Value-port components take one stimulus row per clock cycle, so every backend can play a
precomputed stimulus. Stream components and whole networks cannot: a bench must wait for
``ready``, hold ``valid``, or wait for ``done``, so what it drives depends on what it reads. This
module runs such benches as **programs**: Python generators that talk to the gateware through
the top-level ports, cycle by cycle, in the same way on every simulator.

A program is a generator function ``program(io, config)``. Every clock cycle it

1. drives inputs with ``io.drive(name, value)`` and then ``yield``\\ s (the inputs settle);
2. reads outputs with ``io.read(name)`` (settled values before the clock edge, raw unsigned
   bits) and then ``yield``\\ s again (the rising clock edge);

and it returns its result (JSON data: ints, strings, lists, dicts) when it is done, after
either ``yield``. Port names are the flattened member paths of the gateware's signature joined
by ``__``, as Amaranth names Verilog ports (``i__valid``, ``i__payload``, ``strobe``).
``config`` is JSON data too, because under cocotb the program runs in the simulator's process:
it is imported there by name (``"module:function"``), so it must be a module-level function.

:func:`run` starts one program per gateware, all in lock step after one reset cycle, and
returns their results; it runs them under the Amaranth simulator or, through
:func:`neurogate.sim.cosim.run_program`, under cocotb. Given the same programs and gateware
every backend sees the same cycles, so their results are equal, cycle for cycle.

An exception raised by a program propagates out of :func:`run` on every backend (under cocotb
it is rebuilt in this process from its class, message and attributes).

>>> from amaranth.hdl import Module, Signal
>>> from amaranth.lib import wiring
>>> from amaranth.lib.wiring import In, Out
>>> class Acc(wiring.Component):
...     def __init__(self):
...         super().__init__({"x": In(4), "total": Out(8)})
...     def elaborate(self, platform):
...         m = Module()
...         m.d.sync += self.total.eq(self.total + self.x)
...         return m
>>> def add_until(io, config):
...     seen = []
...     while True:
...         io.drive("x", 3)
...         yield
...         seen.append(io.read("total"))
...         if seen[-1] >= config["limit"]:
...             return seen
...         yield
>>> run([Acc()], add_until, [{"limit": 10}])
[[0, 3, 6, 9, 12]]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from amaranth.lib import data, wiring

from neurogate.core.component import Component

from .backends import Side, reset, simulate

__all__ = [
    "GATEWARE_BACKENDS",
    "check_backend",
    "drive",
    "port_map",
    "program_name",
    "rebuild_error",
    "run",
]

#: The backends :func:`run` takes.
GATEWARE_BACKENDS = ("pysim", "verilator", "icarus")


def port_map(gw: wiring.Component) -> dict[str, tuple[str, int, object]]:
    """Return ``{port name: (flow "in"/"out", width, value)}`` of ``gw``'s signature."""
    ports = {}
    for path, member, value in gw.signature.flatten(gw):
        raw = value.as_value() if isinstance(value, data.View) else value
        flow = "in" if member.flow == wiring.In else "out"
        ports["__".join(str(p) for p in path)] = (flow, len(raw), raw)
    return ports


def program_name(program: Callable) -> str:
    """Return ``"module:function"`` of a module-level program function."""
    name = f"{program.__module__}:{program.__qualname__}"
    if "<" in program.__qualname__ or "." in program.__qualname__:
        raise ValueError(
            f"a bench program must be a module-level function (importable by name), "
            f"not {program.__qualname__!r}"
        )
    return name


def load_program(name: str) -> Callable:
    """Import ``"module:function"``."""
    module, func = name.split(":")
    return getattr(importlib.import_module(module), func)


class _Prefixed:
    """One program's view of the ports: its gateware's port names, prefixed on the bus."""

    def __init__(self, io, prefix: str):
        self._io, self._prefix = io, prefix

    def drive(self, name: str, value: int) -> None:
        self._io.drive(self._prefix + name, value)

    def read(self, name: str) -> int:
        return self._io.read(self._prefix + name)


async def drive(io, programs: Sequence, configs: Sequence) -> list:
    """Run ``programs[k](view_k, configs[k])`` in lock step on ``io``; return their results.

    ``io`` has ``drive(name, value)``, ``read(name)``, ``async settle()`` and ``async edge()``;
    program ``k`` sees the ports named ``d<k>__<name>``.
    """
    gens = [
        program(_Prefixed(io, f"d{k}__"), config)
        for k, (program, config) in enumerate(zip(programs, configs, strict=True))
    ]
    results: list = [None] * len(gens)
    active = list(range(len(gens)))

    def step(k) -> bool:
        try:
            next(gens[k])
        except StopIteration as stop:
            results[k] = stop.value
            return False
        return True

    while active:
        active = [k for k in active if step(k)]  # drive
        await io.settle()
        active = [k for k in active if step(k)]  # read
        if active:
            await io.edge()
    return results


class _PysimIO:
    def __init__(self, ctx, ports: dict):
        self._ctx, self._ports = ctx, ports

    def drive(self, name, value):
        sig = self._ports[name]
        width = len(sig)
        if sig.shape().signed and value >> (width - 1) & 1:
            value -= 1 << width  # raw bits of a negative value
        self._ctx.set(sig, value)

    def read(self, name):
        sig = self._ports[name]
        return self._ctx.get(sig) & ((1 << len(sig)) - 1)

    async def settle(self):
        pass

    async def edge(self):
        await self._ctx.tick()


def _gateware(dut) -> wiring.Component:
    return dut.create() if isinstance(dut, Component) else dut


def check_backend(backend: str) -> None:
    """Raise ``ValueError`` unless ``backend`` is one of :data:`GATEWARE_BACKENDS`."""
    if backend not in GATEWARE_BACKENDS:
        raise ValueError(
            f"a bench program runs on {', '.join(map(repr, GATEWARE_BACKENDS))}, not {backend!r}"
        )


def run(duts: Sequence, program: Callable, configs: Sequence, backend: str = "pysim", *,
        vcd: str | None = None) -> list:  # fmt: skip
    """Run ``program`` once per gateware in ``duts`` (with ``configs[k]``); return the results.

    ``duts`` holds neurogate components (their :meth:`~neurogate.core.component.Component.create`
    is simulated) or Amaranth ``wiring.Component`` objects; ``backend`` is one of
    :data:`GATEWARE_BACKENDS`.
    """
    if backend not in GATEWARE_BACKENDS:
        raise ValueError(
            f"a bench program runs on {', '.join(map(repr, GATEWARE_BACKENDS))}, not {backend!r}"
        )
    name = program_name(program)
    if backend != "pysim":
        from neurogate.sim import _backend
        from neurogate.sim.cosim import run_program

        _backend(backend)  # a missing simulator says what to install
        return run_program(backend, list(duts), name, list(configs), vcd=vcd)
    gateware = [_gateware(d) for d in duts]
    top = Side(gateware, prefix="d")
    ports = {}
    for k, gw in enumerate(gateware):
        for key, (_, _, value) in port_map(gw).items():
            ports[f"d{k}__{key}"] = value
    results = []

    async def testbench(ctx):
        await reset(ctx, top.domain)
        results.extend(await drive(_PysimIO(ctx, ports), [program] * len(gateware), configs))

    simulate(top, testbench, vcd)
    return results


def describe_error(exc: BaseException) -> dict:
    """Return a JSON description of ``exc`` that :func:`rebuild_error` turns back into one."""
    attrs = {}
    for key, value in vars(exc).items():
        if isinstance(value, int | str | float | bool | type(None) | list | dict | tuple):
            attrs[key] = value
    cls = type(exc)
    return {"module": cls.__module__, "class": cls.__qualname__, "message": str(exc),
            "attrs": attrs}  # fmt: skip


def rebuild_error(info: dict) -> BaseException:
    """Rebuild the exception :func:`describe_error` described (a RuntimeError if unknown)."""
    try:
        cls = getattr(importlib.import_module(info["module"]), info["class"])
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError
        exc = cls.__new__(cls)
        BaseException.__init__(exc, info["message"])
        exc.__dict__.update(info.get("attrs", {}))
        return exc
    except (ImportError, AttributeError, TypeError):
        return RuntimeError(f"{info['module']}.{info['class']}: {info['message']}")
