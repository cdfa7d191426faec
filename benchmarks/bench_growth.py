"""Whether `archstat.analyze` stays linear in the model's size: residual stacks of 1,000 to 3,000 blocks.

    python benchmarks/bench_growth.py [--quick] [--profile] [--saved] [-o benchmarks/results/growth.json]

`--saved` times `analyze(..., saved_for_backward=True)` (the second, train-mode forward too, as
`archstat summary` runs it) and writes results/growth_saved.json by default.

Analysis only (the terminal table is timed by its own script); each sample runs in a fresh process
holding only its model. A measurement, not a test: it
prints PASS/FAIL and always exits 0. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from machine import RESULTS, describe, finish, machine_info
from residual_stack import INPUT, module_count, residual_stack

import archstat

DEFAULT_OUTPUT = RESULTS / "growth.json"
SIZES = (1000, 2000, 3000)
SLACK = 1.1   # allowed growth: 1.1 × the growth in blocks (3.3× from 1,000 to 3,000)
SAVED = {"saved_for_backward": False}   # --saved sets it: the keyword every analysis here gets


def sample(model: Any) -> dict[str, float]:
    """One analysis: wall and CPU seconds, and the full collection it leaves for afterwards."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    archstat.analyze(model, INPUT, saved_for_backward=SAVED["saved_for_backward"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    collect = time.perf_counter()
    gc.collect()
    return {"wall_s": wall, "cpu_s": cpu, "collect_after_s": time.perf_counter() - collect}


def child(blocks: int) -> dict[str, float]:
    """One sample in a fresh process holding only this model, as a user's process would: the
    collector's work depends on everything the process holds, so sizes must not share one."""
    command = [sys.executable, __file__, "--child", str(blocks), *(["--saved"] if SAVED["saved_for_backward"] else [])]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    sample: dict[str, float] = json.loads(out.splitlines()[-1])
    return sample


def profile(model: Any, top: int) -> tuple[pstats.Stats, str]:
    """cProfile of one analysis (CPU time), and its top functions by tottime and by cumulative time."""
    archstat.analyze(model, INPUT, saved_for_backward=SAVED["saved_for_backward"])
    gc.collect()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    archstat.analyze(model, INPUT, saved_for_backward=SAVED["saved_for_backward"])
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return stats, text.getvalue()


def excess(small: pstats.Stats, large: pstats.Stats, factor: float, top: int) -> list[dict[str, Any]]:
    """The functions whose time grew most beyond `factor` × (linear growth) from the small profile to the large."""
    rows = []
    small_stats: dict[Any, Any] = small.stats  # type: ignore[attr-defined]
    large_stats: dict[Any, Any] = large.stats  # type: ignore[attr-defined]
    for key, (_, calls, tottime, cumtime, _) in large_stats.items():
        before = small_stats.get(key, (0, 0, 0.0, 0.0, None))
        rows.append({
            "function": f"{Path(key[0]).name}:{key[1]}({key[2]})",
            "calls": [before[1], calls],
            "tottime_s": [round(before[2], 4), round(tottime, 4)],
            "cumtime_s": [round(before[3], 4), round(cumtime, 4)],
            "cumtime_beyond_linear_s": round(cumtime - factor * before[3], 4),
            "tottime_beyond_linear_s": round(tottime - factor * before[2], 4),
        })
    return sorted(rows, key=lambda r: -r["tottime_beyond_linear_s"])[:top]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, the smallest and largest size")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 3, 1 with --quick)")
    parser.add_argument("--sizes", type=lambda s: tuple(int(v) for v in s.split(",")), default=SIZES)
    parser.add_argument("--profile", action="store_true", help="also profile the smallest and largest size")
    parser.add_argument("--saved", action="store_true", help="analyze(..., saved_for_backward=True)")
    parser.add_argument("-o", "--output", type=Path, default=None)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)   # internal: one sample, printed as JSON
    args = parser.parse_args(argv)
    SAVED["saved_for_backward"] = args.saved
    args.output = args.output or (RESULTS / "growth_saved.json" if args.saved else DEFAULT_OUTPUT)
    if args.child:
        model = residual_stack(args.child)
        # warm-up: imports, first-call caches
        archstat.analyze(model, INPUT, saved_for_backward=SAVED["saved_for_backward"])
        print(json.dumps(sample(model)))
        return
    sizes: tuple[int, ...] = (args.sizes[0], args.sizes[-1]) if args.quick else args.sizes
    rounds = args.rounds or (1 if args.quick else 3)
    info = machine_info()
    samples: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    order = list(sizes)
    for r in range(rounds):
        random.Random(r).shuffle(order)
        for n in order:
            samples[n].append(child(n))
            print(f"round {r + 1}: {n} blocks {samples[n][-1]['wall_s']:.2f} s wall, "
                  f"{samples[n][-1]['cpu_s']:.2f} s cpu", flush=True)
    medians = {n: {k: statistics.median(s[k] for s in samples[n]) for k in samples[n][0]} for n in sizes}
    small, large = sizes[0], sizes[-1]
    limit = SLACK * large / small
    growth = {k: medians[large][k] / medians[small][k] for k in ("wall_s", "cpu_s")}
    result: dict[str, Any] = {
        "model": "residual stack (conv-BN-ReLU, conv-BN, add, ReLU per block), 64 channels, built on meta",
        "input": list(INPUT),
        "saved_for_backward": args.saved,
        "sizes": {n: {"blocks": n, "modules": module_count(residual_stack(n))} for n in sizes},
        "rounds": rounds, "samples": samples, "medians": medians,
        "growth": growth, "limit": limit, "pass": growth["cpu_s"] <= limit and growth["wall_s"] <= limit,
    }
    if args.profile:
        small_stats, small_text = profile(residual_stack(small), 40)
        large_stats, large_text = profile(residual_stack(large), 40)
        for n, text in ((small, small_text), (large, large_text)):
            path = args.output.with_name(f"{args.output.stem}_profile_{n}.txt")
            path.write_text(text)
        result["profile"] = {
            "total_cpu_s": {small: small_stats.total_tt, large: large_stats.total_tt},  # type: ignore[attr-defined]
            "beyond_linear": excess(small_stats, large_stats, large / small, 15),
        }
    result["machine"] = finish(info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'blocks':>7} {'modules':>8} {'wall s':>8} {'cpu s':>8} {'collect after s':>16}")
    for n in sizes:
        m = medians[n]
        print(f"{n:>7,} {result['sizes'][n]['modules']:>8,} {m['wall_s']:>8.3f} {m['cpu_s']:>8.3f} "
              f"{m['collect_after_s']:>16.3f}")
    verdict = "PASS" if result["pass"] else "FAIL"
    print(f"{verdict}: {small:,} -> {large:,} blocks: wall x{growth['wall_s']:.2f}, cpu x{growth['cpu_s']:.2f} "
          f"(limit x{limit:.2f})")
    print(describe(result["machine"]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
