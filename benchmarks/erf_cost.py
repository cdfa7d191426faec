"""The cost of `archstat erf` against the number of layers chosen: one forward, one backward per layer.

Run: PYTHONPATH=. python benchmarks/erf_cost.py   (vgg16 at 1x3x128x128, 4 Gaussian inputs, CPU)
Prints the median seconds of 3 runs for 1..13 conv layers; the cost should grow linearly.
"""

from __future__ import annotations

import statistics
import time

from archstat.analysis.analyze import analyze
from archstat.analysis.rf.erf import effective_fields, seeded
from archstat.models import get_model

SHAPE = (1, 3, 128, 128)
IMAGES = 4
RUNS = 3


def main() -> None:
    with seeded(0):
        model = get_model("vgg16")
    analysis = analyze(model, SHAPE)
    convs = [r.path for r in analysis.growth.rows if r.type == "Conv2d"]
    for count in (1, 2, 4, 8, 13):
        chosen = convs[len(convs) - count:]   # the deepest ones: each backward runs the whole way back
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            effective_fields(model, analysis, chosen, images=IMAGES)
            times.append(time.perf_counter() - start)
        print(f"{count:>2} layers: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
