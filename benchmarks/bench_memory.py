"""Whether repeated analyses leak, and what one large analysis costs in memory.

    python benchmarks/bench_memory.py [--quick] [-o benchmarks/results/memory.json]

Every analysis here asks for `saved_for_backward=True`: both forwards, the heavier case (the
second is where the leak was). Leak: `archstat.analyze("resnet152")` called 200 times in one
process (30 with --quick); after a full collection, the RSS and the collector's tracked-object
count after the last call must be within 5% of those after the first. Peak RSS: in child
processes, the analysis of the 3,000-block residual stack and of a LLaMA-7B-sized `hf:` config
(benchmarks/hf_llm.py), against `python -c "import torch"`, interleaved; each must stay within
300 MiB of it. A measurement, not a test: it prints PASS/FAIL and always exits 0
(tests/test_leak.py counts live tensors instead).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hf_llm import measure, write_config
from machine import RESULTS, describe, finish, machine_info

import archstat

DEFAULT_OUTPUT = RESULTS / "memory.json"
LEAK_MODEL = "resnet152"
FLAT = 0.05           # the leak check's tolerance, relative to the state after the first call
PEAK_OVER_TORCH_MIB = 300.0
BENCHMARKS = Path(__file__).resolve().parent


def rss_mib() -> float:
    """This process's resident set now, in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def leak(calls: int) -> dict[str, Any]:
    """RSS and tracked objects (after a full collection) after call 1 and every tenth call."""
    points: list[dict[str, float]] = []
    for i in range(1, calls + 1):
        archstat.analyze(LEAK_MODEL, saved_for_backward=True)   # both forwards: the second is where it leaked
        if i == 1 or i % 10 == 0 or i == calls:
            gc.collect()
            points.append({"call": i, "rss_mib": rss_mib(), "gc_objects": len(gc.get_objects())})
    first, last = points[0], points[-1]
    growth = {k: last[k] / first[k] - 1 for k in ("rss_mib", "gc_objects")}
    return {"model": LEAK_MODEL, "calls": calls, "points": points, "growth": growth,
            "pass": all(abs(g) <= FLAT for g in growth.values())}


STACK_CHILD = ("import sys; sys.path.insert(0, {benchmarks!r}); import archstat; "
               "from residual_stack import INPUT, residual_stack; "
               "archstat.analyze(residual_stack(3000), INPUT, saved_for_backward=True)")
HF_CHILD = "import archstat; archstat.analyze({spec!r}, saved_for_backward=True)"


def peaks(runs: int) -> dict[str, Any]:
    """Peak RSS of each child, interleaved over `runs` rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp) / "llama-7b"
        write_config(config_dir)
        children = {
            "import_torch": [sys.executable, "-c", "import torch"],
            "stack_3000_blocks": [sys.executable, "-c", STACK_CHILD.format(benchmarks=str(BENCHMARKS))],
            "hf_llama_7b": [sys.executable, "-c", HF_CHILD.format(spec=f"hf:{config_dir}")],
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in children}
        for _ in range(runs):
            for name, argv in children.items():
                samples[name].append(measure(argv))
                print(f"{name}: {samples[name][-1]['peak_rss_mib']:.0f} MiB, {samples[name][-1]['wall_s']:.1f} s",
                      flush=True)
    medians = {name: statistics.median(s["peak_rss_mib"] for s in runs_) for name, runs_ in samples.items()}
    over = {name: medians[name] - medians["import_torch"] for name in children if name != "import_torch"}
    ok = all(s["exit"] == 0 for runs_ in samples.values() for s in runs_)
    return {"samples": samples, "median_peak_rss_mib": medians, "over_import_torch_mib": over,
            "limit_mib": PEAK_OVER_TORCH_MIB, "pass": ok and all(v <= PEAK_OVER_TORCH_MIB for v in over.values())}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 calls for the leak check, one peak run each")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    info = machine_info(("transformers",))
    result: dict[str, Any] = {"leak": leak(30 if args.quick else 200), "peak": peaks(1 if args.quick else 3)}
    result["machine"] = finish(info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    lk, pk = result["leak"], result["peak"]
    first, last = lk["points"][0], lk["points"][-1]
    print(f"{'PASS' if lk['pass'] else 'FAIL'}: {lk['calls']} x analyze({LEAK_MODEL!r}): RSS {first['rss_mib']:.0f} -> "
          f"{last['rss_mib']:.0f} MiB ({100 * lk['growth']['rss_mib']:+.1f}%), tracked objects "
          f"{first['gc_objects']:,} -> {last['gc_objects']:,} ({100 * lk['growth']['gc_objects']:+.1f}%)")
    for name, over in pk["over_import_torch_mib"].items():
        print(f"{'PASS' if over <= PEAK_OVER_TORCH_MIB else 'FAIL'}: {name} peak RSS "
              f"{pk['median_peak_rss_mib'][name]:.0f} MiB, {over:+.0f} MiB over import torch "
              f"({pk['median_peak_rss_mib']['import_torch']:.0f} MiB)")
    print(describe(result["machine"]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
