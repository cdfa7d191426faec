"""Inputs as the user has them (issue 9): ids and masks, several inputs, keyword arguments, dicts
and dataclasses, literal shapes, data-dependent ops, factories that fail on meta, lazy and
TorchScript modules, `--inputs FILE.py:FN`, and the README's "Your own model" examples.

Parameters are checked against a hand count written here; MACs against FlopCounterMode/2 on a
real CPU run (it counts a multiply-add as 2 FLOPs) with the same inputs; meta against cpu.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import archstat
from archstat import Call, InputSpec
from archstat.analysis.inputs import as_call, materialize
from archstat.cli.main import main
from archstat.errors import ArchstatError, DataDependentError
from tests.fixtures import input_models as m

REPO = Path(__file__).resolve().parents[1]
MODELS = Path(m.__file__)
EXAMPLE = REPO / "examples" / "own_model.py"

# TinyLM(1000, 64, 256): embedding + 4 attention linears + two norms + feed-forward + head.
TINY_LM_PARAMS = 1000 * 64 + 4 * (64 * 64 + 64) + 2 * 2 * 64 + (64 * 256 + 256 + 256 * 64 + 64) + (64 * 1000 + 1000)


def _tiny_lm() -> nn.Module:
    import importlib.util

    spec = importlib.util.spec_from_file_location("own_model_for_tests", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TinyLM()


def flop_counter_macs(model: nn.Module, inputs: Any) -> int:
    """Multiply-accumulates FlopCounterMode sees on a real CPU forward of `inputs`."""
    call = materialize(as_call(inputs), torch.float32, torch.device("cpu"))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(*call.args, **call.kwargs)
    return counter.get_total_flops() // 2


def both(model: nn.Module, **kwargs: Any) -> archstat.Analysis:
    """The analysis on meta, after checking that the cpu one counts the same."""
    cpu = archstat.analyze(model, device="cpu", saved_for_backward=True, **kwargs)
    meta = archstat.analyze(model, device="meta", saved_for_backward=True, **kwargs)
    figures = ("params", "macs", "flops", "activation_bytes", "peak_activation_bytes",
               "training_activation_bytes", "input_bytes")
    assert [getattr(meta.totals, f) for f in figures] == [getattr(cpu.totals, f) for f in figures]
    assert [r.output_shapes for r in meta.layers] == [r.output_shapes for r in cpu.layers]
    return meta


def cli_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    """`archstat summary ... --format json`, which must succeed."""
    code = main(["summary", *map(str, args), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def cli_error(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """The one line a failing `archstat summary ...` prints."""
    code = main(["summary", *map(str, args)])
    out, err = capsys.readouterr()
    assert code != 0 and not out
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# -- token ids and a mask ------------------------------------------------------------------------

LM_INPUTS = Call((), {"input_ids": InputSpec((2, 24), torch.int64), "attention_mask": InputSpec((2, 24), torch.int64)})


def test_language_model_with_int64_ids_and_mask() -> None:
    model = _tiny_lm()
    a = both(model, inputs=LM_INPUTS)
    assert a.totals.params == TINY_LM_PARAMS == 178_984
    assert a.totals.macs == flop_counter_macs(model, LM_INPUTS)
    # closed form: 4 attention linears and the feed-forward per token, the two T x T products, the head
    tokens, dim, ffn, vocab, t = 48, 64, 256, 1000, 24
    assert a.totals.macs == tokens * (4 * dim * dim + 2 * dim * ffn + dim * vocab) + 2 * 2 * t * t * dim
    assert a.inputs == "input_ids=2x24 int64, attention_mask=2x24 int64"
    assert a.totals.input_bytes == 2 * 2 * 24 * 8
    assert not a.default_input


def test_language_model_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = (f"{EXAMPLE}:TinyLM", "--input", "input_ids=2x24:int64", "--input", "attention_mask=2x24:int64")
    meta = cli_json(capsys, *args)
    cpu = cli_json(capsys, *args, "--device", "cpu")
    assert meta["totals"] == cpu["totals"]
    assert meta["totals"]["params"] == TINY_LM_PARAMS
    assert meta["totals"]["macs"] == flop_counter_macs(_tiny_lm(), LM_INPUTS)
    assert meta["inputs"] == "input_ids=2x24 int64, attention_mask=2x24 int64"


def test_example_tensors_keep_shape_and_dtype() -> None:
    model = _tiny_lm()
    ids = torch.randint(0, 1000, (3, 7))
    a = archstat.analyze(model, inputs=(ids,), dtype="bfloat16")
    assert a.layers[1].output_shapes == ((3, 7, 64),) and a.totals.input_bytes == ids.numel() * 8
    assert a.totals.macs == flop_counter_macs(model, ids)
    assert a.totals.param_bytes == TINY_LM_PARAMS * 2


# -- several inputs, keyword arguments, dicts and dataclasses -----------------------------------------

def test_siamese_two_positional_inputs() -> None:
    model = m.Siamese()
    inputs = (torch.randn(3, 8), torch.randn(3, 8))
    a = both(model, inputs=inputs)
    assert a.totals.params == 8 * 4 + 4 == 36
    assert a.totals.macs == flop_counter_macs(model, inputs) == 2 * 3 * 8 * 4
    encoder = [r for r in a.layers if r.path == "encoder"]
    assert [r.call for r in encoder] == [0, 1]   # the shared encoder, called twice


def test_two_tower_keyword_inputs_and_plain_values() -> None:
    model = m.TwoTower()
    inputs = m.two_tower_inputs()
    a = both(model, inputs=inputs)
    assert a.totals.params == (8 * 6 + 6) + (10 * 6 + 6) == 120
    assert a.totals.macs == flop_counter_macs(model, inputs) == 3 * 8 * 6 + 5 * 10 * 6 + 3 * 5 * 6
    assert a.inputs == "query=3x8, item=5x10, temperature=0.5, normalise=True, note=None"


def test_a_plain_pair_is_two_positional_arguments() -> None:
    pair = (torch.zeros(1), {"k": torch.zeros(2)})
    assert as_call(pair) == Call(pair, {})
    assert as_call({"k": 1}) == Call((), {"k": 1})
    with pytest.raises(ArchstatError, match="input_shape or inputs, not both"):
        archstat.analyze(m.Siamese(), (1, 8), inputs=torch.zeros(1, 8))


def test_dict_in_dict_out() -> None:
    model = m.DictModel()
    batch = {"image": InputSpec((2, 3, 8, 8)), "meta": InputSpec((2, 5))}
    a = both(model, inputs=(batch,))
    assert a.totals.params == (3 * 4 * 9 + 4) + (5 * 4 + 4) + (4 * 2 + 2) == 146
    assert a.totals.macs == flop_counter_macs(model, (batch,)) == 2 * 4 * 6 * 6 * 27 + 2 * 5 * 4 + 2 * 4 * 2
    assert a.layers[0].output_shapes == ((2, 4), (2, 2))
    assert a.totals.input_bytes == (2 * 3 * 8 * 8 + 2 * 5) * 4


def test_dataclass_output_shapes_and_memory() -> None:
    model = m.DataclassModel()
    a = both(model, input_shape=(4, 6))
    assert a.totals.params == (6 * 16 + 16) + (16 * 3 + 3) == 163
    assert a.totals.macs == flop_counter_macs(model, InputSpec((4, 6))) == 4 * 6 * 16 + 4 * 16 * 3
    assert a.layers[0].output_shapes == ((4, 16), (4, 3), (4,))
    # held by the caller at the end: input, hidden, logits and the sum, all float32
    assert a.totals.peak_activation_bytes == (4 * 6 + 4 * 16 + 4 * 3 + 4) * 4


# -- literal shapes from the CLI ------------------------------------------------------------------

def test_three_dimensional_input_is_taken_literally(capsys: pytest.CaptureFixture[str]) -> None:
    conv = cli_json(capsys, f"{MODELS}:Conv1dNet", "--input", "1x16x100")
    assert conv["input_shape"] == [1, 16, 100]
    assert conv["totals"]["params"] == 16 * 32 * 5 + 32
    assert conv["totals"]["macs"] == 96 * 32 * 16 * 5
    lstm = cli_json(capsys, f"{MODELS}:Sequence1d", "--input", "2x16x20", "--device", "cpu")
    assert lstm["totals"]["params"] == (16 * 16 * 3 + 16) + 4 * 8 * (16 + 8 + 2) == 1_616
    assert lstm["layers"][-1]["output_shapes"] == [[2, 20, 8], [1, 2, 8], [1, 2, 8]]


def test_imported_model_without_input_says_default(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["summary", f"{REPO}/tests/fixtures/user_model.py:TinyNet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "default input 1x3x224x224; pass --input" in out.splitlines()[0]
    declared = archstat.registry.with_input_size(m.Conv1dNet(), 16, 50)
    assert archstat.analyze(declared).input_shape == (1, 16, 50)


def test_zoo_model_still_gains_a_batch(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_json(capsys, "lenet5", "--input", "1x32x32")["input_shape"] == [1, 1, 32, 32]


# -- devices: data-dependent ops ----------------------------------------------------------------

@pytest.mark.parametrize("model_class", [m.DataDependent, m.NonzeroModel])
def test_data_dependent_model_runs_on_cpu(model_class: Callable[[], nn.Module]) -> None:
    model = model_class()
    a = archstat.analyze(model, (5, 4), device="cpu", saved_for_backward=True)
    fc = model.fc
    assert a.totals.params == fc.in_features * fc.out_features + fc.out_features
    assert a.totals.macs == flop_counter_macs(model, InputSpec((5, 4))) == 5 * 4 * fc.out_features
    assert a.totals.training_activation_bytes > 0


def test_data_dependent_model_on_meta_names_op_layer_and_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DataDependentError, match=r"aten\.index at DataDependent .*device='cpu'"):
        archstat.analyze(m.DataDependent(), (5, 4), cpu_fallback_bytes=0)   # the automatic retry off
    err = cli_error(capsys, f"{MODELS}:NonzeroModel", "--input", "5x4", "--no-cpu-fallback")
    assert "aten.nonzero" in err and "--device cpu" in err and "device='cpu'" not in err
    cpu = cli_json(capsys, f"{MODELS}:NonzeroModel", "--input", "5x4", "--device", "cpu")
    assert cpu["totals"]["macs"] == 5 * 4 * 3


# -- models as they come -------------------------------------------------------------------------

def test_factory_failing_on_meta_is_built_on_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    a = cli_json(capsys, f"{MODELS}:copies_weights", "--input", "2x5")
    assert (a["totals"]["params"], a["totals"]["macs"]) == (5 * 3 + 3, 2 * 5 * 3)


def test_lazy_module_is_materialised_by_a_first_forward(capsys: pytest.CaptureFixture[str]) -> None:
    a = both(m.Lazy(), input_shape=(3, 5))
    assert a.totals.params == (5 * 7 + 7) + (7 * 2 + 2) == 58
    assert a.totals.macs == 3 * 5 * 7 + 3 * 7 * 2
    assert cli_json(capsys, f"{MODELS}:Lazy", "--input", "3x5")["totals"]["params"] == 58
    err = cli_error(capsys, f"{MODELS}:Lazy", "--input", "3x5x1x1x1x1x0x1")
    assert "every size must be a positive integer" in err


def test_lazy_module_that_cannot_run_says_how() -> None:
    with pytest.raises(ArchstatError, match=r"lazy parameters \(fc1.weight\).*run the model once"):
        archstat.analyze(m.Lazy(), inputs=Call((), {"y": InputSpec((3, 5))}))


def test_torchscript_module_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "TorchScript" in cli_error(capsys, f"{MODELS}:scripted", "--input", "1x3")


def test_inputs_function(capsys: pytest.CaptureFixture[str]) -> None:
    a = cli_json(capsys, f"{MODELS}:TwoTower", "--inputs", f"{MODELS}:two_tower_inputs")
    assert a["totals"]["params"] == 120
    assert a["totals"]["macs"] == 3 * 8 * 6 + 5 * 10 * 6 + 3 * 5 * 6
    err = cli_error(capsys, f"{MODELS}:TwoTower", "--inputs", f"{MODELS}:two_tower_inputs", "--input", "1x8")
    assert "--input or --inputs, not both" in err


@pytest.mark.parametrize(("text", "message"), [
    ("ids=1x4:int63", "unknown input dtype"), ("1 2=1x4", "NAME must be an argument name"),
    ("ids=1xa", "malformed --input"),
])
def test_malformed_input_is_one_line(capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    assert message in cli_error(capsys, f"{MODELS}:Siamese", "--input", text)


def test_integer_specs_hold_valid_ids_and_masks() -> None:
    call = materialize(Call((InputSpec((2, 3), torch.int64),),
                            {"attention_mask": InputSpec((2, 3), torch.int64), "keep": InputSpec((2,), torch.bool)}),
                       torch.float16, torch.device("cpu"))
    assert call.args[0].tolist() == [[0, 0, 0], [0, 0, 0]] and call.args[0].dtype == torch.int64
    assert call.kwargs["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 1]]
    assert call.kwargs["keep"].tolist() == [True, True]


# -- the README's "Your own model" examples ------------------------------------------------------

def readme_examples() -> list[tuple[list[str], str]]:
    """(arguments, printed text) of every `$ archstat ...` example in "Your own model"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own model", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", section, re.DOTALL)
    examples = []
    for block in blocks:
        command, _, output = block.partition("\n")
        assert command.startswith("$ archstat ")
        examples.append((shlex.split(command.removeprefix("$ archstat ")), output))
    return examples


def test_readme_examples_print_what_the_readme_shows(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "160")
    examples = [(args, shown) for args, shown in readme_examples() if not args[1].startswith("hf:")]
    assert len(examples) >= 3   # the hf: ones need transformers: tests/test_hf.py runs them
    for args, shown in examples:
        main(args)
        out, err = capsys.readouterr()
        printed = [line.rstrip() for line in (out + err).splitlines()]
        assert printed == [line.rstrip() for line in shown.splitlines()], args
