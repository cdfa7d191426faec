"""Measured latency as frozen records, the one versioned JSON schema they are saved in, and its one reader.

`archstat latency -o FILE.json` writes `LatencyResult.to_dict()`; `read_result` reads it back for
`latency --from`, `report --latency` and `compare --latency`. The schema, version 2:

    {"schema_version": 2, "model": "resnet50", "device": "...", ..., "batches": [{...}, ...]}

the fields of `LatencyResult` at the top level, nested records as objects, tuples as lists. Every
figure a view shows is in the records, computed where it was measured: the roofline points of a
layer are its `intensity` (FLOP per byte moved), `flops_per_s` and `roofline_fraction`.

Version 1 files (the same result nested under "result", beside copies of a few of its figures
for the readers of that time) are read as they are. The reader checks every type against the
records' annotations, so a malformed file is one UsageError naming the option, the path inside
the file and the problem; it never reaches a renderer.
"""

from __future__ import annotations

import json
import math
import os
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from archstat.errors import UsageError

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_FILE_BYTES = 64 << 20           # a sweep of a large network is a few MiB
MAX_INT_DIGITS = 30                 # byte counts and clocks fit in far fewer
Scalar = str | int | float | bool | None


# ------------------------------------------------------------------------------------------ records

@dataclass(frozen=True, slots=True)
class Stats:
    """Summary of repeated timings, in milliseconds; spread = (p90 − p10) / median."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    spread: float
    samples: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Stats:
        """Median and percentiles (linear interpolation, as numpy's default) of the samples."""
        if not samples_ms:
            raise ValueError("no samples")
        s = sorted(samples_ms)
        median = _quantile(s, 0.5)
        p10, p90 = _quantile(s, 0.1), _quantile(s, 0.9)
        return cls(median, p10, p90, s[0], s[-1], (p90 - p10) / median if median > 0 else 0.0, len(s))


def _quantile(ordered: Sequence[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class LayerTiming:
    """One module call's median time and, where the analyzer counted it, its roofline point."""

    path: str
    call: int
    type: str
    depth: int
    is_leaf: bool
    median_ms: float
    p10_ms: float
    p90_ms: float
    flops: int | None               # the analyzer's count at this batch
    bytes: int | None               # weights + inputs + outputs at the run's dtype, each moved once
    intensity: float | None         # flops / bytes: the roofline point's x
    flops_per_s: float | None       # achieved: the roofline point's y
    bytes_per_s: float | None
    ceiling_flops: float | None     # compute roof for this layer (None: no peaks for the device)
    roofline_fraction: float | None  # achieved / min(ceiling, intensity × bandwidth)

    @property
    def on_roofline(self) -> bool:
        """A leaf that did floating-point work in measurable time: a point of the roofline plot."""
        return self.is_leaf and bool(self.flops) and self.intensity is not None and self.flops_per_s is not None


@dataclass(frozen=True, slots=True)
class PerLayer:
    """Per-layer pass: the hooked forward, what the leaves cover of it, and what hooks cost."""

    layers: tuple[LayerTiming, ...]
    hooked: Stats
    leaf_sum_ms: float              # sum of the leaf layers' medians
    coverage: float                 # leaf_sum_ms / hooked median
    hook_overhead: float            # hooked median / unhooked (whole-model) median
    unattributed_ms: float          # hooked median − leaf_sum_ms: code outside any leaf

    def leaves(self) -> tuple[LayerTiming, ...]:
        """The leaf layers' calls, in execution order."""
        return tuple(t for t in self.layers if t.is_leaf)


@dataclass(frozen=True, slots=True)
class Memory:
    """Measured peaks (CUDA only, else None) beside the analyzer's estimates, in bytes."""

    baseline_bytes: int | None          # allocated before the forward: weights, input, leftovers
    inference_peak_bytes: int | None    # max allocated during a warm inference forward
    training_peak_bytes: int | None     # max allocated during forward + backward
    training_mode: str | None           # "train", or "eval" when a train-mode forward could not run
    estimated_activation_bytes: int     # analyzer: all layer outputs (lecture convention)
    estimated_peak_activation_bytes: int  # analyzer: peak live tensors in inference
    estimated_training_bytes: int       # analyzer: tensors saved for backward
    param_bytes: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Everything measured at one batch size."""

    batch: int
    input_shape: tuple[int, ...]
    whole: Stats
    throughput: float                   # images/s = batch / whole median
    graph: Stats | None                 # CUDA-graph replay: the launch-free lower bound
    graph_throughput: float | None
    per_layer: PerLayer | None
    memory: Memory
    clocks_before: Mapping[str, Scalar] | None
    clocks_after: Mapping[str, Scalar] | None


@dataclass(frozen=True, slots=True)
class LatencyResult:
    """A measured sweep with the environment it ran in; `to_dict` is the saved JSON."""

    model: str
    device: str                         # device name: GPU name, or "cpu: <model>"
    device_type: str
    dtype: str
    channels_last: bool
    warmup: int
    repeat: int
    cuda_graph: bool
    per_layer: bool
    requested_batches: tuple[int, ...]
    batches: tuple[BatchResult, ...]
    failed_batch: int | None            # the first batch that ran out of memory
    failure: str | None
    peaks_name: str | None              # the table entry matched (None on CPU or unknown GPU)
    peak_flops: float | None            # matrix ceiling for this dtype and these flags
    peak_bandwidth: float | None
    environment: Mapping[str, Scalar | list[Scalar]]
    notes: tuple[str, ...]

    @property
    def reported(self) -> BatchResult:
        """The batch whose figures headline the result: the largest that fit."""
        return self.batches[-1]

    @property
    def label(self) -> str:
        """Where and how it ran, in a few words: "<device>, <dtype>"."""
        return f"{self.device}, {self.dtype}"

    def to_dict(self) -> dict[str, Any]:
        """The saved JSON (schema version 2)."""
        return {"schema_version": SCHEMA_VERSION, **_plain(self)}


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------ reader

class _Malformed(Exception):
    """A problem inside the file, at a path like `batches[0].whole.median_ms`."""


def read_result(path: str | os.PathLike[str], option: str = "latency file") -> LatencyResult:
    """The saved latency result in PATH; every problem is one UsageError "OPTION PATH: problem"."""
    try:
        return _parse(_load_json(path))
    except _Malformed as exc:
        raise UsageError(f"{option} {os.fspath(path)}: {exc}") from None


def parse_result(data: object, source: str = "latency result") -> LatencyResult:
    """A result from already-parsed JSON (either schema version); one UsageError "SOURCE: problem" if malformed."""
    try:
        return _parse(data)
    except _Malformed as exc:
        raise UsageError(f"{source}: {exc}") from None


def _parse(data: object) -> LatencyResult:
    if not isinstance(data, dict):
        raise _Malformed(f"expected a JSON object (an `archstat latency` result), got {_json_type(data)}")
    version = data.get("schema_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        shown = "(too long)" if isinstance(version, int) and version.bit_length() > 64 else repr(version)[:40]
        raise _Malformed(f"schema_version {shown} is not one this archstat reads "
                         f"({', '.join(map(str, READABLE_VERSIONS))})")
    if version == 1:
        payload = data.get("result")
        if not isinstance(payload, dict):
            raise _Malformed(f"result must be an object, got {_json_type(payload)}")
        where = "result."
    else:
        payload = {k: v for k, v in data.items() if k != "schema_version"}
        where = ""
    result = _record(LatencyResult, payload, where)
    if not result.batches:
        raise _Malformed(f"{where}batches is empty: no batch was measured")
    for i, b in enumerate(result.batches):
        if b.batch <= 0:
            raise _Malformed(f"{where}batches[{i}].batch must be a positive integer, got {b.batch}")
    return result


def _load_json(path: str | os.PathLike[str]) -> object:
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _Malformed("no such file") from None
    except IsADirectoryError:
        raise _Malformed("is a directory, not a JSON file") from None
    except OSError as exc:
        raise _Malformed(f"cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _Malformed(f"larger than {MAX_FILE_BYTES >> 20} MiB: not a latency result")
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_int, parse_float=_float, parse_constant=_constant)
    except UnicodeDecodeError:
        raise _Malformed("not JSON: not UTF-8 text") from None
    except RecursionError:
        raise _Malformed("not a latency result: JSON nested too deeply") from None
    except MemoryError:
        raise _Malformed("not a latency result: too large to read") from None
    except json.JSONDecodeError as exc:
        raise _Malformed(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:                  # raised by the number hooks below
        raise _Malformed(f"not a latency result: {exc}") from None


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def _constant(text: str) -> float:
    raise ValueError(f"{text} is not a number")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "object", list: "list", str: "str", int: "int", float: "float"}.get(type(value), type(value).__name__)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _record(cls: type[Any], raw: object, where: str) -> Any:
    """An instance of the record class `cls` from a JSON object, every field checked against its annotation."""
    name = where.rstrip(".") or "the file"
    if not isinstance(raw, dict):
        raise _Malformed(f"{name} must be an object, got {_json_type(raw)}")
    hints = _hints(cls)
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise _Malformed(f"{name} has an unknown key {unknown[0]!r}")
    missing = [n for n in names if n not in raw]
    if missing:
        raise _Malformed(f"{name} lacks {missing[0]!r}")
    return cls(**{n: _value(hints[n], raw[n], f"{where}{n}") for n in names})


def _value(hint: Any, raw: object, where: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        scalars = [a for a in args if a in _EXPECTED]
        if any(_is(a, raw) for a in scalars):
            return raw
        if float in scalars and _is(int, raw):
            return float(raw)  # type: ignore[arg-type]
        nested = [a for a in args if a not in _EXPECTED]
        if len(nested) == 1 and (raw is not None or type(None) not in args):
            return _value(nested[0], raw, where)
        raise _Malformed(f"{where} must be {' or '.join(_expected(a) for a in args)}, got {_json_type(raw)}")
    if is_dataclass(hint):
        return _record(hint, raw, f"{where}.")  # type: ignore[arg-type]
    if origin in (tuple, list):
        if not isinstance(raw, list):
            raise _Malformed(f"{where} must be a list, got {_json_type(raw)}")
        items = [_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(raw)]
        return tuple(items) if origin is tuple else items
    if origin is Mapping:
        if not isinstance(raw, dict):
            raise _Malformed(f"{where} must be an object, got {_json_type(raw)}")
        return {k: _value(args[1], v, f"{where}.{k}") for k, v in raw.items()}
    if _is(hint, raw):
        return raw
    if hint is float and _is(int, raw):
        return float(raw)  # type: ignore[arg-type]
    raise _Malformed(f"{where} must be {_expected(hint)}, got {_json_type(raw)}")


_EXPECTED = {float: "a number", int: "an integer", str: "a string", bool: "true or false", type(None): "null"}


def _expected(hint: Any) -> str:
    if hint in _EXPECTED:
        return _EXPECTED[hint]
    return "a list" if get_origin(hint) in (tuple, list) else "an object"


def _is(kind: Any, raw: object) -> bool:
    if kind is type(None):
        return raw is None
    if kind is bool:
        return isinstance(raw, bool)
    if kind is int:       # parse_result's data may come from a reader without the hooks of _load_json
        return isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**MAX_INT_DIGITS
    if kind is float:
        return isinstance(raw, float) and math.isfinite(raw)
    return kind is str and isinstance(raw, str)
