"""archstat against every peer, interleaved: thop, ptflops (both backends), torchinfo, fvcore,
torchscan and FlopCounterMode on a real CPU forward, plus a bare meta forward.

`archstat` is `archstat.analyze(model, inputs=x)` as a caller gets it: the one recorded forward.
`archstat_saved` adds `saved_for_backward=True` (a second, train-mode forward, as `archstat summary`
runs it); it is reported beside the targets (its cost over the default, and the peers' lead over
it), not part of them.

    python benchmarks/bench_peers.py [--quick] [--runs 3] [--models a,b] [-o benchmarks/results/peers.json]

Needs the `bench` extra (pip install archstat[bench]). A measurement, not a test: it prints
PASS/FAIL per target and always exits 0. See benchmarks/README.md for the method.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import io
import json
import logging
import random
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from machine import RESULTS, describe, finish, machine_info
from torch import nn

import archstat
from archstat.models import model_info

DEFAULT_OUTPUT = RESULTS / "peers.json"
MODELS = ("efficientnet_b0", "convnext_tiny", "densenet121", "resnet50", "resnet152", "vgg16", "vit_b_16",
          "bert_base")
BATCHES = (1, 32)
PEERS = ("thop", "ptflops_pytorch", "ptflops_aten", "torchinfo", "fvcore", "torchscan", "flop_counter")
TOOLS = ("archstat", "archstat_saved", "bare_meta", *PEERS)
MIN_LEAD = 1.5        # every peer at least 1.5x slower than archstat, in every run
MAX_OVER_BARE = 1.2   # the aim: archstat within 1.2x a bare meta forward
PACKAGES = ("torch", "thop", "ptflops", "torchinfo", "fvcore", "torchscan", "transformers")
SEQ = 128
SETTLE_S = 0.05       # a pause before each timed call: the last real forward's worker threads go idle


@dataclass
class Subject:
    """A model and its example inputs at one batch: positional `args` or keyword `kwargs`, on the cpu."""

    name: str
    model: nn.Module
    meta_model: nn.Module          # a meta copy for the bare meta forward, made once, outside the timing
    args: tuple[torch.Tensor, ...]
    kwargs: dict[str, torch.Tensor]

    def meta_inputs(self) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        def meta(t: torch.Tensor) -> torch.Tensor:
            return torch.empty(t.shape, dtype=t.dtype, device="meta")

        return tuple(meta(t) for t in self.args), {k: meta(v) for k, v in self.kwargs.items()}

    @property
    def first(self) -> torch.Tensor:
        return self.args[0] if self.args else next(iter(self.kwargs.values()))


def build(name: str) -> nn.Module:
    """archstat's own zoo definition, or for BERT-base transformers' BertModel from a default BertConfig."""
    if name == "bert_base":
        from transformers import BertConfig, BertModel

        return BertModel(BertConfig()).eval()
    return archstat.get_model(name).eval()


def subject(name: str, model: nn.Module, meta_model: nn.Module, batch: int) -> Subject:
    if name == "bert_base":
        return Subject(name, model, meta_model, (), {"input_ids": torch.zeros(batch, SEQ, dtype=torch.long)})
    shape = model_info(name).input_size
    generator = torch.Generator().manual_seed(0)
    return Subject(name, model, meta_model, (torch.randn(batch, *shape, generator=generator),), {})


# --- one call of each tool: returns what the tool counted (MACs or FLOPs, as the tool names them) ----------


def run_archstat(s: Subject) -> int:
    inputs: Any = s.args[0] if s.args else s.kwargs
    return archstat.analyze(s.model, inputs=inputs).totals.macs


def run_archstat_saved(s: Subject) -> int:
    """The analysis with the saved-for-backward bytes too (a second, train-mode forward), as
    `archstat summary` runs it: reported beside the default, not part of the targets."""
    inputs: Any = s.args[0] if s.args else s.kwargs
    return archstat.analyze(s.model, inputs=inputs, saved_for_backward=True).totals.macs


def run_bare_meta(s: Subject) -> None:
    args, kwargs = s.meta_inputs()
    with torch.no_grad():
        s.meta_model(*args, **kwargs)


def run_thop(s: Subject) -> int:
    import thop

    # thop takes positional inputs only; BertModel's first parameter is input_ids.
    macs, _ = thop.profile(s.model, inputs=s.args or tuple(s.kwargs.values()), verbose=False)
    return int(macs)


def _ptflops(s: Subject, backend: str) -> int:
    from ptflops import get_model_complexity_info

    def constructor(_: Any) -> Any:
        return dict(s.kwargs) if s.kwargs else s.args[0]

    macs, _ = get_model_complexity_info(s.model, tuple(s.first.shape[1:]), input_constructor=constructor,
                                        as_strings=False, print_per_layer_stat=False, verbose=False,
                                        backend=backend)
    if macs is None:
        raise RuntimeError("ptflops returned no count")
    return int(macs)


def run_ptflops_pytorch(s: Subject) -> int:
    return _ptflops(s, "pytorch")


def run_ptflops_aten(s: Subject) -> int:
    return _ptflops(s, "aten")


def run_torchinfo(s: Subject) -> int:
    import torchinfo

    data: Any = dict(s.kwargs) if s.kwargs else list(s.args)
    return int(torchinfo.summary(s.model, input_data=data, verbose=0).total_mult_adds)


def run_fvcore(s: Subject) -> int:
    from fvcore.nn import FlopCountAnalysis

    if s.kwargs:
        inputs: tuple[Any, ...] = tuple(s.kwargs.values())   # BertModel's first parameter is input_ids
    else:
        inputs = s.args
    analysis = FlopCountAnalysis(s.model, inputs).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(analysis.total())


def run_torchscan(s: Subject) -> None:
    import torchscan

    torchscan.crawl_module(s.model, args=s.args or None, kwargs=s.kwargs or None)


def run_flop_counter(s: Subject) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        s.model(*s.args, **s.kwargs)
    return int(counter.get_total_flops())


RUNNERS: dict[str, Callable[[Subject], int | None]] = {
    "archstat": run_archstat, "archstat_saved": run_archstat_saved, "bare_meta": run_bare_meta, "thop": run_thop,
    "ptflops_pytorch": run_ptflops_pytorch, "ptflops_aten": run_ptflops_aten, "torchinfo": run_torchinfo,
    "fvcore": run_fvcore, "torchscan": run_torchscan, "flop_counter": run_flop_counter,
}


@contextlib.contextmanager
def quiet() -> Any:
    """The peers' prints, warnings and log lines silenced."""
    sink = io.StringIO()
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def timed(tool: str, s: Subject) -> tuple[float, int | None]:
    """One call of `tool` on a fresh copy of the model, made outside the timing: several peers leave
    things on the model they were given (thop two buffers on every module, ptflops' aten backend
    forward hooks), which every later call on the same object would walk and run."""
    fresh = replace(s, model=copy.deepcopy(s.model))
    gc.collect()
    time.sleep(SETTLE_S)
    with quiet():
        start = time.perf_counter()
        count = RUNNERS[tool](fresh)
        return time.perf_counter() - start, count


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"failed: {type(exc).__name__}: {text[:160]}"


