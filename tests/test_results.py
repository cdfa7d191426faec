"""The one latency schema: the committed results read and render everywhere, and every malformed
file is one line naming the option, through all three commands that read it.

`latency --from`, `report --latency` and `compare --latency` share one reader
(`archstat.measure.results`); each malformed case goes through each of them via `main`, in the
table and CSV formats where a command has them, and must end with exit code 2 and one stderr line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archstat.cli.main import main
from archstat.errors import UsageError
from archstat.measure.results import SCHEMA_VERSION, parse_result, read_result
from archstat.report.latency import render_latency

MEASURED = Path(__file__).resolve().parent.parent / "reports" / "measurements"
COMMITTED = sorted(MEASURED.glob("cpu_*.json"))


def _v2(name: str = "vgg16") -> dict[str, Any]:
    return read_result(MEASURED / f"cpu_{name}.json").to_dict()


def _v1(name: str = "vgg16") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MEASURED / f"cpu_{name}.json").read_text(encoding="utf-8"))
    return data


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


# (file content, what the one line must say besides the option and the path)
CASES: dict[str, tuple[Callable[[], str], str]] = {
    "wrong-type": (lambda: json.dumps(_set(_v2(), ("batches", 0, "whole", "median_ms"), "fast")),
                   "batches[0].whole.median_ms must be a number, got str"),
    "wrong-type-v1": (lambda: json.dumps(_set(_v1(), ("result", "batches", 0, "batch"), "8")),
                      "result.batches[0].batch must be an integer, got str"),
    "bool-for-int": (lambda: json.dumps(_set(_v2(), ("batches", 0, "batch"), True)),
                     "batches[0].batch must be an integer, got true/false"),
    "layer-type": (lambda: json.dumps(_set(_v2(), ("batches", 0, "per_layer", "layers", 3, "flops"), [1])),
                   "batches[0].per_layer.layers[3].flops must be an integer or null, got list"),
    "record-type": (lambda: json.dumps(_set(_v2(), ("batches", 0, "memory"), 12)),
                    "batches[0].memory must be an object, got int"),
    "empty-batches": (lambda: json.dumps(_set(_v2(), ("batches",), [])), "batches is empty"),
    "zero-batch": (lambda: json.dumps(_set(_v2(), ("batches", 0, "batch"), 0)),
                   "batches[0].batch must be a positive integer"),
    "missing-key": (lambda: json.dumps(_without(_v2(), "dtype")), "the file lacks 'dtype'"),
    "unknown-key": (lambda: json.dumps({**_v2(), "models": {}}), "unknown key 'models'"),
    "deep-nesting": (lambda: "[" * 100_000, "nested too deeply"),
    "deep-nesting-inside": (lambda: json.dumps(_v2())[:-1] + ', "x": ' + "[" * 100_000,
                            "nested too deeply"),
    "huge-float": (lambda: json.dumps(_v2()).replace('"peak_flops": null', '"peak_flops": 1e400'),
                   "out of range"),
    "huge-int": (lambda: json.dumps(_v2()).replace('"repeat": 10', '"repeat": ' + "9" * 5000),
                 "an integer of 5000 digits"),
    "nan": (lambda: json.dumps(_v2()).replace('"peak_flops": null', '"peak_flops": NaN'), "NaN is not a number"),
    "not-json": (lambda: "{not json", "not JSON"),
    "not-utf8": (lambda: "\udcff", "not UTF-8"),
    "not-an-object": (lambda: "[1, 2]", "expected a JSON object"),
    "wrong-version": (lambda: json.dumps({**_v2(), "schema_version": 3}), "schema_version 3"),
    "no-version": (lambda: json.dumps(_without(_v2(), "schema_version")), "schema_version None"),
    "v1-without-result": (lambda: json.dumps(_without(_v1(), "result")), "result must be an object, got null"),
}

# every command that reads a latency file, with the option it reads it through
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "latency-table": lambda f, out: ["latency", "--from", str(f)],
    "latency-csv": lambda f, out: ["latency", "--from", str(f), "--format", "csv"],
    "report": lambda f, out: ["report", "vgg16", "--latency", str(f), "-o", str(out / "r.html")],
    "compare-table": lambda f, out: ["compare", "vgg16", "--latency", str(f)],
    "compare-csv": lambda f, out: ["compare", "vgg16", "--latency", str(f), "--format", "csv"],
}


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_malformed_file_is_one_line_naming_the_option(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      case: str, command: str) -> None:
    make, fragment = CASES[case]
    bad = tmp_path / "bad.json"
    _write(bad, make())
    out = tmp_path / "out"
    out.mkdir()
    args = COMMANDS[command](bad, out)
    option = "--from" if "--from" in args else "--latency"
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"archstat: error: {option} {bad}: "), lines[0]
    assert fragment in lines[0]
    assert list(out.iterdir()) == []                       # nothing written


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    capsys.readouterr()
    assert main(COMMANDS[command](tmp_path / "none.json", tmp_path)) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "none.json: no such file" in line


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list) and value and isinstance(value[0], dict | list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _where(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def test_every_field_is_type_checked() -> None:
    """Each value of a real result, given a value of the wrong JSON type, is refused by its path."""
    data = _v2("vgg16")
    checked = 0
    for path, value in _leaves(data):
        if path == ("schema_version",) or path[0] == "environment":
            continue
        wrong: object = {"x": 1} if isinstance(value, list) else [[]]     # no field takes either
        with pytest.raises(UsageError) as error:
            parse_result(_set(data, path, wrong), "--latency f.json")
        message = str(error.value)
        assert message.startswith("--latency f.json: ") and _where(path) in message, message
        checked += 1
    assert checked > 500


# ------------------------------------------------------------------------ the committed results

@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_version_1_files_read_as_they_are(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1
    result = read_result(path)
    assert result.model == raw["model"] and result.reported.per_layer is not None
    assert result.reported.whole.median_ms == raw["models"][raw["model"]]["ms"]      # numbers kept as measured
    assert [(t.path, t.call, t.median_ms) for t in result.reported.per_layer.leaves()] == [
        (layer["path"], layer["call"], layer["ms"]) for layer in raw["layers"]]
    again = json.loads(render_latency(result, "json"))
    assert again["schema_version"] == SCHEMA_VERSION == 2
    assert parse_result(again) == result                   # version 2 round trip keeps every figure


def test_saved_json_is_the_schema_the_reader_reads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`latency --from OLD -o NEW.json` migrates a file; NEW renders as OLD did."""
    old, new = MEASURED / "cpu_resnet50.json", tmp_path / "resnet50.json"
    assert main(["latency", "--from", str(old), "-o", str(new)]) == 0
    assert json.loads(new.read_text())["schema_version"] == 2
    capsys.readouterr()
    assert main(["latency", "--from", str(old), "--format", "markdown"]) == 0
    before = capsys.readouterr().out
    assert main(["latency", "--from", str(new), "--format", "markdown"]) == 0
    assert capsys.readouterr().out == before and "Leaf layers at batch 8" in before


