"""Record NEST's ``glif_psc`` (models 1-5) for tests/data/glif_nest_traces.npz.

Run with a Python that has NEST (``pip install nest-simulator`` in a separate venv; it needs
no neurogate)::

    python benchmarks/make_glif_nest_traces.py tests/data/glif_nest_traces.npz

Each model gets 500 ms at ``dt = 0.1 ms`` of three constant currents and one noisy one (an
Ornstein-Uhlenbeck current, tau 5 ms, sd 100 pA, around 300 pA, seeded; stored in the file).
The current is a ``step_current_generator`` connected with the minimum delay (one step); NEST
latches a current into ``I`` at the end of a step, so the value for step ``t`` (0-based, the
step ending at ``(t + 1) dt``) is given at ``t dt - dt`` and the neuron's first ``LEAD``
steps see no current (``currents[:, :LEAD]`` are 0 in the file too). The file holds, per
trace, NEST's spike steps (``round(time / dt) - 1``) and ``V_m`` after steps ``9, 19, ...``
(every 1 ms).
"""

from __future__ import annotations

import sys

import numpy as np

DT = 0.1
STEPS = 5000
LEAD = 2
#: ``V_m`` is kept after every ``VM_EVERY``-th step (1 ms) to keep the file small.
VM_EVERY = 10
LEVELS = (275.0, 400.0, 500.0)
MECH = {
    1: (False, False, False),
    2: (True, False, False),
    3: (False, True, False),
    4: (True, True, False),
    5: (True, True, True),
}


def currents() -> np.ndarray:
    rng = np.random.default_rng(20261125)
    out = np.zeros((len(LEVELS) + 1, STEPS))
    for i, level in enumerate(LEVELS):
        out[i, LEAD:] = level
    decay = np.exp(-DT / 5.0)
    x = 0.0
    for t in range(LEAD, STEPS):
        x = decay * x + 100.0 * np.sqrt(1 - decay**2) * rng.standard_normal()
        out[-1, t] = 300.0 + x
    return np.round(out * 256) / 256  # exactly representable with 8 fraction bits


def run(nest, model: int, current: np.ndarray):
    nest.ResetKernel()
    nest.resolution = DT
    r, asc, a = MECH[model]
    neuron = nest.Create(
        "glif_psc",
        params={
            "spike_dependent_threshold": r,
            "after_spike_currents": asc,
            "adapting_threshold": a,
        },
    )
    # the value for step t is set at time (t - 1) dt: delivered after one step of delay,
    # latched into I at the end of step t - 1, used in step t
    times = [round((t - 1) * DT, 6) for t in range(LEAD, STEPS)]
    gen = nest.Create(
        "step_current_generator",
        params={"amplitude_times": times, "amplitude_values": list(current[LEAD:])},
    )
    nest.Connect(gen, neuron, syn_spec={"delay": DT})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(mm, neuron)
    sr = nest.Create("spike_recorder")
    nest.Connect(neuron, sr)
    nest.Simulate(STEPS * DT + DT)
    ev = mm.get("events")
    order = np.argsort(ev["times"])
    t_mm = np.asarray(ev["times"])[order]
    v = np.asarray(ev["V_m"])[order]
    keep = np.round(t_mm / DT).astype(int) - 1
    vm = np.full(STEPS, np.nan)
    ok = (keep >= 0) & (keep < STEPS)
    vm[keep[ok]] = v[ok]
    spikes = np.round(np.asarray(sr.get("events")["times"]) / DT).astype(int) - 1
    return spikes[spikes < STEPS], vm


def main(argv=None) -> int:
    import nest

    out = sys.argv[1] if argv is None else argv[0]
    cur = currents()
    data = {"currents": cur, "dt": DT, "version": str(nest.__version__)}
    for model in MECH:
        for i in range(cur.shape[0]):
            spikes, vm = run(nest, model, cur[i])
            data[f"m{model}_c{i}_spikes"] = spikes
            data[f"m{model}_c{i}_vm"] = vm[VM_EVERY - 1 :: VM_EVERY].astype(np.float32)
            print(f"model {model} current {i}: {spikes.size} spikes, first {spikes[:3]}")
    np.savez_compressed(out, **data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
