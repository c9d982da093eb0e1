"""One simulation API for every backend.

>>> import numpy as np
>>> import neurogate as ng
>>> lif = ng.component("lif", v_threshold=300)
>>> stim = ng.sim.random_inputs(lif, steps=50, n=3, seed=7)
>>> a = ng.sim.run(lif, stim, backend="model")
>>> b = ng.sim.run(lif, stim, backend="pysim")
>>> bool(np.array_equal(a["v"], b["v"]))
True
>>> result = ng.sim.compare(lif, steps=50, n=3, seed=7)
>>> result.backends
('model', 'pysim')
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from neurogate.core.component import Component, check_inputs, require_value_ports

__all__ = [
    "BackendUnavailableError",
    "Comparison",
    "MismatchError",
    "available_backends",
    "compare",
    "random_inputs",
    "run",
]


class MismatchError(AssertionError):
    """Two backends disagree. The message names the first differing cycle, port and instance.

    Attributes ``step``, ``port``, ``instance``, ``expected`` (first backend), ``actual``,
    ``backends`` and ``seed`` carry the same facts for programs.
    """

    def __init__(self, message, *, step, port, instance, expected, actual, backends, seed):
        super().__init__(message)
        self.step, self.port, self.instance = step, port, instance
        self.expected, self.actual = expected, actual
        self.backends, self.seed = backends, seed


class BackendUnavailableError(RuntimeError):
    """The requested backend is unknown or cannot run on this machine."""


def _registered_backends(pm=None) -> dict[str, type]:
    from neurogate import plugin_manager

    pm = pm or plugin_manager()
    return {name: reg.obj for name, reg in pm.sim_backends().items()}


def _backend(name: str, pm=None):
    available = _registered_backends(pm)
    if name not in available:
        known = ", ".join(available)
        raise BackendUnavailableError(f"no simulation backend named {name!r}; known: {known}")
    cls = available[name]
    reason = cls.unavailable_reason()
    if reason:
        raise BackendUnavailableError(f"backend {name!r} cannot run here: {reason}")
    return cls()


def available_backends(pm=None) -> dict[str, type]:
    """Return ``{name: backend class}`` for every registered simulation backend."""
    return _registered_backends(pm)


def random_inputs(component: Component, steps: int, n: int = 1, seed: int | None = 0):
    """Return a uniform random stimulus covering each input port's full range.

    ``seed`` seeds :func:`numpy.random.default_rng`, so the same seed gives the same stimulus.
    """
    require_value_ports(component)
    rng = np.random.default_rng(seed)
    stim = {}
    for key, port in component.inputs.items():
        fmt = port.format
        stim[key] = rng.integers(fmt.min, fmt.max, size=(steps, n), endpoint=True, dtype=np.int64)
    return stim


def _instances(inputs) -> int:
    """The instance count of a stimulus: the width of its 2-D arrays (1 if all are 1-D)."""
    widths = {np.shape(v)[1] for v in (inputs or {}).values() if np.ndim(v) == 2}
    return max(widths) if widths else 1


def _progress_bar(total: int, desc: str, enabled: bool | None):
    if enabled is False or (enabled is None and total < 20_000):
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="cyc", leave=False, disable=None)


def run(
    target,
    inputs: Mapping | None = None,
    backend: str = "model",
    *,
    steps: int | None = None,
    n: int | None = None,
    progress: bool | None = None,
    vcd: str | None = None,
) -> dict[str, np.ndarray]:
    """Run ``target`` on ``backend`` and return ``{output_port: (T, n) int array}``.

    Row ``t`` of every output is the value after step ``t``, whatever the backend and latency.

    A :class:`~neurogate.core.network.Network` runs the same way on ``"model"``, ``"pysim"``,
    ``"verilator"`` and ``"icarus"`` (:mod:`neurogate.sim.network`); it returns
    ``{population: {"spike": (T, n), field: (T, n)}}``.

    Parameters
    ----------
    target : Component or Network
        The component (or network) to simulate.
    inputs : dict
        ``{input_port: int array (T, n) or (T,)}``.
    backend : str
        ``"model"``, ``"pysim"``, or any plugin backend (see :func:`backends`).
    steps, n : int, optional
        Needed only when ``target`` has no inputs (``n`` defaults to 1).
    progress : bool, optional
        Show a progress bar; by default only for long cycle-level runs on a terminal.
    vcd : str, optional
        Write a waveform to this path (gateware backends).
    """
    from neurogate.core.network import Network

    if isinstance(target, Network):
        return _run_network(target, inputs, backend, steps, vcd)
    if n is None:
        n = _instances(inputs)
    arrays, steps = check_inputs(target, inputs, steps, n)
    impl = _backend(backend)
    if backend == "model":
        return impl.run(target, arrays, steps, n)
    total = (steps + target.latency) * n
    with _progress_bar(total, f"{backend} {target.name}", progress) as bar:
        tick = None if bar is None else (lambda k: bar.update(k * n))
        return impl.run(target, arrays, steps, n, progress=tick, vcd=vcd)


def _run_network(net, inputs, backend, steps, vcd):
    """``run`` for a :class:`~neurogate.core.network.Network`: its model or its gateware."""
    if backend == "model":
        return net.model().run(inputs, steps)
    from .harness import GATEWARE_BACKENDS

    if backend in GATEWARE_BACKENDS:
        from .network import run_gateware

        return run_gateware(net, inputs, steps, backend=backend, vcd=vcd)
    known = ", ".join(repr(b) for b in ("model", *GATEWARE_BACKENDS))
    raise ValueError(f"a network runs on the {known} backends, not {backend!r}")


@dataclass
class Comparison:
    """The outcome of a successful :func:`compare`: every backend's outputs, all equal."""

    component: Component
    backends: tuple[str, ...]
    inputs: dict[str, np.ndarray] = field(repr=False)
    outputs: dict[str, dict[str, np.ndarray]] = field(repr=False)
    seed: int | None = None

    @property
    def steps(self) -> int:
        """The number of steps compared."""
        first = next(iter(self.outputs.values()))
        return next(iter(first.values())).shape[0]