def test_report_shows_a_committed_measurement(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "resnet50", "--latency", str(MEASURED / "cpu_resnet50.json"), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Measured latency per layer" in text and "Roofline" in text and "not measured" not in text
    assert "batch 8" in text


def test_report_roofline_points_are_the_measured_ones() -> None:
    import archstat
    from archstat.report.html import match_latency, roofline_figure

    result = read_result(MEASURED / "cpu_resnet50.json")
    ((_, (matched, timings)),) = match_latency([result], [archstat.analyze("resnet50")]).items()
    figure = roofline_figure(matched, timings)
    assert figure is not None
    points = [t for t in result.reported.per_layer.leaves() if t.on_roofline]  # type: ignore[union-attr]
    assert list(figure.data[0].x) == [t.intensity for t in points]
    assert list(figure.data[0].y) == [t.flops_per_s for t in points]


def test_several_models_one_file_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["compare", "vgg16", "resnet50", "--format", "csv"]
    for name in ("vgg16", "resnet50"):
        args += ["--latency", str(MEASURED / f"cpu_{name}.json")]
    capsys.readouterr()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "212.883888" in text and "521.932877" in text
    out = tmp_path / "r.html"
    assert main(["report", "vgg16", "resnet50", "--latency", str(MEASURED / "cpu_vgg16.json"),
                 "--latency", str(MEASURED / "cpu_resnet50.json"), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("Measured latency per layer") == 2


def test_a_result_per_model_at_most(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    vgg16 = str(MEASURED / "cpu_vgg16.json")
    capsys.readouterr()
    assert main(["report", "vgg16", "--latency", vgg16, "--latency", vgg16, "-o", str(tmp_path / "r.html")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--latency" in line and "two latency results for 'vgg16'" in line


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**5000], ids=["inf", "nan", "5000-digits"])
def test_parsed_data_with_huge_numbers(value: float) -> None:
    """Data parsed elsewhere (without the reader's number hooks) is held to the same limits."""
    with pytest.raises(UsageError, match=r"^data: peak_flops must be a number or null"):
        parse_result({**_v2(), "peak_flops": value}, "data")
    with pytest.raises(UsageError, match=r"^data: schema_version \(too long\) is not one"):
        parse_result({**_v2(), "schema_version": 10**5000}, "data")


def test_library_names_no_flag(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("[]")
    with pytest.raises(UsageError, match=r"^latency file .*bad.json: expected a JSON object") as error:
        read_result(path)
    assert "--" not in str(error.value)
