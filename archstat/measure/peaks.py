"""The device a measurement ran on: datasheet peaks of known GPUs (REFERENCES.md section 4), the
roofline ceiling for a run, and the environment and clocks saved with every result.

Dense rates, no sparsity. Datasheet figures are ceilings, not what a card reaches: an H100 SXM
measured about 798 TFLOP/s bf16 and 3.0 TB/s copy bandwidth against 989 and 3.35 here.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

TERA = 1e12


@dataclass(frozen=True, slots=True)
class DevicePeaks:
    """One GPU's datasheet rates: FLOP/s per unit and bytes/s of device memory."""

    name: str
    sms: int | None
    tensor_16bit_flops: float      # bf16/fp16 on the tensor cores
    tf32_flops: float              # fp32 inputs on the tensor cores (TF32)
    fp32_flops: float              # plain fp32 on the vector units
    bandwidth: float               # bytes/s


H100_SXM = DevicePeaks("H100 SXM", 132, 989 * TERA, 495 * TERA, 67 * TERA, 3.35 * TERA)
H100_PCIE = DevicePeaks("H100 PCIe", 114, 756 * TERA, 378 * TERA, 51 * TERA, 2.0 * TERA)
H200 = DevicePeaks("H200", 132, 989 * TERA, 495 * TERA, 67 * TERA, 4.8 * TERA)
A100_SXM_80GB = DevicePeaks("A100 SXM 80GB", 108, 312 * TERA, 156 * TERA, 19.5 * TERA, 2.04 * TERA)

KNOWN_GPUS: tuple[DevicePeaks, ...] = (H100_SXM, H100_PCIE, H200, A100_SXM_80GB)


def match_peaks(device_name: str, sm_count: int | None = None) -> DevicePeaks | None:
    """The table entry for a CUDA device name ("NVIDIA H100 80GB HBM3"), or None when not known.

    Variants the table does not list (H100 NVL, A100 40GB or PCIe) get None rather than a
    neighbour's figures: a wrong ceiling is worse than none.
    """
    name = device_name.upper()
    if "H200" in name:
        return H200
    if "H100" in name:
        if "NVL" in name:
            return None
        if "PCIE" in name or sm_count == H100_PCIE.sms:
            return H100_PCIE
        return H100_SXM
    if "A100" in name and "80GB" in name.replace(" ", "") and "PCIE" not in name:
        return A100_SXM_80GB
    return None


def compute_ceiling(peaks: DevicePeaks, dtype: torch.dtype, *, matrix: bool, tf32: bool) -> float:
    """FLOP/s ceiling for one layer: tensor cores for 16-bit matrix work, TF32 where enabled, else fp32.

    Layers without a matrix product (pooling, activations, normalisation) run on the vector units,
    so they get the fp32 rate whatever the dtype; they are bandwidth-bound in practice anyway.
    """
    if not matrix:
        return peaks.fp32_flops
    if dtype in (torch.float16, torch.bfloat16):
        return peaks.tensor_16bit_flops
    if dtype == torch.float32 and tf32:
        return peaks.tf32_flops
    return peaks.fp32_flops


def roofline_fraction(flops_per_s: float, intensity: float, ceiling: float, bandwidth: float) -> float:
    """Achieved FLOP/s over the roofline at this arithmetic intensity: min(ceiling, intensity × bandwidth)."""
    roof = min(ceiling, intensity * bandwidth)
    return flops_per_s / roof if roof > 0 else 0.0


# ------------------------------------------------------------------------------------------ environment

_CLOCK_FIELDS = ("clocks.sm", "clocks.mem", "clocks.max.sm", "temperature.gpu", "power.draw")


def _smi(fields: Sequence[str], device: torch.device) -> list[str] | None:
    """One row of `nvidia-smi --query-gpu` for this device, or None when it cannot be read."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    props = torch.cuda.get_device_properties(device)
    uuid = getattr(props, "uuid", None)
    target = f"GPU-{uuid}" if uuid is not None else str(device.index or 0)
    try:
        done = subprocess.run([exe, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits",
                               "-i", target], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    line = done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else ""
    values = [v.strip() for v in line.split(",")]
    return values if len(values) == len(fields) else None


def read_clocks(device: torch.device) -> dict[str, Any] | None:
    """SM and memory clocks (MHz), temperature and power now, via nvidia-smi; None on the CPU or without it."""
    if device.type != "cuda":
        return None
    values = _smi(_CLOCK_FIELDS, device)
    if values is None:
        return None
    return {field: _number(v) for field, v in zip(_CLOCK_FIELDS, values, strict=True)}


def _number(text: str) -> float | str | None:
    try:
        return float(text)
    except ValueError:
        return None if text in ("[N/A]", "N/A", "") else text


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: torch.device) -> dict[str, Any]:
    """Versions, flags and hardware a result depends on, saved beside it."""
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    env: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": cudnn,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,  # other processes compete
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "gpu": None,
        "sm_count": None,
        "compute_capability": None,
        "gpu_memory_bytes": None,
        "driver": None,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        driver = _smi(("driver_version",), device)
        env.update(gpu=props.name, sm_count=props.multi_processor_count,
                   compute_capability=f"{props.major}.{props.minor}", gpu_memory_bytes=props.total_memory,
                   driver=driver[0] if driver else None)
    return env
