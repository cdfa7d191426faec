"""Whole-process cost of archstat's commands against `import torch`, and the terminal table's growth.

    python benchmarks/bench_process.py            # 7 rounds; 1,000/2,000/3,000 blocks: 2 processes, 3 tables
    python benchmarks/bench_process.py --quick    # 3 rounds; each stack in 1 process, 1 table
    python benchmarks/bench_process.py -o somewhere/process.json

**Processes.** Each round runs `python -c "import torch"`, `archstat summary vgg16`, `archstat summary
resnet152` and `archstat list` once each (stdout to /dev/null), in an order rotated every round so
no command always follows the same one; one untimed run of each comes first. archstat runs as its
console script does (`from archstat.cli.main import main; sys.exit(main())`) with this checkout
first on `PYTHONPATH`, and with bytecode written and read as in an installation (the untimed run
compiles it). Wall time is `time.perf_counter` around the child; CPU time (user + system, less
sensitive to other load than wall time) and peak RSS are the child's own, from `os.wait4`.
Reported: medians, and the median of the per-round ratios to `import torch` (each pair saw the
same moment of machine noise).

**Table growth.** Residual stacks (conv-BN-ReLU ×2 + add, 64 channels, input 1×64×32×32; 7 rows a
block) are built on meta and analysed in a fresh process per measurement, which then times the
terminal table as `archstat summary` makes it (the document, then the text at 160 columns), a
few times over, and counts the garbage collections during them. The table time is the median
of every table drawn for that size; the first in each process also pays for importing rich.
These are library calls, as in a notebook: the CLI's `gc.freeze()` of everything imported is
not applied.

It is a measurement, not a test: the exit code is 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "process.json"
LAUNCH = "import sys; from archstat.cli.main import main; sys.exit(main())"   # the console script
COMMANDS: dict[str, list[str]] = {
    "import torch": ["-c", "import torch"],
    "archstat summary vgg16": ["-c", LAUNCH, "summary", "vgg16"],
    "archstat summary resnet152": ["-c", LAUNCH, "summary", "resnet152"],
    "archstat list": ["-c", LAUNCH, "list"],
}
LIMITS = {"archstat summary vgg16": 1.15, "archstat summary resnet152": 1.3, "archstat list": 1.15}
BLOCKS = (1000, 2000, 3000)
MAX_TABLE_GROWTH = 3.3   # table time, 3,000 blocks over 1,000


@dataclass(frozen=True)
class Plan:
    rounds: int
    stack_repeats: int     # fresh processes per stack size
    table_repeats: int     # tables drawn in each


FULL = Plan(rounds=7, stack_repeats=2, table_repeats=3)
QUICK = Plan(rounds=3, stack_repeats=1, table_repeats=1)


@dataclass
class Runs:
    """Samples of one command: wall seconds and peak RSS in KiB, one per round."""

    name: str
    argv: list[str]
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)      # user + system: less sensitive to other load
    max_rss_kib: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float

    @property
    def passed(self) -> bool:
        return self.value <= self.limit


def child_env() -> dict[str, str]:
    """This checkout first on the path, so the commands run the code beside this script; bytecode
    written and read as in an installation (the untimed first run compiles it)."""
    path = os.environ.get("PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}


def run_once(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and the child's own peak RSS (KiB) of one run, stdout discarded."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=child_env(), cwd=REPO)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise RuntimeError(f"{argv} exited with {child.returncode}: {stderr.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss   # KiB on Linux


def bench_processes(rounds: int) -> list[Runs]:
    runs = [Runs(name, argv) for name, argv in COMMANDS.items()]
    for one in runs:   # warm the file cache; not timed
        run_once(one.argv)
    for r in range(rounds):
        order = runs[r % len(runs):] + runs[: r % len(runs)]
        for one in order:
            wall, cpu, rss = run_once(one.argv)
            one.wall_s.append(wall)
            one.cpu_s.append(cpu)
            one.max_rss_kib.append(rss)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{o.name} {o.wall_s[-1]:.2f}s" for o in runs), flush=True)
    return runs


# -- the stack, in a fresh process per measurement --------------------------------------------------

STACK_CHILD = """
import gc, json, sys, time
import torch
from torch import nn
from archstat.analysis.analyze import analyze
from archstat.report.summary import summary_document
from archstat.report.writers import render


class Block(nn.Module):
    def __init__(self, c: int = 64) -> None:
        super().__init__()
        self.conv1, self.bn1, self.relu1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        self.conv2, self.bn2, self.relu2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()

    def forward(self, x):
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))) + x


blocks = int(sys.argv[1])
with torch.device("meta"):
    model = nn.Sequential(*[Block() for _ in range(blocks)])
start, cpu = time.perf_counter(), time.process_time()
analysis = analyze(model, (1, 64, 32, 32))
analysis_s, analysis_cpu_s = time.perf_counter() - start, time.process_time() - cpu
collections = [0, 0, 0]
gc.callbacks.append(lambda phase, info: phase == "start" and collections.__setitem__(
    info["generation"], collections[info["generation"]] + 1))
table_s, table_cpu_s = [], []
for _ in range(int(sys.argv[2])):
    start, cpu = time.perf_counter(), time.process_time()
    text = render(summary_document(analysis), "table", 160)
    table_s.append(time.perf_counter() - start)
    table_cpu_s.append(time.process_time() - cpu)
print(json.dumps({"blocks": blocks, "rows": len(analysis.rows()), "lines": text.count("\\n"),
                  "analysis_s": analysis_s, "analysis_cpu_s": analysis_cpu_s, "table_s": table_s,
                  "table_cpu_s": table_cpu_s, "table_collections": collections}))
