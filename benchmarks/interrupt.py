"""Seconds from Ctrl-C to exit while `archstat figures` drives the browser (the issue's bound: 5 s).

Run: `python benchmarks/interrupt.py [--runs 5]`. Each run starts the figure export in its own
process group, waits until a Chromium process runs under it, sends SIGINT to the group as a
terminal would, and records the exit code, the seconds until exit and the browser processes
(seen before the signal) still alive afterwards. Results go to benchmarks/results/interrupt.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from archstat.cli.main import main; sys.exit(main(sys.argv[1:]))"


def browsers(root: int, known: set[int] | None = None) -> set[int]:
    """Live Chromium processes descended from `root`, plus any of `known` still alive."""
    parents: dict[int, int] = {}
    names: dict[int, bytes] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            names[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes() if stat[0] != "Z" else b""
        except OSError:
            continue
        parents[int(entry)] = int(stat[1])
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid for pid in tree | (known or set()) if b"chrom" in names.get(pid, b"")}


def one_run(out: Path) -> dict[str, float | int]:
    """Start the export, interrupt it once the browser runs, and time the exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CLI, "figures", "--format", "png", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    seen: set[int] = set()
    while not (seen := browsers(proc.pid)):
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise SystemExit(f"the export ended before the browser started: {err.decode()}")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    proc.communicate(timeout=120)
    seconds = time.monotonic() - sent
    time.sleep(0.5)   # let the kernel reap what was killed before counting survivors
    return {"exit": proc.returncode, "seconds": round(seconds, 3), "browsers_left": len(browsers(proc.pid, seen))}


def main() -> None:
    """Measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            runs.append(one_run(Path(tmp) / str(i)))
            print(runs[-1], flush=True)
    seconds = [float(r["seconds"]) for r in runs]
    result = {"runs": runs, "median_seconds": statistics.median(seconds), "max_seconds": max(seconds),
              "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
    (ROOT / "benchmarks" / "results" / "interrupt.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
