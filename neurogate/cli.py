"""The ``neurogate`` command line (also ``python -m neurogate``)."""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time

import neurogate as ng

__all__ = ["main"]


class CLIError(Exception):
    """A user error: printed as ``neurogate: error: ...`` with exit status 2."""


def _parse_params(pairs: list[str]) -> dict:
    """Parse ``KEY=VALUE`` pairs; values are Python literals (ints, hex, None, True) or words."""
    params = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--param must look like KEY=VALUE, not {pair!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare word such as overflow=wrap
        params[key.strip()] = value
    return params


def _make(name: str, pairs: list[str]):
    try:
        return ng.component(name, **_parse_params(pairs))
    except (LookupError, TypeError, ValueError) as exc:
        raise CLIError(str(exc).strip("'\"")) from None


# -- plugins ------------------------------------------------------------------------------------
def _ports_text(cls) -> str:
    try:
        ports = cls().ports
    except Exception as exc:  # a component without usable defaults
        return f"(needs parameters: {exc})"
    parts = []
    for key, port in ports.items():
        arrow = "<" if port.direction == "in" else ">"
        if isinstance(port, ng.StreamPort):
            parts.append(f"{arrow}{key}:stream{port.width}")
        else:
            parts.append(f"{arrow}{key}:{'s' if port.signed else 'u'}{port.width}")
    return " ".join(parts)


def _port_json(port) -> dict:
    if isinstance(port, ng.StreamPort):
        return {"direction": port.direction, "width": port.width, "stream": True}
    return {"direction": port.direction, "width": port.width, "signed": port.signed}


def cmd_plugins(args) -> int:
    pm = ng.plugin_manager()
    comps = pm.components()
    backends = pm.sim_backends()
    boards = pm.boards()
    unavailable = pm.unavailable
    if args.json:
        data = {
            "components": {
                name: {
                    "kind": reg.obj.kind,
                    "origin": reg.origin,
                    "ports": {k: _port_json(p) for k, p in reg.obj().ports.items()},
                }
                for name, reg in sorted(comps.items())
            },
            "sim_backends": {name: reg.origin for name, reg in sorted(backends.items())},
            "boards": {name: reg.origin for name, reg in sorted(boards.items())},
            "unavailable": [
                {"name": u.name, "origin": u.origin, "reason": u.reason} for u in unavailable
            ],
        }
        print(json.dumps(data, indent=2))
        return 0
    rows = [("NAME", "KIND", "PORTS (<in >out, s/u width)", "ORIGIN")]
    for name, reg in sorted(comps.items()):
        rows.append((name, reg.obj.kind, _ports_text(reg.obj), reg.origin))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"Components ({len(comps)}):")
    for row in rows:
        print(
            "  "
            + "  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    print(f"\nSimulation backends ({len(backends)}):")
    for name, reg in sorted(backends.items()):
        reason = reg.obj.unavailable_reason()
        state = f"unavailable: {reason}" if reason else reg.obj.description
        print(f"  {name:<10} {state}  [{reg.origin}]")
    if boards:
        print(f"\nBoards ({len(boards)}):")
        for name, reg in sorted(boards.items()):
            print(f"  {name:<10} [{reg.origin}]")
    if unavailable:
        print(f"\nUnavailable plugins ({len(unavailable)}):")
        for u in unavailable:
            print(f"  {u.name} ({u.origin}): {u.reason}")
    return 0


# -- info -------------------------------------------------------------------------------------
def cmd_info(args) -> int:
    comp = _make(args.name, args.param)
    cls = type(comp)
    print(f"{comp.name} ({comp.kind}) — {(cls.__doc__ or '').strip().splitlines()[0]}")
    print(f"latency: {comp.latency} cycle(s)\n\nparameters:")
    for key, spec in cls._params.items():
        print(f"  {key:<14} = {comp.params[key]!r:<12} {spec.doc}")
    print("\nports:")
    for key, port in comp.ports.items():
        print(f"  {key:<14} {port.describe():<18} {port.doc}")
    return 0


# -- rtl --------------------------------------------------------------------------------------
def cmd_rtl(args) -> int:
    from amaranth.back import verilog

    if args.name.endswith(".toml"):  # a network design file
        from neurogate.core.design import DesignError, load
        from neurogate.core.network import NetworkError
        from neurogate.gateware.network import NetworkGateware

        if args.param:
            raise CLIError("--param sets component parameters; a design file has its own")
        try:
            net = load(args.name)
            gateware = NetworkGateware(net)
        except (DesignError, NetworkError) as exc:
            raise CLIError(str(exc)) from None
        top = args.top or net.name
        what = repr(net)
    else:
        comp = _make(args.name, args.param)
        gateware, top, what = comp.create(), args.top or comp.name, repr(comp)
    text = verilog.convert(gateware, name=top, emit_src=False)
    header = f"// Generated by neurogate {ng.__version__}: {what}\n"
    if args.output in (None, "-"):
        sys.stdout.write(header + text)
    else:
        with open(args.output, "w") as f:
            f.write(header + text)
        print(
            f"wrote {args.output} (module {top}, {len(text.splitlines())} lines)", file=sys.stderr
        )
    return 0


# -- boards, build ------------------------------------------------------------------------------
def cmd_boards(args) -> int:
    from neurogate.boards import Board, boards

    found = boards()
    if args.json:
        data = {}
        for name, b in found.items():
            if isinstance(b, Board):
                data[name] = {
                    "title": b.title,
                    "family": b.family,
                    "device": b.device,
                    "package": b.package,
                    "clock": b.clock_name,
                    "clock_mhz": b.clock_hz / 1e6,
                    "uart": b.uart_pins(),
                    "notes": b.notes,
                }
            else:
                data[name] = {"error": "not a neurogate.boards.Board"}
        print(json.dumps(data, indent=2))
        return 0
    rows = [("NAME", "DEVICE", "PACKAGE", "CLOCK", "UART", "BOARD")]
    for name, b in found.items():
        if not isinstance(b, Board):
            rows.append((name, "?", "?", "?", "?", f"({type(b).__qualname__}: not a Board)"))
            continue
        clock = f"{b.clock_hz / 1e6:g} MHz ({b.clock_name})"
        rows.append((name, b.device, b.package, clock, b.uart_pins(), b.title))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print(f"Boards ({len(found)}):")
    for row in rows:
        cells = "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True))
        print(f"  {cells}  {row[5]}")
    return 0


def cmd_build(args) -> int:
    from neurogate.boards import (
        BuildError,
        ToolchainError,
        UnknownBoardError,
        board,
        build,
        format_report,
        program,
    )
    from neurogate.core.design import DesignError
    from neurogate.core.network import NetworkError

    try:
        target = board(args.board)
        print(f"building {args.design} for {target.name} ({target.title})", file=sys.stderr)
        result = build(
            args.design,
            target,
            args.output,
            seed=args.seed,
            freq=args.freq,
            cache=not args.no_cache,
        )
    except (UnknownBoardError, ToolchainError, DesignError, NetworkError, OSError) as exc:
        raise CLIError(str(exc)) from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except BuildError as exc:
        if exc.report and exc.report.get("clocks"):
            print(format_report(exc.report))
        print(f"neurogate: build failed: {exc}", file=sys.stderr)
        if exc.out_dir is not None:
            print(f"report and logs: {exc.out_dir}", file=sys.stderr)
        return 1
    print(format_report(result.report))
    how = "from the cache" if result.cached else f"in {result.seconds:.1f} s"
    others = ", ".join([result.verilog.name, "report.json", *result.extra_files])
    print(f"wrote {result.bitstream}, {others} ({how})")
    if args.program:
        try:
            print(program(result))
        except BuildError as exc:
            print(f"neurogate: {exc}", file=sys.stderr)
            return 1
    return 0


# -- verify -----------------------------------------------------------------------------------
def _verify_design(args) -> int:
    """``verify DESIGN.toml``: random inputs, the network's model against its gateware."""
    import re
    from pathlib import Path

    import numpy as np

    from neurogate.core.design import DesignError, load
    from neurogate.core.network import NetworkError
    from neurogate.sim.harness import GATEWARE_BACKENDS
    from neurogate.sim.network import NetworkMismatchError, compare, run_gateware

    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    known = ("model", *GATEWARE_BACKENDS)
    if len(backends) < 2 or any(b not in known for b in backends):
        raise CLIError(
            f"a design file is verified on two or more of {','.join(known)}, "
            f"not {','.join(backends)}"
        )
    for backend in backends:
        reason = ng.sim.available_backends()[backend].unavailable_reason()
        if reason:
            raise CLIError(f"backend {backend!r} cannot run here: {reason}")
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    try:
        net = load(args.name)
        stim = {}
        for key, node in net.inputs.items():
            fmt = node.port.format
            if node.kind == "spike":
                stim[key] = (rng.random((args.steps, node.size)) < 0.2).astype(np.uint8)
            else:
                stim[key] = rng.integers(fmt.min, fmt.max, (args.steps, node.size), endpoint=True)
        compare(net, stim, seed=seed, backends=backends)
    except NetworkMismatchError as exc:
        print(f"MISMATCH: {exc}", file=sys.stderr)
        if args.vcd:
            step = int(re.search(r"at timestep (\d+)", str(exc))[1])
            stop = min(args.steps, step + WAVES_AFTER + 1)
            folder = Path(args.vcd)
            folder.mkdir(parents=True, exist_ok=True)
            for backend in (b for b in backends if b != "model"):
                vcd = folder / f"{Path(args.name).stem}-{backend}-seed{seed}.vcd"
                run_gateware(net, {k: v[:stop] for k, v in stim.items()}, backend=backend,
                             seed=seed, vcd=str(vcd))  # fmt: skip
                print(f"waves: {vcd} (timesteps 0..{stop - 1})", file=sys.stderr)
        return 1
    except (DesignError, NetworkError) as exc:
        raise CLIError(str(exc)) from None
    took = time.perf_counter() - start
    print(
        f"OK: {net!r}\n    {' == '.join(backends)} on every spike and probed state, "
        f"{args.steps} timesteps, seed={seed} ({took:.2f} s)"
    )
    return 0


#: Steps a ``verify --vcd`` waveform runs past the first mismatch.
WAVES_AFTER = 8


def _mismatch_waves(comp, exc, args) -> None:
    """Rerun each gateware backend of a mismatch up to a few steps past it, writing a VCD."""
    from pathlib import Path

    stop = exc.step + WAVES_AFTER + 1
    stim = {
        k: v[:stop] for k, v in ng.sim.random_inputs(comp, args.steps, args.n, exc.seed).items()
    }
    folder = Path(args.vcd)
    folder.mkdir(parents=True, exist_ok=True)
    for backend in exc.backends:
        if backend == "model":
            continue
        path = folder / f"{comp.name}-{backend}-seed{exc.seed}.vcd"
        ng.sim.run(comp, stim, backend=backend, n=args.n, vcd=str(path), progress=False)
        print(
            f"waves: {path} (steps 0..{stop - 1}; step {exc.step} is clock cycle "
            f"{exc.step + comp.latency} after the reset cycle)",
            file=sys.stderr,
        )


def _verify_formal(args) -> int:
    """``verify NAME --formal``: a bounded model check of the component's properties."""
    from neurogate.sim import formal

    if args.name.endswith(".toml"):
        raise CLIError("--formal checks a component's properties, not a design file")
    if args.vcd:
        raise CLIError("--vcd is for simulation; --formal keeps its counterexample waveforms")
    depth = formal.DEFAULT_DEPTH if args.depth is None else args.depth
    if depth < 2:
        raise CLIError(f"--depth must be >= 2, not {depth}")
    comp = _make(args.name, args.param)
    try:
        result = formal.check(comp, depth=depth)
    except formal.FormalToolError as exc:
        raise CLIError(str(exc)) from None
    if result.status in ("passed", "no properties"):
        print(result.report())
        return 0
    print(result.report(), file=sys.stderr)  # failed, vacuous or a tool's error
    return 1


def cmd_verify(args) -> int:
    from neurogate.sim.cosim import CosimError

    if args.formal:
        return _verify_formal(args)
    if args.depth is not None:
        raise CLIError("--depth is the bound of --formal; simulation runs --steps")
    if args.name.endswith(".toml"):
        return _verify_design(args)
    comp = _make(args.name, args.param)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    start = time.perf_counter()
    try:
        result = ng.sim.compare(
            comp, backends=backends, steps=args.steps, n=args.n, seed=args.seed, progress=None
        )
    except ng.sim.MismatchError as exc:
        print(f"MISMATCH: {exc}", file=sys.stderr)
        if args.vcd:
            _mismatch_waves(comp, exc, args)
        return 1
    except (ng.sim.BackendUnavailableError, ValueError, CosimError) as exc:
        raise CLIError(str(exc)) from None
    took = time.perf_counter() - start
    print(
        f"OK: {comp!r}\n    {' == '.join(result.backends)} on every output, "
        f"{args.steps} steps x {args.n} instances, seed={result.seed} ({took:.2f} s)"
    )
    return 0


# -- sim --------------------------------------------------------------------------------------
def _stimulus(net, args) -> dict:
    """Inputs of a ``sim`` run: files given with --input, else random (spike) or constant."""
    import numpy as np

    files = {}
    for pair in args.input or ():
        key, sep, value = pair.partition("=")
        if not sep or key not in net.inputs:
            known = ", ".join(net.inputs) or "(none)"
            raise CLIError(f"--input must be NAME=FILE.npy with NAME one of: {known}; not {pair!r}")
        try:
            files[key] = np.load(value)
        except (OSError, ValueError) as exc:
            raise CLIError(f"--input {key}: cannot load {value}: {exc}") from None
    rng = np.random.default_rng(args.seed)
    stim = {}
    for key, node in net.inputs.items():
        if key in files:
            arr = np.asarray(files[key])
            if arr.ndim != 2 or arr.shape[1] != node.size or arr.shape[0] < args.steps:
                raise CLIError(
                    f"--input {key}: needs shape (>= {args.steps}, {node.size}), not {arr.shape}"
                )
            stim[key] = arr[: args.steps]
        elif node.kind == "spike":
            stim[key] = (rng.random((args.steps, node.size)) < args.rate).astype(np.uint8)
        else:
            fmt = node.port.format
            stim[key] = np.full((args.steps, node.size), min(max(args.value, fmt.min), fmt.max))
    return stim


def cmd_sim(args) -> int:
    from neurogate.core.design import DesignError, load
    from neurogate.core.network import NetworkError

    if args.steps < 1:
        raise CLIError(f"--steps must be >= 1, not {args.steps}")
    if not 0.0 <= args.rate <= 1.0:
        raise CLIError(f"--rate must be in 0..1, not {args.rate}")
    try:
        net = load(args.design)
        stim = _stimulus(net, args)
        start = time.perf_counter()
        result = net.model().run(stim, steps=args.steps, progress=None)
        took = time.perf_counter() - start
    except (DesignError, NetworkError) as exc:
        raise CLIError(str(exc)) from None
    print(f"{net!r}: {args.steps} timesteps in {took:.2f} s (NumPy model, seed={args.seed})")
    print(f"  {'population':<16} {'neuron':<12} {'size':>6} {'spikes':>9} {'per neuron-step':>16}")
    summary = {}
    for name, rec in result.items():
        pop = net.populations[name]
        spikes = int(rec["spike"].sum())
        rate = spikes / rec["spike"].size
        summary[name] = {"neuron": pop.neuron.name, "size": pop.size, "spikes": spikes}
        print(f"  {name:<16} {pop.neuron.name:<12} {pop.size:>6} {spikes:>9} {rate:>16.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "network": net.name,
                    "steps": args.steps,
                    "seed": args.seed,
                    "populations": summary,
                    "spikes": {k: r["spike"].nonzero()[0].tolist() for k, r in result.items()},
                    "spike_neurons": {
                        k: r["spike"].nonzero()[1].tolist() for k, r in result.items()
                    },
                },
                f,
            )
        print(f"wrote {args.json}")
    if args.plot:
        from neurogate.plot import plot_run

        try:
            plot_run(result, args.plot, title=f"{net.name}: {args.steps} timesteps")
        except ImportError as exc:
            raise CLIError(str(exc)) from None
        print(f"wrote {args.plot}")
    return 0