"""


def bench_stacks(plan: Plan) -> list[dict[str, Any]]:
    samples = []
    for _ in range(plan.stack_repeats):
        for blocks in BLOCKS:
            out = subprocess.run([sys.executable, "-c", STACK_CHILD, str(blocks), str(plan.table_repeats)],
                                 capture_output=True, text=True, env=child_env(), cwd=REPO, check=True).stdout
            sample = json.loads(out.strip().splitlines()[-1])
            samples.append(sample)
            tables = ", ".join(f"{t:.2f}" for t in sample["table_s"])
            print(f"  {blocks} blocks: analysis {sample['analysis_s']:.2f}s, table {tables}s", flush=True)
    return samples


# -- summary ------------------------------------------------------------------------------------------


def median_ratio(runs: list[float], base: list[float]) -> float:
    """The median of the per-round ratios."""
    return statistics.median(a / b for a, b in zip(runs, base, strict=True))


def summarise(runs: list[Runs], stacks: list[dict[str, Any]]) -> dict[str, Any]:
    base = runs[0]
    processes = {
        one.name: {
            "wall_s_median": statistics.median(one.wall_s),
            "max_rss_mib_median": statistics.median(one.max_rss_kib) / 1024,
            "wall_ratio_to_import_torch": median_ratio(one.wall_s, base.wall_s),
            "cpu_s_median": statistics.median(one.cpu_s),
            "cpu_ratio_to_import_torch": median_ratio(one.cpu_s, base.cpu_s),
            "rss_mib_over_import_torch": (statistics.median(one.max_rss_kib) - statistics.median(base.max_rss_kib))
            / 1024,
        }
        for one in runs
    }
    growth = {}
    for blocks in BLOCKS:
        mine = [s for s in stacks if s["blocks"] == blocks]
        growth[str(blocks)] = {
            "rows": mine[0]["rows"],
            "analysis_s_median": statistics.median(s["analysis_s"] for s in mine),
            "table_s_median": statistics.median(t for s in mine for t in s["table_s"]),
            "analysis_cpu_s_median": statistics.median(s["analysis_cpu_s"] for s in mine),
            "table_cpu_s_median": statistics.median(t for s in mine for t in s["table_cpu_s"]),
        }
    first, last = growth[str(BLOCKS[0])], growth[str(BLOCKS[-1])]
    targets = [Target(f"{name}: wall / import torch (median of per-round ratios)",
                      processes[name]["wall_ratio_to_import_torch"], limit) for name, limit in LIMITS.items()]
    for clock in ("", "cpu_"):
        targets.append(Target(f"table {'CPU' if clock else 'wall'} time, {BLOCKS[-1]:,} blocks / {BLOCKS[0]:,}",
                              last[f"table_{clock}s_median"] / first[f"table_{clock}s_median"], MAX_TABLE_GROWTH))
    targets += [Target(f"table / analysis at {int(blocks):,} blocks", g["table_s_median"] / g["analysis_s_median"],
                       1.0) for blocks, g in growth.items()]
    return {"processes": processes, "growth": growth, "targets": [asdict(t) | {"passed": t.passed} for t in targets]}


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def machine() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{package: version(package) for package in ("torch", "rich", "click", "archstat")},
        "executable": sys.executable,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def report(result: dict[str, Any]) -> None:
    print("\n| command | wall s | wall × import torch | CPU s | CPU × import torch | peak RSS MiB | "
          "RSS − torch MiB |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, p in result["summary"]["processes"].items():
        print(f"| `{name}` | {p['wall_s_median']:.3f} | {p['wall_ratio_to_import_torch']:.2f}× | "
              f"{p['cpu_s_median']:.3f} | {p['cpu_ratio_to_import_torch']:.2f}× | "
              f"{p['max_rss_mib_median']:.1f} | {p['rss_mib_over_import_torch']:+.1f} |")
    print("\n| blocks | rows | analysis s | terminal table s | table / analysis | analysis CPU s | table CPU s |")
    print("|--:|--:|--:|--:|--:|--:|--:|")
    for blocks, g in result["summary"]["growth"].items():
        print(f"| {int(blocks):,} | {g['rows']:,} | {g['analysis_s_median']:.2f} | {g['table_s_median']:.3f} | "
              f"{g['table_s_median'] / g['analysis_s_median']:.2f} | {g['analysis_cpu_s_median']:.2f} | "
              f"{g['table_cpu_s_median']:.3f} |")
    print("\n| target | measured | limit | |\n|---|--:|--:|---|")
    for t in result["summary"]["targets"]:
        print(f"| {t['name']} | {t['value']:.2f} | ≤ {t['limit']} | {'PASS' if t['passed'] else 'FAIL'} |")
    load = result["load_average"]
    print(f"\n1-minute load average {load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end; "
          f"{result['duration_s']:.0f} s in all.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds; each stack in one process, one table")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    start, load_start = time.perf_counter(), os.getloadavg()
    print(f"processes: {plan.rounds} interleaved rounds", flush=True)
    runs = bench_processes(plan.rounds)
    print(f"residual stacks: {', '.join(map(str, BLOCKS))} blocks, {plan.stack_repeats} processes each, "
          f"{plan.table_repeats} tables in each", flush=True)
    stacks = bench_stacks(plan)
    result = {
        "plan": asdict(plan) | {"quick": args.quick},
        "machine": machine(),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "duration_s": time.perf_counter() - start,
        "summary": summarise(runs, stacks),
        "processes": [asdict(one) for one in runs],
        "stacks": stacks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
