"""The machine a benchmark ran on and how busy it was: recorded with every result file."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ("unknown" elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def versions(packages: Sequence[str]) -> dict[str, str]:
    """Installed versions of `packages` ("not installed" for those missing)."""
    found: dict[str, str] = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine_info(packages: Sequence[str] = ("torch",)) -> dict[str, Any]:
    """CPU model, cores, torch threads, Python and package versions, date, and the load average now
    (`load_average_start`; call `finish` at the end for `load_average_end`)."""
    import torch

    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(list(dict.fromkeys(["archstat", "torch", *packages]))),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
    }


def finish(info: dict[str, Any]) -> dict[str, Any]:
    """`info` with the load average at the end of the run."""
    return {**info, "load_average_end": os.getloadavg()}


def describe(info: dict[str, Any]) -> str:
    """One line: CPU, cores and the 1-minute load average at start and end."""
    end = info.get("load_average_end", ("?",))[0]
    return (f"{info['cpu_model']}, {info['cpu_count']} cores ({info['torch_threads']} torch threads), Python "
            f"{info['python']}, torch {info['versions'].get('torch')}; 1-minute load average "
            f"{info['load_average_start'][0]:.2f} at start, {end if isinstance(end, str) else f'{end:.2f}'} at end")