def bench_cell(s: Subject, tools: Sequence[str], rounds: int, seed: int) -> dict[str, Any]:
    """Every tool on one model at one batch: a warm-up each, then `rounds` rounds in shuffled order."""
    cell: dict[str, Any] = {}
    live: list[str] = []
    for tool in tools:
        try:
            _, count = timed(tool, s)
        except Exception as exc:   # a peer that cannot handle the model is a result, not a crash
            cell[tool] = {"failed": one_line(exc)}
            continue
        cell[tool] = {"samples_s": [], "count": count}
        live.append(tool)
    if "archstat" not in live:
        return cell
    order = list(live)
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for tool in order:
            if "failed" in cell[tool]:
                continue
            try:
                seconds, _ = timed(tool, s)
            except Exception as exc:
                cell[tool] = {"failed": one_line(exc)}
                continue
            cell[tool]["samples_s"].append(seconds)
    base = cell["archstat"]["samples_s"]
    saved = cell.get("archstat_saved", {}).get("samples_s")
    for tool in live:
        entry = cell[tool]
        if "failed" in entry:
            continue
        entry["median_s"] = statistics.median(entry["samples_s"])
        if tool != "archstat":
            # Paired by round: each ratio compares two calls that saw the same machine noise.
            ratios = [t / a for t, a in zip(entry["samples_s"], base, strict=True)]
            entry["ratio_per_round"] = ratios
            entry["ratio_median"] = statistics.median(ratios)
        if tool in PEERS and saved and len(saved) == len(entry["samples_s"]):
            entry["ratio_vs_saved_median"] = statistics.median(
                t / a for t, a in zip(entry["samples_s"], saved, strict=True))
    return cell


def one_run(models: Sequence[str], batches: Sequence[int], rounds: dict[int, int], seed: int) -> dict[str, Any]:
    run: dict[str, Any] = {}
    for name in models:
        try:
            model = build(name)
        except Exception as exc:
            run[name] = {"skipped": one_line(exc)}
            print(f"{name}: {run[name]['skipped']}", flush=True)
            continue
        meta_model = copy.deepcopy(model).to("meta")
        run[name] = {}
        for batch in batches:
            s = subject(name, model, meta_model, batch)
            run[name][str(batch)] = bench_cell(s, TOOLS, rounds[batch], seed)
            print(f"{name} batch {batch}: " + ", ".join(
                f"{tool} {entry['median_s']:.3f}s" if "median_s" in entry else f"{tool} {entry['failed'][:40]}"
                for tool, entry in run[name][str(batch)].items()), flush=True)
    return run


