"""Every output format, fed hostile names: LaTeX escapes all its specials, Markdown keeps `|` in its
cell, CSV round-trips and carries the totals, the partial flag and the unsupported ops, JSON parses;
every command's LaTeX is a tabular, and every `--format` offers exactly the writers' formats."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from archstat.cli.main import COMMANDS, main
from archstat.report.writers import FORMATS, latex_escape

REPO = Path(__file__).resolve().parent.parent
# Every LaTeX special, a Markdown cell separator, rich markup, and a LaTeX command that must stay dead.
LAYER = "a\\input{b}_%&#$^~{}|[red]x"
CLASS = "Evil\\input{x}_%&#$^~{}[bold]|"
LAYER_TEX = r"a\textbackslash{}input\{b\}\_\%\&\#\$\textasciicircum{}\textasciitilde{}\{\}|[red]x"
CLASS_TEX = r"Evil\textbackslash{}input\{x\}\_\%\&\#\$\textasciicircum{}\textasciitilde{}\{\}[bold]|"

EVIL_MODEL = f'''
import torch
from torch import nn

LAYER = {LAYER!r}
Evil = type({CLASS!r}, (nn.Module,), {{"forward": lambda self, x: torch.special.i0(torch.tanh(x))}})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.add_module(LAYER, Evil())

    def forward(self, x):
        return getattr(self, LAYER)(self.conv(x))
'''


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """`archstat ARGS...` in-process; its stdout, after checking that it succeeded."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.fixture(scope="module")
def evil_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("evil") / "evil_model.py"
    path.write_text(EVIL_MODEL, encoding="utf-8")
    return f"{path}:Net"


@pytest.fixture
def summary(capsys: pytest.CaptureFixture[str], evil_model: str) -> Callable[[str], str]:
    return lambda fmt: run(capsys, "summary", evil_model, "--input", "1x3x8x8", "--format", fmt)


def unescaped(text: str, char: str) -> list[int]:
    """Positions of `char` not preceded by a backslash."""
    return [m.start() for m in re.finditer(rf"(?<!\\){re.escape(char)}", text)]


def assert_latex_document(text: str) -> None:
    """A booktabs tabular, plain ASCII (every sign written as LaTeX), braces balanced, no live \\input."""
    assert text.count("\\begin{tabular}") == text.count("\\end{tabular}") >= 1
    assert not [line for line in text.splitlines() if line.startswith("|")], "a Markdown table in LaTeX"
    assert text.isascii(), sorted({c for c in text if not c.isascii()})
    assert "\\input" not in text
    depth = 0
    for char in re.sub(r"\\[{}]", "", text.replace("\\textbackslash{}", "")):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "a { is never closed"


def check_table(text: str, analysis: dict[str, Any]) -> None:
    assert LAYER in text and CLASS in text, "the names, markup included, shown verbatim"
    assert "PARTIAL" in text and "i0 ×1" in text


def check_markdown(text: str, analysis: dict[str, Any]) -> None:
    row = next(line for line in text.splitlines() if line.startswith("| `a"))
    assert row.startswith("| `" + LAYER.replace("|", "\\|") + "` | " + CLASS.replace("|", "\\|") + " |")
    header = next(line for line in text.splitlines() if line.startswith("| Layer"))
    assert len(unescaped(row, "|")) == len(unescaped(header, "|")) == 9, "every cell stays in its column"
    assert "- **PARTIAL**: no formula for i0 ×1" in text


def check_latex(text: str, analysis: dict[str, Any]) -> None:
    assert_latex_document(text)
    assert f"\\texttt{{{LAYER_TEX}}} & {CLASS_TEX} & " in text
    assert "\\textbf{PARTIAL}: no formula for i0 $\\times$1" in text


def check_csv(text: str, analysis: dict[str, Any]) -> None:
    layers, facts = text.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(layers)))
    assert [(r["path"], r["type"]) for r in rows] == [(r["path"], r["type"]) for r in analysis["layers"][1:]]
    assert rows[-1]["path"] == LAYER and rows[-1]["type"] == CLASS
    values = dict(csv.reader(io.StringIO(facts)))
    totals = analysis["totals"]
    assert values["key"] == "value"
    for name in ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes", "param_bytes"):
        assert values[f"total_{name}"] == str(totals[name]), name
    assert values["partial"] == "True" and values["unsupported:i0"] == "1"
    notes = [value for key, value in csv.reader(io.StringIO(facts)) if key == "note"]
    assert "PARTIAL: no formula for i0 ×1: totals leave them out" in notes


def check_json(text: str, analysis: dict[str, Any]) -> None:
    data = json.loads(text)
    assert data["layers"][-1]["path"] == LAYER and data["layers"][-1]["type"] == CLASS
    assert data["totals"]["partial"] is True and data["unsupported_ops"] == {"i0": 1}


CHECKS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "table": check_table, "markdown": check_markdown, "latex": check_latex, "csv": check_csv, "json": check_json,
}


def test_every_format_has_a_check() -> None:
    assert set(CHECKS) == set(FORMATS)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_hostile_names_through_every_format(summary: Callable[[str], str], fmt: str) -> None:
    analysis = json.loads(summary("json"))
    CHECKS[fmt](summary(fmt), analysis)


def test_latex_escape_writes_every_special_and_sign_as_latex() -> None:
    assert latex_escape("\\ { } $ & # ^ _ ~ %") == (
        r"\textbackslash{} \{ \} \$ \& \# \textasciicircum{} \_ \textasciitilde{} \%"
    )
    assert latex_escape("−×·†≥≤→÷µ²³") == (
        r"$-$$\times$$\cdot$\dag{}$\geq$$\leq$$\rightarrow$$\div$$\mu$$^2$$^3$"
    )
    assert latex_escape("\\textbf{x}") == r"\textbackslash{}textbf\{x\}"   # escaped once, never twice


@pytest.mark.parametrize("args", [
    ["summary", "lenet5"],
    ["summary", "lenet5_modern", "--check"],
    ["rf", "lenet5"],
    ["rf", "lenet5", "--verify"],
    ["rf", "--stack", "7x7s2,max3s2p1", "--vs", "3x3s2,3x3x2,max3s2p1", "--channels", "64", "--size", "56x56"],
    ["compare", "lenet5", "resnet18"],
    ["list", "vgg1*"],
    ["latency", "--from", str(REPO / "reports" / "measurements" / "cpu_resnet50.json")],
    ["sweep", "conv_stack", "--size", "28,56"],
], ids=lambda args: " ".join(args[:3]) if args[0] != "latency" else "latency --from")
def test_every_command_writes_latex_as_a_tabular(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    text = run(capsys, *args, "--format", "latex")
    assert_latex_document(text)
    if "--verify" in args or "--check" in args:
        assert text.count("\\begin{tabular}") == 2, "the second table is a tabular too"


def test_format_choices_are_the_writers_formats() -> None:
    with_choice = []
    for command in COMMANDS:
        for param in command.params:
            if "--format" in getattr(param, "opts", ()) and isinstance(param.type, click.Choice):
                assert list(param.type.choices) == list(FORMATS), command.name
                with_choice.append(command.name)
    # `figures --format` takes image formats; every other command with tables offers all of FORMATS
    assert sorted(with_choice) == ["compare", "erf", "explain", "latency", "list", "rf", "summary", "sweep"]
