"""Receptive-field checks over the whole zoo, and the cost of the RF pass.

    python benchmarks/rf_checks.py [--cap 448] [--models vgg16,resnet50] [-o benchmarks/results/rf.json]

1. For every zoo network: the final field from the analyzer's closed form, then `rf --verify`
   (gradient probe on a real CPU forward) at a suitable input: the smallest multiple of 32 that
   holds the final field with a margin, capped at --cap pixels to keep CPU time sane. Layers whose
   field is larger than that input are reported as not compared.
2. The RF pass's share of `analyze` on resnet152 (meta device): median of 15 runs with and
   without receptive fields, interleaved.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch

import archstat
from archstat.analysis import analyze
from archstat.analysis.rf.growth import growth
from archstat.analysis.rf.verify import verify_fields


def suitable_input(name: str, cap: int) -> tuple[tuple[int, ...], int | None]:
    """The model's input with its spatial size grown to hold the final field (up to `cap`)."""
    info = archstat.model_info(name)
    analysis = analyze(name)
    final = growth(analysis).final
    field = max(a.size for a in final.rf.axes) if final is not None and final.rf is not None else None
    shape = info.input_shape
    fixed = name in {"alexnet", "zfnet", "googlenet", "lenet5", "lenet5_modern", "fc_head", "gap_head"}
    if field is None or fixed or info.kind == "block" or field + 32 <= shape[-1]:
        return shape, field
    side = min(cap, -(-(field + 32) // 32) * 32)
    return (*shape[:-2], side, side), field


def verify_zoo(cap: int, names: list[str], limit: int | None) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        shape, field = suitable_input(name, cap)
        start = time.perf_counter()
        analysis = analyze(name, shape)
        result = verify_fields(name, analysis, limit=limit)
        agree = sum(c.agrees for c in result.checks)
        row = {
            "model": name, "final_field": field, "input": list(shape), "layers": len(result.checks),
            "compared": result.compared, "agree": agree, "differ": result.compared - agree,
            "not_compared": len(result.checks) - result.compared, "seconds": round(time.perf_counter() - start, 1),
        }
        rows.append(row)
        print(f"{name:24s} field {field!s:>5s}  input {'x'.join(map(str, shape)):>14s}  "
              f"{agree:3d}/{result.compared:3d} agree, {row['not_compared']:3d} not compared  "
              f"({row['seconds']} s)", flush=True)
    return rows


def rf_overhead(runs: int = 15) -> dict[str, float]:
    with torch.device("meta"):
        model = archstat.get_model("resnet152")
    analyze(model)
    analyze(model, receptive_fields=False)
    on, off = [], []
    for _ in range(runs):
        start = time.perf_counter()
        analyze(model, receptive_fields=False)
        off.append(time.perf_counter() - start)
        start = time.perf_counter()
        analyze(model)
        on.append(time.perf_counter() - start)
    result = {"without_rf_s": statistics.median(off), "with_rf_s": statistics.median(on)}
    result["overhead_pct"] = 100 * (result["with_rf_s"] / result["without_rf_s"] - 1)
    print(f"resnet152 analyze: {result['without_rf_s'] * 1e3:.1f} ms without RF, "
          f"{result['with_rf_s'] * 1e3:.1f} ms with: +{result['overhead_pct']:.1f}% (target <= 20%)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=int, default=448, help="largest input side for the probe")
    parser.add_argument("--models", help="comma-separated zoo names (default: all)")
    parser.add_argument("--limit", type=int, default=12, help="most layers probed per model (evenly spread)")
    parser.add_argument("-o", "--output", default="benchmarks/results/rf.json")
    args = parser.parse_args()
    names = args.models.split(",") if args.models else [i.name for i in archstat.list_models()]
    overhead = rf_overhead()
    rows = verify_zoo(args.cap, names, args.limit)
    report = {
        "date": time.strftime("%Y-%m-%d"), "python": platform.python_version(), "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(), "cap": args.cap, "limit": args.limit,
        "rf_overhead_resnet152": overhead, "verify": rows,
        "all_agree": all(r["differ"] == 0 for r in rows),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"every compared layer agrees: {report['all_agree']}; wrote {args.output}")


if __name__ == "__main__":
    main()