def compare(
    target: Component,
    stimulus: Mapping | None = None,
    backends: Sequence[str] = ("model", "pysim"),
    *,
    steps: int = 200,
    n: int = 4,
    seed: int | None = None,
    progress: bool | None = None,
) -> Comparison:
    """Run ``target`` on every backend and raise :class:`MismatchError` at the first difference.

    Without ``stimulus``, a random one of ``steps`` x ``n`` is drawn from ``seed`` (a fresh seed
    when ``None``); the seed is in the error message so a failure can be replayed.
    """
    if len(backends) < 2:
        raise ValueError(f"compare needs at least two backends, not {tuple(backends)!r}")
    if stimulus is None:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**32))
        stimulus = random_inputs(target, steps, n, seed)
    else:
        stimulus = dict(stimulus)
        n = next((np.asarray(v).shape[1] for v in stimulus.values() if np.asarray(v).ndim == 2), 1)
    arrays, steps = check_inputs(target, stimulus, steps if not stimulus else None, n)
    outputs = {b: run(target, arrays, b, steps=steps, n=n, progress=progress) for b in backends}
    ref_name = backends[0]
    ref = outputs[ref_name]
    for other in backends[1:]:
        _check_equal(target, arrays, ref_name, ref, other, outputs[other], seed)
    return Comparison(target, tuple(backends), arrays, outputs, seed)


def _check_equal(target, arrays, ref_name, ref, other, got, seed):
    """Raise :class:`MismatchError` at the earliest step where any output port differs."""
    first = None  # (step, port order, port, instance, count)
    for order, port in enumerate(target.outputs):
        a, b = np.asarray(ref[port]), np.asarray(got[port])
        if a.shape != b.shape:
            raise MismatchError(
                f"{target!r}: port {port!r} has shape {a.shape} on {ref_name} "
                f"but {b.shape} on {other} (seed={seed})",
                step=None, port=port, instance=None, expected=a, actual=b,
                backends=(ref_name, other), seed=seed)  # fmt: skip
        diff = np.argwhere(a != b)
        if len(diff):
            step, inst = (int(x) for x in diff[0])
            if first is None or (step, order) < first[:2]:
                first = (step, order, port, inst, int(a[step, inst]), int(b[step, inst]), len(diff))
    if first is None:
        return
    step, _, port, inst, expected, actual, count = first
    rows = "; ".join(f"{k}={int(arrays[k][step, inst])}" for k in arrays)
    raise MismatchError(
        f"{ref_name} and {other} differ first at step {step} (cycle {step + target.latency}), "
        f"port {port!r}, instance {inst}: {ref_name}={expected}, {other}={actual} "
        f"[inputs: {rows or 'none'}] ({count} differing values; seed={seed}; {target!r})",
        step=step, port=port, instance=inst, expected=expected, actual=actual,
        backends=(ref_name, other), seed=seed)  # fmt: skip
