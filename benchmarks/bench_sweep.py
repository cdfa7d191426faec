"""How long `archstat sweep resnet152 --size 128:736:32` (20 input sizes) takes.

    python benchmarks/bench_sweep.py [--repeats N] [-o benchmarks/results/sweep.json]

A measurement, not a test: it prints the times and always exits 0. Each run is the library call the
command makes (`archstat.studies.sweep.sweep`: build resnet152 on meta once, analyse it at each
size); one warm-up run, then the median of N timed runs (`time.perf_counter`, `gc.collect()` before
each, outside the timing). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from pathlib import Path

from machine import RESULTS, describe, finish, machine_info

from archstat.studies.sweep import Swept, sweep

MODEL = "resnet152"
SIZES = "128:736:32"     # 20 square sizes
DEFAULT_OUTPUT = RESULTS / "sweep.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    swept = Swept.of("size", SIZES)
    assert len(swept.values) == 20
    info = machine_info()
    result = sweep(MODEL, swept)    # warm-up: imports, first-call caches
    times = []
    for _ in range(args.repeats):
        gc.collect()
        start = time.perf_counter()
        result = sweep(MODEL, swept)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    macs = result.fits["macs"]
    print(f"{MODEL}, {len(swept.values)} sizes ({SIZES}) on meta: median {median:.2f} s over {args.repeats} runs "
          f"({median / len(swept.values) * 1000:.0f} ms per size); runs {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"MACs ∝ size^{macs.exponent:.2f} (r² {macs.r2:.5f}); {result.points[0].macs:,} MACs at "
          f"{result.points[0].label}, {result.points[-1].macs:,} at {result.points[-1].label}")
    record = {
        "model": MODEL, "sizes": SIZES, "points": len(swept.values), "repeats": args.repeats,
        "seconds": times, "median_s": median, "macs_exponent": macs.exponent,
        "machine": finish(info),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(describe(record["machine"]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
