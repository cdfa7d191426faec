"""How fast archstat is, against fvcore and torchinfo, and what `archstat summary` costs as a process.

    python benchmarks/bench_analysis.py [--quick] [-o benchmarks/results/analysis.json]

A measurement, not a test: it prints PASS/FAIL per target and always exits 0.
See benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import fvcore.nn
import torch
import torchinfo
from rich.console import Console
from rich.table import Table
from torch import nn

import archstat

MODELS = ("resnet152", "vgg16")
BATCHES = (1, 32)
RESOLUTION = 224
TOOLS = ("archstat", "fvcore", "torchinfo")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "analysis.json"

# Targets: (speedup over fvcore and torchinfo at batch 32), (process wall ratio, RSS difference).
MIN_SPEEDUP_B32 = 15.0
MIN_SPEEDUP_B1_TORCHINFO = 1.0
MAX_WALL_RATIO = 1.5
MAX_RSS_DIFF_MIB = 130.0


@dataclass
class Plan:
    """How many warm-ups and timed repeats each kind of measurement gets."""

    archstat_repeats: int
    other_repeats_b1: int
    other_repeats_b32: int
    process_runs: int
    warmups: int = 1


FULL = Plan(archstat_repeats=5, other_repeats_b1=3, other_repeats_b32=3, process_runs=5)
QUICK = Plan(archstat_repeats=2, other_repeats_b1=1, other_repeats_b32=1, process_runs=2)


@dataclass
class Timing:
    """One tool on one model at one batch: every timed sample, plus what the tool saw and counted."""

    model: str
    batch: int
    tool: str
    warmups: int
    samples_s: list[float]
    median_s: float
    count: int | None          # archstat: total MACs; fvcore: .total() (fvcore's "flops" are MACs)
    model_id: int              # id() of the module object handed to the tool
    input_shape: list[int]     # the shape handed to the tool
    forward_shapes: list[list[int]] = field(default_factory=list)  # shapes the model's forward received
    forward_ids: list[int] = field(default_factory=list)           # ids of the modules that received them


class ForwardProbe:
    """A forward pre-hook recording which module object ran and with what input shape."""

    def __init__(self, model: nn.Module) -> None:
        self.shapes: set[tuple[int, ...]] = set()
        self.ids: set[int] = set()
        self._handle = model.register_forward_pre_hook(self._hook)

    def _hook(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], torch.Tensor):
            self.shapes.add(tuple(int(d) for d in args[0].shape))  # ints, also under jit tracing
            self.ids.add(id(module))

    def reset(self) -> None:
        self.shapes.clear()
        self.ids.clear()

    def remove(self) -> None:
        self._handle.remove()


def timed(fn: Callable[[], int | None], warmups: int, repeats: int) -> tuple[list[float], int | None]:
    """Warm up, then time `repeats` calls with perf_counter; returns the samples and the last result."""
    result: int | None = None
    for _ in range(warmups):
        result = fn()
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return samples, result


def run_archstat(model: nn.Module, shape: tuple[int, ...]) -> int:
    return archstat.analyze(model, shape).totals.macs


def run_fvcore(model: nn.Module, x: torch.Tensor) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = fvcore.nn.FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analysis.total())


def run_torchinfo(model: nn.Module, shape: tuple[int, ...]) -> None:
    torchinfo.summary(model, input_size=shape, verbose=0)


def bench_tools(plan: Plan, console: Console) -> list[Timing]:
    """Every tool on every model and batch, each given the same model object and input shape."""
    timings: list[Timing] = []
    for name in MODELS:
        model = archstat.get_model(name).eval()   # on CPU, with its initialised weights
        probe = ForwardProbe(model)
        try:
            for batch in BATCHES:
                shape = (batch, 3, RESOLUTION, RESOLUTION)
                x = torch.randn(shape)
                calls: dict[str, tuple[Callable[[], int | None], int]] = {
                    "archstat": (partial(run_archstat, model, shape), plan.archstat_repeats),
                    "fvcore": (partial(run_fvcore, model, x), _other_repeats(plan, batch)),
                    "torchinfo": (partial(run_torchinfo, model, shape), _other_repeats(plan, batch)),
                }
                for tool, (fn, repeats) in calls.items():
                    console.print(f"  {name} batch {batch}: {tool} ({plan.warmups} warm-up + {repeats})")
                    probe.reset()
                    samples, count = timed(fn, plan.warmups, repeats)
                    timings.append(Timing(
                        model=name, batch=batch, tool=tool, warmups=plan.warmups, samples_s=samples,
                        median_s=statistics.median(samples), count=count, model_id=id(model),
                        input_shape=list(shape), forward_shapes=[list(s) for s in sorted(probe.shapes)],
                        forward_ids=sorted(probe.ids),
                    ))
                del x
        finally:
            probe.remove()
        del model
        gc.collect()
    return timings


def _other_repeats(plan: Plan, batch: int) -> int:
    return plan.other_repeats_b32 if batch > 1 else plan.other_repeats_b1


@dataclass
class ProcessRuns:
    """One command run several times: wall seconds and peak RSS (KiB) per run."""

    command: list[str]
    wall_s: list[float] = field(default_factory=list)
    max_rss_kib: list[int] = field(default_factory=list)

    @property
    def wall_median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def rss_median_mib(self) -> float:
        return statistics.median(self.max_rss_kib) / 1024


# Fallback when /usr/bin/time is missing: a fresh child runs the command once, so its
# RUSAGE_CHILDREN maximum covers exactly that one run.
_RUSAGE_CHILD = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "wall = time.perf_counter() - t\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)\n"
)


def run_once(command: Sequence[str], gnu_time: str | None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of `command`, stdout discarded."""
    if gnu_time is None:
        out = subprocess.run([sys.executable, "-c", _RUSAGE_CHILD, *command],
                             capture_output=True, text=True, check=True).stdout.split()
        if out[2] != "0":
            raise RuntimeError(f"{' '.join(command)} exited with {out[2]}")
        return float(out[0]), int(out[1])
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.run([gnu_time, "-f", "%e %M", "-o", report.name, *command],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {proc.returncode}: {proc.stderr.strip()}")
        return wall, int(report.read().split()[-1])


def archstat_command() -> list[str]:
    """The installed console script next to this interpreter (not a pyenv shim, which adds a bash hop)."""
    script = Path(sys.executable).parent / "archstat"
    if script.exists():
        return [str(script)]
    found = shutil.which("archstat")
    return [found] if found else [sys.executable, "-m", "archstat.cli.main"]


def bench_processes(runs: int, console: Console) -> tuple[ProcessRuns, ProcessRuns, str]:
    """`python -c "import torch"` and `archstat summary vgg16`, interleaved so both see the same noise."""
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    method = "/usr/bin/time -f '%e %M' (peak RSS); perf_counter around the child (wall)" if gnu_time \
        else "fresh child per run: resource.getrusage(RUSAGE_CHILDREN).ru_maxrss; perf_counter (wall)"
    torch_runs = ProcessRuns([sys.executable, "-c", "import torch"])
    archstat_runs = ProcessRuns([*archstat_command(), "summary", "vgg16"])
    console.print(f"  processes: {runs} runs each, interleaved")
    for _ in range(runs):
        for target in (torch_runs, archstat_runs):
            wall, rss = run_once(target.command, gnu_time)
            target.wall_s.append(wall)
            target.max_rss_kib.append(rss)
    return torch_runs, archstat_runs, method


@dataclass
class Target:
    name: str
    value: float
    limit: float
    passed: bool
    unit: str


def find(timings: Sequence[Timing], model: str, batch: int, tool: str) -> Timing:
    return next(t for t in timings if (t.model, t.batch, t.tool) == (model, batch, tool))


def speedup(timings: Sequence[Timing], model: str, batch: int, other: str) -> float:
    return find(timings, model, batch, other).median_s / find(timings, model, batch, "archstat").median_s


def check_targets(
    timings: Sequence[Timing], torch_runs: ProcessRuns, archstat_runs: ProcessRuns
) -> list[Target]:
    targets = []
    for model in MODELS:
        for other in ("fvcore", "torchinfo"):
            s = speedup(timings, model, 32, other)
            targets.append(Target(f"{model} batch 32: archstat vs {other}", s, MIN_SPEEDUP_B32,
                                  s >= MIN_SPEEDUP_B32, "x faster (>=)"))
        s = speedup(timings, model, 1, "torchinfo")
        targets.append(Target(f"{model} batch 1: archstat vs torchinfo", s, MIN_SPEEDUP_B1_TORCHINFO,
                              s >= MIN_SPEEDUP_B1_TORCHINFO, "x faster (>=)"))
    ratio = archstat_runs.wall_median_s / torch_runs.wall_median_s
    targets.append(Target("archstat summary vgg16: wall / import torch", ratio, MAX_WALL_RATIO,
                          ratio <= MAX_WALL_RATIO, "x (<=)"))
    diff = archstat_runs.rss_median_mib - torch_runs.rss_median_mib
    targets.append(Target("archstat summary vgg16: peak RSS - import torch", diff, MAX_RSS_DIFF_MIB,
                          diff <= MAX_RSS_DIFF_MIB, "MiB (<=)"))
    return targets


def identical_inputs(timings: Sequence[Timing]) -> bool:
    """Whether, per model and batch, all three tools got the same object and shape and ran it on that."""
    for model in MODELS:
        for batch in BATCHES:
            rows = [find(timings, model, batch, tool) for tool in TOOLS]
            expected = ({rows[0].model_id}, [rows[0].input_shape])
            for row in rows:
                if ({row.model_id}, [row.input_shape]) != expected:
                    return False
                if set(row.forward_ids) != expected[0] or row.forward_shapes != expected[1]:
                    return False
    return True


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "fvcore": version("fvcore"),
        "torchinfo": version("torchinfo"),
        "archstat": archstat.__version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e9:.3f} G"