# -- import -----------------------------------------------------------------------------------
def cmd_import(args) -> int:
    import warnings

    import numpy as np

    from neurogate.core.design import DesignError, dump

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            imported = ng.nir.load(
                args.model,
                dt=args.dt,
                weight_bits=args.weight_bits,
                state_format=args.state_bits,
                strict=args.strict,
                delay=args.delay,
            )
    except (ImportError, ng.nir.NIRImportError) as exc:
        raise CLIError(str(exc)) from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(imported.report)
    try:
        dump(imported.network, args.output)
    except (DesignError, OSError) as exc:
        raise CLIError(f"cannot write {args.output}: {exc}") from None
    print(f"wrote {args.output} ({imported.network!r})")
    if args.compare:
        rng = np.random.default_rng(args.seed)
        stim = {
            node: (rng.random((args.compare, imported.network.inputs[name].size)) < args.rate)
            for node, name in imported.inputs.items()
        }
        print(imported.compare({k: v.astype(np.uint8) for k, v in stim.items()}))
    return 0


# -- new-plugin -------------------------------------------------------------------------------
def cmd_new_plugin(args) -> int:
    from neurogate.scaffold import new_plugin

    try:
        root = new_plugin(args.name, args.kind, args.dir)
    except (ValueError, FileExistsError) as exc:
        raise CLIError(str(exc)) from None
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    print(f"wrote {root}/ ({args.kind} plugin {args.name!r}):")
    for name in files:
        print(f"  {name}")
    print(f"next: cd {root} && pip install -e . && neurogate plugins && pytest")
    return 0


