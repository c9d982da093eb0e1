"""The component contract: frozen, validated parameters with a NumPy model and Amaranth gateware.

A component class declares its parameters as :class:`Param` class attributes. An instance is
an immutable, validated parameter set; it knows its ports and latency, builds a bit-true NumPy
model of ``n`` independent instances (:meth:`Component.model`) and an
:class:`amaranth.lib.wiring.Component` (:meth:`Component.create`).

>>> import neurogate as ng
>>> lif = ng.component("lif", v_threshold=300)
>>> lif.v_threshold, lif.latency
(300, 1)
>>> sorted(lif.inputs)
['current']
>>> lif.v_threshold = 5
Traceback (most recent call last):
    ...
AttributeError: lif parameters are frozen; use .replace(v_threshold=...) to make a changed copy
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from amaranth.hdl import Shape, signed, unsigned
from amaranth.lib import stream, wiring

from .fixed import FixedFormat

__all__ = [
    "KINDS",
    "REQUIRED",
    "Bool",
    "Choice",
    "Component",
    "Gateware",
    "Int",
    "Model",
    "Optional",
    "Param",
    "Port",
    "StreamPort",
]

#: The component kinds; every component's ``kind`` is one of them.
KINDS = ("neuron", "encoder", "decorrelator", "arith", "synapse", "router")


class _Required:
    def __repr__(self):
        return "REQUIRED"


#: Default of a :class:`Param` that must be given.
REQUIRED = _Required()


# -- parameter rules --------------------------------------------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


class Int:
    """Rule: an integer, optionally bounded (inclusive)."""

    def __init__(self, min: int | None = None, max: int | None = None):
        self.min, self.max = min, max

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"an int in {self.min}..{self.max}"
        if self.min is not None:
            return f"an int >= {self.min}"
        if self.max is not None:
            return f"an int <= {self.max}"
        return "an int"

    def __call__(self, where: str, value):
        if not _is_int(value):
            raise TypeError(f"{where} must be an int, not {value!r}")
        value = int(value)
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ValueError(f"{where} must be {self.describe()}, not {value!r}")
        return value


class Bool:
    """Rule: ``True`` or ``False``."""

    def describe(self) -> str:
        return "a bool"

    def __call__(self, where: str, value):
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{where} must be a bool, not {value!r}")
        return bool(value)


class Choice:
    """Rule: one of a fixed set of values."""

    def __init__(self, *options):
        self.options = options

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def __call__(self, where: str, value):
        if value not in self.options:
            raise ValueError(f"{where} must be {self.describe()}, not {value!r}")
        return value


class Optional:
    """Rule: ``None`` or whatever ``rule`` accepts."""

    def __init__(self, rule):
        self.rule = rule

    def describe(self) -> str:
        return f"None or {self.rule.describe()}"

    def __call__(self, where: str, value):
        if value is None:
            return None
        try:
            return self.rule(where, value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(str(exc).replace(" must be ", " must be None or ", 1)) from None


class Param:
    """A declared component parameter: a class attribute that reads as the validated value.

    Parameters
    ----------
    default
        The default value, or :data:`REQUIRED`.
    rule : callable
        ``rule(where, value) -> value`` validates and normalises one value, raising
        ``TypeError``/``ValueError`` with a message naming ``where``.
    doc : str
        One line for help texts and ``neurogate plugins``.
    """

    def __init__(self, default: Any = REQUIRED, rule: Callable | None = None, doc: str = ""):
        self.default = default
        self.rule = rule
        self.doc = doc
        self.name = "?"

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance._values[self.name]

    def __set__(self, instance, value):
        raise AttributeError(
            f"{instance.name} parameters are frozen; "
            f"use .replace({self.name}=...) to make a changed copy"
        )

    def __repr__(self):
        return f"Param({self.name}, default={self.default!r})"


@dataclass(frozen=True)
class Port:
    """One port of a component: direction, width and signedness.

    Members
    -------
    direction : str
        ``"in"`` or ``"out"``.
    width : int
        Bits.
    signed : bool
        Two's complement when true.
    doc : str
        What the port carries.
    init : int
        Reset value of an output port.
    """

    direction: str
    width: int
    signed: bool = False
    doc: str = ""
    init: int = 0

    @property
    def shape(self) -> Shape:
        """The Amaranth shape."""
        return signed(self.width) if self.signed else unsigned(self.width)

    @property
    def format(self) -> FixedFormat:
        """The integer format (no fraction) of the values on this port."""
        return FixedFormat(self.width, 0, self.signed)

    def describe(self) -> str:
        """Return e.g. ``"in  signed 16"``."""
        return f"{self.direction:<3} {'signed' if self.signed else 'unsigned'} {self.width}"


@dataclass(frozen=True)
class StreamPort:
    """A stream port (:mod:`amaranth.lib.stream`: ``valid``, ``ready``, ``payload``).

    Routers and synapses pass address-events (:mod:`neurogate.gateware.aer`) on stream ports.
    Their transfers depend on ``valid``/``ready`` handshakes, not on one value per clock cycle,
    so components with stream ports are simulated with :mod:`neurogate.sim.streams` (seeded
    random ``valid``/``ready``, on ``pysim``, ``verilator`` or ``icarus``), not with
    :func:`neurogate.sim.run`.

    Members
    -------
    direction : str
        ``"in"`` (the component receives: it drives ``ready``) or ``"out"``.
    layout : amaranth.lib.data.Layout
        The payload layout.
    doc : str
        What the stream carries.
    """

    direction: str
    layout: Any
    doc: str = ""

    @property
    def width(self) -> int:
        """Bits of the payload."""
        return Shape.cast(self.layout).width

    def describe(self) -> str:
        """Return e.g. ``"in  stream 10"``."""
        return f"{self.direction:<3} stream {self.width}"


# -- the component base -------------------------------------------------------------------------
class Component:
    """Base class of every neurogate component (neurons, encoders, SC arithmetic, ...).

    Subclasses set the class attributes :attr:`name` and :attr:`kind`, declare
    :class:`Param` attributes, and implement :attr:`ports`, :meth:`model` and
    :meth:`create`. Cross-parameter rules go in :meth:`validate`.

    Instances are immutable and compare equal when their class and parameters are equal.
    """

    #: Registry name, e.g. ``"lif"``.
    name: ClassVar[str] = ""
    #: One of :data:`KINDS`.
    kind: ClassVar[str] = ""
    #: Names of documented internal state values that :meth:`Model.run` also returns.
    state: ClassVar[tuple[str, ...]] = ()
    _params: ClassVar[dict[str, Param]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        params: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if isinstance(value, Param):
                    params[key] = value
        cls._params = params

    def __init__(self, **params):
        unknown = [k for k in params if k not in self._params]
        if unknown:
            names = ", ".join(self._params) or "(none)"
            raise TypeError(
                f"{self.name} has no parameter {unknown[0]!r}; its parameters are: {names}"
            )
        values = {}
        for key, spec in self._params.items():
            value = params.get(key, spec.default)
            if value is REQUIRED:
                raise TypeError(f"{self.name}.{key} is required")
            if spec.rule is not None:
                value = spec.rule(f"{self.name}.{key}", value)
            values[key] = value
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_given", dict(params))
        self.validate()

    def validate(self) -> None:
        """Check rules that involve more than one parameter; raise ``ValueError``.

        Called once by the constructor, after each parameter passed its own rule.
        """

    def check_fits(self, param: str, fmt: FixedFormat) -> None:
        """Raise unless parameter ``param`` fits the integer format ``fmt``."""
        fmt.check(f"{self.name}.{param}", self._values[param])

    def __setattr__(self, key, value):
        if key in self._params:
            self._params[key].__set__(self, value)
        raise AttributeError(f"{self.name} parameters are frozen")

    # -- identity ---------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """All parameter values, by name (a copy)."""
        return dict(self._values)

    def is_given(self, param: str) -> bool:
        """Whether ``param`` was given by the caller (``False``: left to its default)."""
        return param in self._given

    def replace(self, **changes) -> Component:
        """Return a copy with some parameters changed (validated again).

        Parameters that were left to their defaults stay defaults, so defaults that depend on
        other parameters (such as ``lfsr``'s seed and taps on its width) follow the change.
        """
        return type(self)(**{**self._given, **changes})

    def __eq__(self, other):
        return type(self) is type(other) and self._values == other._values

    def __hash__(self):
        return hash((type(self), tuple(sorted(self._values.items(), key=lambda kv: kv[0]))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{self.name}({args})"

    # -- the contract -------------------------------------------------------------------------
    @property
    def ports(self) -> dict[str, Port]:
        """Port name -> :class:`Port` (depends on the parameters)."""
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Clock cycles from an input to the output that depends on it."""
        return 0

    @property
    def inputs(self) -> dict[str, Port]:
        """The input ports."""
        return {k: p for k, p in self.ports.items() if p.direction == "in"}

    @property
    def outputs(self) -> dict[str, Port]:
        """The output ports."""
        return {k: p for k, p in self.ports.items() if p.direction == "out"}

    def signature(self) -> wiring.Signature:
        """Return the Amaranth signature with exactly :attr:`ports`."""
        members = {}
        for key, port in self.ports.items():
            if isinstance(port, StreamPort):
                sig = stream.Signature(port.layout)
                members[key] = wiring.In(sig) if port.direction == "in" else wiring.Out(sig)
            elif port.direction == "in":
                members[key] = wiring.In(port.shape)
            else:
                members[key] = wiring.Out(port.shape, init=port.init)
        return wiring.Signature(members)

    def model(self, n: int = 1) -> Model:
        """Return a bit-true NumPy model of ``n`` independent instances."""
        raise NotImplementedError

    def create(self) -> wiring.Component:
        """Return the gateware: a :class:`~amaranth.lib.wiring.Component` with :attr:`ports`."""
        raise NotImplementedError

    def properties(self, m, dut) -> None:
        """Add the formal properties of the gateware ``dut`` to the module ``m`` (optional).

        :mod:`neurogate.sim.formal` calls this on a harness module ``m`` that holds ``dut``
        (from :meth:`create`) as its submodule ``dut``, drives every input port of ``dut``
        with a free value that may change in every cycle, and holds the ``sync`` reset high
        in the first cycle only. Add ``m.d.comb += Assert(test, "name")`` for each property
        (the name is what reports show) and ``Assume(...)`` to narrow the inputs;
        :func:`neurogate.sim.formal.past` gives earlier values. A bounded model check then
        looks for an input sequence that breaks an assertion (``neurogate verify NAME
        --formal``). The default declares none.
        """

    # -- random sources (the seed allocator's protocol) ---------------------------------------
    def sequence_key(self) -> Hashable | None:
        """Return what identifies the pseudo-random sequence this component generates.

        Two components with equal keys produce the same sequence (and so fully correlated
        streams); the seed allocator refuses them unless the user asks for sharing.
        ``None`` (the default) means the component has no random source of its own.
        """
        return None

    def allocate_seed(self, index: int) -> Component:
        """Return a copy using the ``index``-th allocation of its random source.

        Allocations ``0, 1, 2, ...`` give pairwise different :meth:`sequence_key` values, and
        are chosen to be far apart (different seeds spread around an LFSR's cycle, different
        Sobol dimensions, different Halton bases, ...). Components without a random source
        raise ``TypeError``.
        """
        raise TypeError(f"{self.name} has no random source to allocate a seed for")


class Gateware(wiring.Component):
    """Base of a component's gateware: a :class:`~amaranth.lib.wiring.Component` whose signature
    is exactly the parameters' :attr:`Component.ports`.

    Subclasses implement ``elaborate`` and read their parameters from :attr:`params`.
    """

    def __init__(self, params: Component):
        self._params = params
        super().__init__(params.signature())

    @property
    def params(self) -> Component:
        """The validated parameters this gateware was built from."""
        return self._params


# -- models -------------------------------------------------------------------------------------
class Model:
    """Base of the bit-true NumPy models returned by :meth:`Component.model`.

    A model holds the state of ``n`` instances, starting from the reset state. Successive
    :meth:`run` calls continue from where the last one stopped, as the hardware would;
    :meth:`reset` goes back to the reset state. Subclasses implement :meth:`reset` and
    :meth:`_run`.
    """

    def __init__(self, component: Component, n: int = 1):
        if not _is_int(n) or n < 1:
            raise ValueError(f"n must be a positive int, not {n!r}")
        self.component = component
        self.n = int(n)
        self.reset()

    def reset(self) -> None:
        """Return every instance to its reset state."""

    def run(self, inputs: Mapping[str, Any] | None = None, steps: int | None = None):
        """Advance ``T`` steps and return every output port and documented state value.

        Parameters
        ----------
        inputs : dict
            ``{input_port: int array of shape (T, n)}`` (shape ``(T,)`` drives every instance
            alike). Every input port must be given; values must fit the port.
        steps : int, optional
            ``T``; required only when the component has no input ports.

        Returns
        -------
        dict
            ``{name: int array of shape (T, n)}`` for each output port and each name in
            :attr:`Component.state`. Row ``t`` is the value after step ``t``.
        """
        arrays, steps = check_inputs(self.component, inputs, steps, self.n)
        return self._run(arrays, steps)

    def _run(self, inputs: dict[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
        raise NotImplementedError


def require_value_ports(component: Component) -> None:
    """Raise ``TypeError`` if ``component`` has a :class:`StreamPort` (no one value per cycle)."""
    streams = [k for k, p in component.ports.items() if isinstance(p, StreamPort)]
    if streams:
        raise TypeError(
            f"{component.name} has stream ports ({', '.join(streams)}): simulate it with "
            "neurogate.sim.streams, not with one value per cycle"
        )


def check_inputs(component: Component, inputs, steps, n):
    """Validate a stimulus for ``component`` and return ``({port: (T, n) array}, T)``.

    Raises ``ValueError``/``TypeError`` naming the port and, for out-of-range values, the
    first offending step and instance.
    """
    inputs = dict(inputs or {})
    require_value_ports(component)
    ports = component.inputs
    for key in inputs:
        if key not in ports:
            names = ", ".join(ports) or "(none)"
            raise ValueError(f"{component.name} has no input port {key!r}; its inputs are: {names}")
    for key in ports:
        if key not in inputs:
            raise ValueError(f"{component.name} input {key!r} is missing from the stimulus")
    arrays = {}
    for key, port in ports.items():
        arr = np.asarray(inputs[key])
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        if arr.dtype.kind not in "iu":
            raise TypeError(
                f"{component.name} input {key!r} must be an integer array, not dtype {arr.dtype}"
            )
        if arr.ndim == 1:
            arr = np.broadcast_to(arr[:, None], (arr.shape[0], n))
        if arr.ndim != 2 or arr.shape[1] != n:
            raise ValueError(
                f"{component.name} input {key!r} must have shape (T, {n}) or (T,), not {arr.shape}"
            )
        if steps is None:
            steps = arr.shape[0]
        elif arr.shape[0] != steps:
            raise ValueError(
                f"{component.name} input {key!r} has {arr.shape[0]} steps, expected {steps}"
            )
        fmt = port.format
        info = np.iinfo(arr.dtype)
        if arr.size and (info.min < fmt.min or info.max > fmt.max):
            # Scan only when the dtype can hold out-of-range values.
            lo, hi = arr.min(), arr.max()
            if lo < fmt.min or hi > fmt.max:
                bad = np.argwhere((arr < fmt.min) | (arr > fmt.max))[0]
                raise ValueError(
                    f"{component.name} input {key!r} must fit {fmt.describe()}, not "
                    f"{int(arr[tuple(bad)])} (step {bad[0]}, instance {bad[1]})"
                )
        arrays[key] = arr
    if steps is None:
        raise ValueError(f"{component.name} has no inputs: pass steps=T")
    if not _is_int(steps) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, not {steps!r}")
    return arrays, int(steps)


def bits_for(value: int) -> int:
    """Return the number of bits of an unsigned int ``value`` (at least 1)."""
    return max(1, math.ceil(math.log2(value + 1)))
