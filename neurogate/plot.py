"""Plots of a network run: a spike raster per population and the probed state traces.

Needs matplotlib (``pip install 'neurogate[plot]'``); it is imported only when a plot is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_run"]

#: Traces drawn per probed state field (the first neurons of the population).
MAX_TRACES = 8


def plot_run(result: dict, path, title: str = "", dt_label: str = "timestep") -> Path:
    """Write ``result`` (from :meth:`NetworkModel.run`) as a PNG/SVG/PDF figure at ``path``.

    One raster panel per population (spike times against neuron index) and one panel per
    probed state field (the first :data:`MAX_TRACES` neurons).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'neurogate[plot]'") from None
    panels = []
    for pop, rec in result.items():
        panels.append((pop, "spike", rec["spike"]))
        panels += [(pop, key, arr) for key, arr in rec.items() if key != "spike"]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(9, 1.2 + 1.8 * len(panels)), sharex=True, squeeze=False
    )
    for ax, (pop, key, arr) in zip(axes[:, 0], panels, strict=True):
        if key == "spike":
            t, i = np.nonzero(arr)
            ax.scatter(t, i, s=4, marker="|", color="k", linewidths=0.8)
            ax.set_ylim(-0.5, arr.shape[1] - 0.5)
            ax.set_ylabel(f"{pop}\nneuron")
            rate = arr.mean() if arr.size else 0.0
            ax.set_title(f"{pop}: {int(arr.sum())} spikes, {rate:.3f} per neuron-step", fontsize=9)
        else:
            for j in range(min(MAX_TRACES, arr.shape[1])):
                ax.plot(arr[:, j], linewidth=0.8, label=f"#{j}")
            ax.set_ylabel(f"{pop}.{key}")
            if arr.shape[1] > 1:
                ax.legend(fontsize=6, ncol=min(MAX_TRACES, arr.shape[1]), loc="upper right")
    axes[-1, 0].set_xlabel(dt_label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