def render(console: Console, plan: Plan, timings: Sequence[Timing], torch_runs: ProcessRuns,
           archstat_runs: ProcessRuns, targets: Sequence[Target]) -> None:
    table = Table(title="Analysis time (median seconds; speedup = other / archstat)")
    for col in ("model", "batch", "archstat s", "fvcore s", "torchinfo s", "fvcore ×", "torchinfo ×",
                "archstat MACs", "fvcore total", "runs a/f/t"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for model in MODELS:
        for batch in BATCHES:
            a, f, t = (find(timings, model, batch, tool) for tool in TOOLS)
            table.add_row(model, str(batch), f"{a.median_s:.4f}", f"{f.median_s:.3f}", f"{t.median_s:.3f}",
                          f"{speedup(timings, model, batch, 'fvcore'):.1f}x",
                          f"{speedup(timings, model, batch, 'torchinfo'):.1f}x",
                          _count(a.count), _count(f.count),
                          f"{len(a.samples_s)}/{len(f.samples_s)}/{len(t.samples_s)}")
    console.print(table)
    console.print(f"  each cell: {plan.warmups} warm-up, then the median of the timed runs (runs a/f/t); "
                  "fvcore and torchinfo run a real CPU forward, slow at batch 32, hence fewer runs there "
                  "when the plan says so.")

    procs = Table(title="Whole process (median of interleaved runs)")
    for col in ("command", "wall s", "peak RSS MiB", "runs"):
        procs.add_column(col, justify="left" if col == "command" else "right")
    for label, runs in (("python -c 'import torch'", torch_runs), ("archstat summary vgg16", archstat_runs)):
        procs.add_row(label, f"{runs.wall_median_s:.3f}", f"{runs.rss_median_mib:.1f}", str(len(runs.wall_s)))
    console.print(procs)

    for target in targets:
        mark = "[bold green]PASS[/]" if target.passed else "[bold red]FAIL[/]"
        console.print(f"{mark}  {target.name}: {target.value:.2f} {target.unit} {target.limit:g}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats (a rough look, not for the README)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    console = Console(width=None if sys.stdout.isatty() else 140)

    info = machine_info()
    info["loadavg_start"] = os.getloadavg()
    started = time.perf_counter()
    mode = "quick" if args.quick else "full"
    console.print(f"[bold]archstat benchmark[/] ({mode}) on {info['cpu_model']}, "
                  f"{info['cpu_count']} cores, torch {info['torch']}")
    timings = bench_tools(plan, console)
    torch_runs, archstat_runs, method = bench_processes(plan.process_runs, console)
    targets = check_targets(timings, torch_runs, archstat_runs)
    info["loadavg_end"] = os.getloadavg()
    same = identical_inputs(timings)

    render(console, plan, timings, torch_runs, archstat_runs, targets)
    console.print("identical model object and input shape for all three tools: "
                  + ("yes" if same else "[red]NO[/]"))
    console.print(f"load average (1 min) at start {info['loadavg_start'][0]:.2f}, at end "
                  f"{info['loadavg_end'][0]:.2f} on {info['cpu_count']} cores (other processes slow "
                  "fvcore and torchinfo most, inflating the speedups)")
    failed = [t.name for t in targets if not t.passed]
    console.print(f"[bold]{len(targets) - len(failed)}/{len(targets)} targets met[/]"
                  + (f"; missed: {', '.join(failed)}" if failed else ""))

    result = {
        "machine": info,
        "plan": asdict(plan) | {"quick": args.quick},
        "elapsed_s": time.perf_counter() - started,
        "identical_model_and_shape": same,
        "timings": [asdict(t) for t in timings],
        "speedups": {f"{m}/b{b}/{o}": speedup(timings, m, b, o)
                     for m in MODELS for b in BATCHES for o in ("fvcore", "torchinfo")},
        "process": {
            "method": method,
            "import_torch": asdict(torch_runs) | {"wall_median_s": torch_runs.wall_median_s,
                                                  "rss_median_mib": torch_runs.rss_median_mib},
            "archstat_summary_vgg16": asdict(archstat_runs) | {
                "wall_median_s": archstat_runs.wall_median_s, "rss_median_mib": archstat_runs.rss_median_mib},
            "wall_ratio": archstat_runs.wall_median_s / torch_runs.wall_median_s,
            "rss_diff_mib": archstat_runs.rss_median_mib - torch_runs.rss_median_mib,
        },
        "targets": [asdict(t) for t in targets],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