def summarise(runs: Sequence[dict[str, Any]], models: Sequence[str], batches: Sequence[int]) -> dict[str, Any]:
    """Per model, batch and peer: the median ratio of each run, the lowest of them, and PASS/FAIL."""
    table: dict[str, Any] = {}
    for name in models:
        for batch in batches:
            key = f"{name} batch {batch}"
            cells = [r[name][str(batch)] for r in runs if str(batch) in r.get(name, {})]
            if not cells:
                continue
            row: dict[str, Any] = {"archstat_median_s": [c["archstat"].get("median_s") for c in cells]}
            for tool in TOOLS[1:]:
                entries = [c.get(tool, {}) for c in cells]
                failed = next((e["failed"] for e in entries if "failed" in e), None)
                if failed is not None:
                    row[tool] = {"failed": failed}
                    continue
                ratios = [e["ratio_median"] for e in entries]
                if tool == "archstat_saved":
                    row[tool] = {"over_archstat": ratios}
                    continue
                if tool == "bare_meta":
                    over = [1 / r for r in ratios]   # archstat / bare
                    row[tool] = {"archstat_over_bare": over, "within_aim": max(over) <= MAX_OVER_BARE}
                else:
                    row[tool] = {"ratio_medians": ratios, "lowest": min(ratios), "pass": min(ratios) >= MIN_LEAD}
                    vs_saved = [e["ratio_vs_saved_median"] for e in entries if "ratio_vs_saved_median" in e]
                    if len(vs_saved) == len(entries):
                        row[tool]["lowest_vs_saved"] = min(vs_saved)
            table[key] = row
    return table


def print_table(summary: dict[str, Any], batch: int) -> None:
    print(f"\nbatch {batch}: peer time / archstat time (median of paired per-round ratios; lowest over runs)")
    header = ["model", "archstat s", "archstat/bare", *PEERS, "+saved/archstat", "lead with +saved"]
    print(" | ".join(header))
    for key, row in summary.items():
        if not key.endswith(f"batch {batch}"):
            continue
        cells = [key.rsplit(" batch", 1)[0], f"{statistics.median(v for v in row['archstat_median_s'] if v):.3f}"]
        bare = row.get("bare_meta", {})
        cells.append(f"{max(bare['archstat_over_bare']):.2f}x" if "archstat_over_bare" in bare else "failed")
        for tool in PEERS:
            entry = row.get(tool, {})
            cells.append(f"{entry['lowest']:.1f}x" if "lowest" in entry else "failed")
        over = row.get("archstat_saved", {}).get("over_archstat")
        cells.append(f"{statistics.median(over):.2f}x" if over else "failed")
        leads = [row[tool]["lowest_vs_saved"] for tool in PEERS if "lowest_vs_saved" in row.get(tool, {})]
        cells.append(f"{min(leads):.1f}x" if leads else "-")
        print(" | ".join(cells))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds at batch 1, 1 at batch 32, one run")
    parser.add_argument("--runs", type=int, default=None, help="whole runs (default 3, 1 with --quick)")
    parser.add_argument("--models", type=lambda v: tuple(v.split(",")), default=MODELS)
    parser.add_argument("--batches", type=lambda v: tuple(int(b) for b in v.split(",")), default=BATCHES)
    parser.add_argument("--rounds", type=int, default=None,
                        help="timed rounds per cell at every batch (default 7 at batch 1, 3 at batch 32)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    rounds = {1: 2, 32: 1} if args.quick else {1: 7, 32: 3}
    rounds = {b: rounds.get(b, rounds[32]) for b in args.batches}
    if args.rounds:
        rounds = {b: args.rounds for b in args.batches}
    n_runs = args.runs or (1 if args.quick else 3)
    info = machine_info(PACKAGES)
    runs = []
    for r in range(n_runs):
        print(f"run {r + 1} of {n_runs}", flush=True)
        runs.append(one_run(args.models, args.batches, rounds, seed=r))
    summary = summarise(runs, args.models, args.batches)
    result = {"models": args.models, "batches": args.batches, "rounds": rounds, "runs": runs,
              "summary": summary, "targets": {"min_lead": MIN_LEAD, "max_over_bare": MAX_OVER_BARE},
              "machine": finish(info)}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    for batch in args.batches:
        print_table(summary, batch)
    misses = [f"{key}: {tool} {entry['lowest']:.2f}x" for key, row in summary.items() for tool, entry in row.items()
              if isinstance(entry, dict) and entry.get("pass") is False]
    print(f"\n{'PASS' if not misses else 'FAIL'}: every peer at least {MIN_LEAD}x slower in every run"
          + ("" if not misses else "; missed: " + "; ".join(misses)))
    print(describe(result["machine"]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
