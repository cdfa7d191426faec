"""What `archstat summary hf:DIR` costs on an LLM-sized config: a Llama of 6.7 B parameters on meta.

    python benchmarks/hf_llm.py [--runs 3] [-o benchmarks/results/hf_llm.json]

The config (hidden 4096, 32 layers, 32 heads, intermediate 11008, vocabulary 32000, the head not
tied: LLaMA-7B's shape) is written to a temporary directory; `archstat summary hf:DIR` then runs
in a child process, interleaved with `python -c "import torch"` as the baseline. Each child is
started by a fresh Python wrapper that reports the child's wall time (`time.perf_counter`) and
peak RSS (`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`), so each figure covers one run.
Its weights in float32 would take 27 GB: a peak RSS under 1 GiB shows none were allocated.
A measurement, not a test: it prints PASS/FAIL and always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "hf_llm.json"
CONFIG: dict[str, Any] = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                          "intermediate_size": 11008, "vocab_size": 32000, "architectures": ["LlamaForCausalLM"]}
MAX_RSS_MIB = 1024.0

# Runs argv[1:] as a child; prints its wall seconds and peak RSS in KiB (Linux ru_maxrss unit).
WRAPPER = ("import resource, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
           "wall = time.perf_counter() - t\n"
           "print(code, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def measure(argv: list[str]) -> dict[str, float]:
    """One run of `argv`: exit code, wall seconds and peak RSS in MiB."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    return {"exit": int(out[0]), "wall_s": float(out[1]), "peak_rss_mib": int(out[2]) / 1024}


def write_config(directory: Path) -> None:
    from transformers import LlamaConfig

    LlamaConfig(**CONFIG).save_pretrained(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp) / "llama-7b"
        write_config(config_dir)
        summary = [sys.executable, "-m", "archstat.cli.main", "summary", f"hf:{config_dir}"]
        totals_file = Path(tmp) / "totals.json"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        subprocess.run([*summary, "--depth", "1", "-o", str(totals_file)], env=env, check=True,
                       capture_output=True)
        totals: dict[str, Any] = json.loads(totals_file.read_text())["totals"]
        runs: dict[str, list[dict[str, float]]] = {"archstat": [], "import_torch": []}
        for _ in range(args.runs):
            runs["import_torch"].append(measure([sys.executable, "-c", "import torch"]))
            runs["archstat"].append(measure(summary))
    medians = {tool: {key: statistics.median(r[key] for r in samples) for key in ("wall_s", "peak_rss_mib")}
               for tool, samples in runs.items()}
    ok = all(r["exit"] == 0 for r in runs["archstat"]) and medians["archstat"]["peak_rss_mib"] < MAX_RSS_MIB
    result = {
        "config": CONFIG,
        "params": totals["params"], "param_bytes_float32": totals["param_bytes"],
        "macs": totals["macs"], "flops": totals["flops"], "partial": totals["partial"],
        "runs": runs, "medians": medians,
        "target": {"peak_rss_mib_below": MAX_RSS_MIB}, "pass": ok,
        "machine": {"python": platform.python_version(), "torch": version("torch"),
                    "transformers": version("transformers"), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(), "date": datetime.now(timezone.utc).isoformat()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    a, t = medians["archstat"], medians["import_torch"]
    print(f"LlamaForCausalLM {totals['params']:,} params ({totals['param_bytes'] / 2**30:.1f} GiB in float32), "
          f"{totals['macs']:,} MACs at 1x128")
    print(f"archstat summary hf:DIR  wall {a['wall_s']:.2f} s  peak RSS {a['peak_rss_mib']:.0f} MiB")
    print(f"python -c 'import torch' wall {t['wall_s']:.2f} s  peak RSS {t['peak_rss_mib']:.0f} MiB")
    print(f"{'PASS' if ok else 'FAIL'}: peak RSS under {MAX_RSS_MIB:.0f} MiB; wrote {args.output}")


if __name__ == "__main__":
    main()
