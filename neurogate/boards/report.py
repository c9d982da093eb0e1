"""Utilisation and timing reports from the tools' own output files.

* Yosys ``stat -json`` after synthesis (``<name>.stat.json``): cells by type, summed into the
  columns of :data:`CELLS` (LUT4, carry, FF, block RAM, SPRAM, DSP).
* nextpnr ``--report`` (``<name>.pnr.json``): the placed resources with the device's capacity
  (:data:`SITES`) and the achieved Fmax of each clock against its constraint.
* nextpnr ``--log`` (``<name>.tim``): its "Device utilisation" table, which it prints before it
  places anything, so that a design too big for the device is measured even though nextpnr
  stops without a report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = [
    "CELLS",
    "SITES",
    "cell_columns",
    "format_report",
    "log_utilisation",
    "overfull",
    "pnr_clocks",
    "pnr_utilisation",
]

#: Per family: report column -> Yosys cell types (prefixes) counted in it.
CELLS = {
    "ice40": {
        "lut": ("SB_LUT4",),
        "carry": ("SB_CARRY",),
        "ff": ("SB_DFF",),
        "bram": ("SB_RAM40_4K",),
        "spram": ("SB_SPRAM256KA",),
        "dsp": ("SB_MAC16",),
    },
    "ecp5": {
        "lut": ("LUT4",),
        "carry": ("CCU2C",),
        "ff": ("TRELLIS_FF",),
        "bram": ("DP16KD", "PDPW16KD"),
        "spram": (),
        "dsp": ("MULT18X18D", "ALU54B"),
    },
}
#: Per family: report column -> the nextpnr site type whose capacity it is a share of.
SITES = {
    "ice40": {
        "lut": "ICESTORM_LC",
        "ff": "ICESTORM_LC",
        "bram": "ICESTORM_RAM",
        "spram": "ICESTORM_SPRAM",
        "dsp": "ICESTORM_DSP",
        "io": "SB_IO",
    },
    "ecp5": {
        "lut": "TRELLIS_COMB",
        "ff": "TRELLIS_FF",
        "bram": "DP16KD",
        "dsp": "MULT18X18D",
        "io": "TRELLIS_IO",
    },
}
#: Column titles in the printed table.
TITLES = {
    "ice40": {"lut": "LUT4", "carry": "carry", "ff": "FF", "bram": "EBR", "spram": "SPRAM",
              "dsp": "DSP", "io": "I/O", "logic": "logic cells"},
    "ecp5": {"lut": "LUT4", "carry": "carry (CCU2C)", "ff": "FF", "bram": "BRAM (DP16KD)",
             "spram": "SPRAM", "dsp": "DSP (MULT18)", "io": "I/O", "logic": "LUT sites"},
}  # fmt: skip


def cell_columns(stat: dict, family: str) -> dict[str, int]:
    """Sum a Yosys ``stat -json`` report's cells into the columns of :data:`CELLS`."""
    if "design" in stat and "num_cells_by_type" in stat["design"]:
        cells = stat["design"]["num_cells_by_type"]
    else:  # older Yosys: one entry per module (flattened designs have one)
        cells = {}
        for module in stat["modules"].values():
            for kind, n in module.get("num_cells_by_type", {}).items():
                cells[kind] = cells.get(kind, 0) + n
    return {
        col: sum(n for kind, n in cells.items() if kind.startswith(prefixes))
        for col, prefixes in CELLS[family].items()
    }


def pnr_utilisation(pnr: dict, family: str) -> dict[str, dict]:
    """Return ``{column: {"used", "available", "site"}}`` from a nextpnr ``--report`` file."""
    found = pnr.get("utilization", {})
    out = {}
    for col, site in SITES[family].items():
        if site in found:
            out[col] = {"site": site, **found[site]}
    if family == "ice40" and "lut" in out:
        out["logic"] = out.pop("lut")  # an iCE40 logic cell is a LUT4 + carry + FF
        out.pop("ff")
    elif "lut" in out:
        out["logic"] = out.pop("lut")
    return out


def pnr_clocks(pnr: dict, requested_mhz: float) -> dict[str, dict]:
    """Return ``{clock: {"achieved_mhz", "constraint_mhz", "requested_mhz", "met"}}``."""
    clocks = {}
    for name, item in pnr.get("fmax", {}).items():
        achieved = float(item["achieved"])
        clocks[name.replace("$glbnet$", "")] = {
            "achieved_mhz": round(achieved, 2),
            "constraint_mhz": round(float(item.get("constraint", requested_mhz)), 3),
            "requested_mhz": requested_mhz,
            "met": achieved >= requested_mhz,
        }
    return clocks


_UTIL_LINE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)/\s*(\d+)\s+\d+%\s*$")


def log_utilisation(log: str) -> dict[str, dict]:
    """Return ``{site: {"used", "available"}}`` from nextpnr's "Device utilisation" log table."""
    found = {}
    for line in log.splitlines():
        match = _UTIL_LINE.match(line.strip("\r"))
        if match:
            found[match[1]] = {"used": int(match[2]), "available": int(match[3])}
    return found


def overfull(sites: dict[str, dict]) -> dict[str, dict]:
    """Return the entries of ``sites`` that use more than is available."""
    return {k: v for k, v in sites.items() if v["used"] > v["available"]}


def _share(used: int, available: int) -> str:
    return f"{100.0 * used / available:5.1f}%" if available else ""


def format_report(report: dict) -> str:
    """Return the printed table of a build report (see :func:`neurogate.boards.build`)."""
    family = report["family"]
    titles = TITLES[family]
    cells, util = report["cells"], report.get("utilisation", {})
    lines = [
        f"{report['design']} on {report['board']} ({report['device']}-{report['package']}), "
        f"seed {report['seed']}",
        f"  {'resource':<16}{'used':>8}{'device':>10}{'share':>9}",
    ]
    rows = [(col, cells.get(col, 0), util.get(col)) for col in ("lut", "carry", "ff")]
    if "logic" in util:
        rows.append(("logic", util["logic"]["used"], util["logic"]))
    for col in ("bram", "spram", "dsp"):
        if col == "spram" and not CELLS[family]["spram"]:
            continue
        rows.append((col, cells.get(col, 0), util.get(col)))
    if "io" in util:
        rows.append(("io", util["io"]["used"], util["io"]))
    for col, used, site in rows:
        avail = site["available"] if site and col not in ("carry",) else None
        if col == "lut" and "logic" in util:
            avail = util["logic"]["available"]
        lines.append(
            f"  {titles[col]:<16}{used:>8}{avail if avail is not None else '':>10}"
            f"{_share(used, avail) if avail else '':>9}"
        )
    if report.get("clocks"):
        lines.append(f"  {'clock':<16}{'Fmax':>8}{'target':>10}{'margin':>9}")
        for name, clk in report["clocks"].items():
            margin = 100.0 * (clk["achieved_mhz"] / clk["requested_mhz"] - 1.0)
            verdict = "met" if clk["met"] else "MISSED"
            lines.append(
                f"  {name:<16}{clk['achieved_mhz']:>8.2f}{clk['requested_mhz']:>10.2f}"
                f"{margin:>+8.0f}%  MHz, {verdict}"
            )
    for note in report.get("notes", ()):
        lines.append(f"  note: {note}")
    return "\n".join(line.rstrip() for line in lines)


def read_json(path: Path) -> dict:
    """Read a JSON file (a helper for the report files)."""
    return json.loads(Path(path).read_text())