# -- demo -------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from neurogate.demo import run_demo

    return run_demo(neurons=args.neurons, steps=args.steps, seed=args.seed, quiet=args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurogate",
        description="Neuromorphic FPGA gateware: components with bit-true models, as plugins.",
    )
    parser.add_argument("--version", action="version", version=f"neurogate {ng.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("plugins", help="list components, backends, boards and broken plugins")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    def add_component_args(p):
        p.add_argument("name", help="component name (see `neurogate plugins`)")
        p.add_argument(
            "-p",
            "--param",
            action="append",
            metavar="KEY=VALUE",
            help="component parameter (repeatable), e.g. --param v_threshold=300",
        )

    p = sub.add_parser("info", help="show a component's parameters and ports")
    add_component_args(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("rtl", help="write a component's (or a design file's) Verilog")
    add_component_args(p)
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    p.add_argument("--top", metavar="NAME", help="top module name (default: the component name)")
    p.set_defaults(func=cmd_rtl)

    p = sub.add_parser("boards", help="list the board targets (device, clock, UART pins)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_boards)

    p = sub.add_parser("build", help="build a design file into a bitstream and a report")
    p.add_argument("design", help="TOML design file")
    p.add_argument("--board", required=True, help="board target (see `neurogate boards`)")
    p.add_argument(
        "-o", "--output", metavar="DIR", help="output folder (default: build/DESIGN-BOARD)"
    )
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default: 1)")
    p.add_argument(
        "--freq",
        type=float,
        metavar="MHZ",
        help="timing target in MHz (default: the board's clock, which the design runs on)",
    )
    p.add_argument("--program", action="store_true", help="load the bitstream onto the board")
    p.add_argument("--no-cache", action="store_true", help="run the tools even if cached")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser(
        "verify",
        help="compare backends bit for bit on random stimulus, or check properties (--formal)",
    )
    add_component_args(p)
    p.add_argument("--backends", default="model,pysim", help="comma list (default: %(default)s)")
    p.add_argument("--steps", type=int, default=500, help="steps (default: %(default)s)")
    p.add_argument("--n", type=int, default=4, help="instances (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="stimulus seed (default: random)")
    p.add_argument(
        "--vcd", metavar="DIR", help="on a mismatch, write each gateware backend's waveform here"
    )
    p.add_argument(
        "--formal",
        action="store_true",
        help="instead: bounded model check of the component's declared properties "
        "(SymbiYosys + z3; pip install 'neurogate[formal]')",
    )
    p.add_argument(
        "--depth",
        type=int,
        metavar="N",
        help="clock cycles from reset that --formal checks (default: 20)",
    )
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("sim", help="run a network design file with the bit-true NumPy model")
    p.add_argument("design", help="TOML design file")
    p.add_argument("--steps", type=int, default=1000, help="timesteps (default: %(default)s)")
    p.add_argument(
        "--input",
        action="append",
        metavar="NAME=FILE.npy",
        help="input array of shape (steps, size) (repeatable); other inputs are generated",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0.05,
        help="spike probability per step of generated spike inputs (default: %(default)s)",
    )
    p.add_argument(
        "--value", type=int, default=0, help="value of generated value inputs (default: 0)"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of generated inputs (default: 1)")
    p.add_argument("--plot", metavar="FILE", help="write a raster + trace plot (PNG, SVG, PDF)")
    p.add_argument("--json", metavar="FILE", help="write spike times and counts as JSON")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("import", help="import a NIR graph as a quantised design file")
    p.add_argument("model", help="NIR file (.nir)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="TOML design to write")
    p.add_argument(
        "--dt", type=float, default=1e-4, help="timestep in seconds (default: %(default)g)"
    )
    p.add_argument(
        "--weight-bits", type=int, default=8, help="bits of a weight (default: %(default)s)"
    )
    p.add_argument(
        "--state-bits", type=int, default=None, help="bits of a membrane potential (default: 16)"
    )
    p.add_argument(
        "--delay", type=int, default=1, help="timesteps a spike takes per edge (default: 1)"
    )
    p.add_argument(
        "--strict", action="store_true", help="weights that do not fit are an error, not clipped"
    )
    p.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="STEPS",
        help="also run network and float reference on random spikes; print the agreement",
    )
    p.add_argument(
        "--rate", type=float, default=0.2, help="spike probability of --compare inputs (0.2)"
    )
    p.add_argument("--seed", type=int, default=1, help="seed of --compare inputs (default: 1)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "new-plugin", help="scaffold a pip-installable plugin package with one component"
    )
    p.add_argument("name", help="component name, also the module name (a lowercase identifier)")
    p.add_argument(
        "--kind",
        required=True,
        choices=("neuron", "encoder", "decorrelator", "router"),
        help="what the generated component is (a working, bit-true starting point)",
    )
    p.add_argument("--dir", metavar="D", help="project directory (default: ./neurogate-NAME)")
    p.set_defaults(func=cmd_new_plugin)

    p = sub.add_parser(
        "demo", help="simulate an encoder-driven LIF population; check model == gateware"
    )
    p.add_argument("--neurons", type=int, default=8, help="population size (default: %(default)s)")
    p.add_argument("--steps", type=int, default=400, help="time steps (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of the inputs (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"neurogate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neurogate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
