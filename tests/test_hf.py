"""`hf:DIR` models: Hugging Face configs written by each test (nothing is downloaded), built on
meta and on the cpu, counted against a real cpu build and FlopCounterMode.

FlopCounterMode counts the projections (mm, addmm, convolution); it counts the attention
products only where the cpu kernel decomposes into bmm, and has no formula for the fused cpu
SDPA kernel (`_scaled_dot_product_flash_attention_for_cpu`). So every test takes its non-bmm
ops and adds the attention products by the closed form written here, 2 · s_q · s_kv · inner per
attention block (QKᵀ and AV, each s_q · s_kv · inner MACs); where it did count bmm, that count
must equal the closed form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from archstat.analysis.analyze import analyze
from archstat.analysis.inputs import materialize
from archstat.analysis.loading import load_model
from archstat.cli.main import main
from archstat.errors import UsageError
from tests.test_inputs import REPO, readme_examples

transformers = pytest.importorskip("transformers")

SEQ = 128


def attention(blocks: int, s_q: int, s_kv: int, inner: int) -> int:
    """MACs of QKᵀ and AV in `blocks` attention blocks (all heads: heads x head_dim = inner)."""
    return blocks * 2 * s_q * s_kv * inner


@dataclass(frozen=True)
class Case:
    config: Callable[[], Any]
    reduced: dict[str, Any]        # -O overrides that keep the test fast
    attention_macs: int            # closed form at the reduced size and SEQ tokens


VIT_TOKENS = (224 // 16) ** 2 + 1   # 196 patches and the class token

CASES = {
    "bert": Case(lambda: transformers.BertConfig(), {"num_hidden_layers": 2}, attention(2, SEQ, SEQ, 768)),
    "gpt2": Case(lambda: transformers.GPT2Config(), {"n_layer": 2}, attention(2, SEQ, SEQ, 768)),
    "vit": Case(lambda: transformers.ViTConfig(), {"num_hidden_layers": 2},
                attention(2, VIT_TOKENS, VIT_TOKENS, 768)),
    # encoder self, decoder self and decoder cross attention, 2 layers each; inner = 8 heads x 64
    "t5": Case(lambda: transformers.T5Config(), {"num_layers": 2, "num_decoder_layers": 2},
               attention(6, SEQ, SEQ, 512)),
    # grouped-query attention: 8 query heads share 2 key/value heads; the products use all 8 x 32
    "llama": Case(lambda: transformers.LlamaConfig(hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                                                   num_attention_heads=8, num_key_value_heads=2,
                                                   vocab_size=1000),
                  {"num_hidden_layers": 2}, attention(2, SEQ, SEQ, 256)),
}


def config_dir(tmp_path: Path, name: str) -> str:
    CASES[name].config().save_pretrained(tmp_path / name)
    return str(tmp_path / name)


def flop_counter(module: torch.nn.Module, call: Any) -> dict[str, int]:
    mode = FlopCounterMode(display=False)
    with mode, torch.no_grad():
        module(*call.args, **call.kwargs)
    return {op.__name__: int(n) for op, n in mode.get_flop_counts()["Global"].items()}


@pytest.mark.parametrize("name", list(CASES))
def test_meta_equals_cpu_and_flop_counter(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    spec = f"hf:{config_dir(tmp_path, name)}"
    meta = analyze(spec, options=case.reduced, receptive_fields=False)
    real = load_model(spec, device="cpu", options=case.reduced)
    assert real.inputs is not None
    cpu = analyze(real.module, inputs=real.inputs, device="cpu", receptive_fields=False)
    assert (meta.totals.macs, meta.totals.flops) == (cpu.totals.macs, cpu.totals.flops)
    assert not meta.totals.partial and not cpu.totals.partial, dict(meta.unsupported)
    assert meta.totals.params == cpu.totals.params == sum(p.numel() for p in real.module.parameters())

    counted = flop_counter(real.module, materialize(real.inputs, torch.float32, torch.device("cpu")))
    bmm = counted.pop("bmm", 0) + counted.pop("baddbmm", 0)
    assert bmm in (0, 2 * case.attention_macs)
    assert meta.totals.macs == sum(counted.values()) // 2 + case.attention_macs


@pytest.mark.parametrize(("name", "params"), [
    ("bert", 109_482_240),   # BertModel with its pooler: the published BERT-base figure
    ("gpt2", 124_439_808),   # GPT2Model; GPT2LMHeadModel ties its head to wte, so the same count
    ("vit", 86_389_248),     # ViTModel with its pooler (the paper's "86M" ViT-B/16, without a head)
    ("t5", 60_506_624),      # T5Model, the input and output embeddings shared (the paper's "60M" T5-small)
])
def test_full_size_parameters(tmp_path: Path, name: str, params: int) -> None:
    spec = f"hf:{config_dir(tmp_path, name)}"
    assert analyze(spec, receptive_fields=False).totals.params == params
    assert sum(p.numel() for p in load_model(spec, device="cpu").module.parameters()) == params


def test_gpt2_small_with_its_lm_head_counts_the_tied_head_once(tmp_path: Path) -> None:
    config = transformers.GPT2Config(architectures=["GPT2LMHeadModel"])
    config.save_pretrained(tmp_path)
    loaded = load_model(f"hf:{tmp_path}")
    assert type(loaded.module).__name__ == "GPT2LMHeadModel"
    assert analyze(loaded.module, inputs=loaded.inputs, receptive_fields=False).totals.params == 124_439_808


def test_default_inputs_follow_the_model(tmp_path: Path) -> None:
    t5 = load_model(f"hf:{config_dir(tmp_path, 't5')}", seq=16)
    assert t5.inputs is not None
    assert {k: (v.shape, v.dtype) for k, v in t5.inputs.kwargs.items()} == {
        "input_ids": ((1, 16), torch.int64), "decoder_input_ids": ((1, 16), torch.int64)}
    vit = load_model(f"hf:{config_dir(tmp_path, 'vit')}", options={"image_size": 96})
    assert vit.inputs is not None
    assert [(v.shape, v.dtype) for v in vit.inputs.kwargs.values()] == [((1, 3, 96, 96), torch.float32)]


def test_a_7b_config_allocates_no_weights(tmp_path: Path) -> None:
    transformers.LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                             num_attention_heads=32, vocab_size=32000).save_pretrained(tmp_path)
    loaded = load_model(f"hf:{tmp_path}")
    assert all(p.is_meta for p in loaded.module.parameters())
    # LlamaModel (no head): embedding + 32 x (4 x 4096² attention, 3 x 4096 x 11008 MLP, 2 norms) + final norm
    per_layer = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096
    assert sum(p.numel() for p in loaded.module.parameters()) == 32000 * 4096 + 32 * per_layer + 4096


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no field no_such_field"):
        load_model(f"hf:{config_dir(tmp_path, 'bert')}", options={"no_such_field": 1})
    with pytest.raises(UsageError, match="cannot read the config"):
        load_model(f"hf:{tmp_path / 'missing'}")
    with pytest.raises(UsageError, match="hf: models only"):
        load_model("lenet5", seq=16)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = f"hf:{config_dir(tmp_path, 'bert')}"
    code, out, _ = run_cli(capsys, "summary", spec, "-O", "num_hidden_layers=2", "--seq", "256", "--format", "json")
    assert code == 0
    data = json.loads(out)
    cpu = load_model(spec, device="cpu", options={"num_hidden_layers": 2}, seq=256)
    expected = analyze(cpu.module, inputs=cpu.inputs, device="cpu", receptive_fields=False)
    assert data["totals"]["macs"] == expected.totals.macs
    assert data["inputs"] == "input_ids=1x256 int64"
    code, _, err = run_cli(capsys, "summary", spec, "-O", "nonsense=3")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nonsense" in err
    code, _, err = run_cli(capsys, "summary", "lenet5", "--seq", "8")
    assert code == 2 and "hf: models only" in err


def test_readme_hf_examples_print_what_the_readme_shows(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "160")
    examples = [(args, shown) for args, shown in readme_examples() if args[1].startswith("hf:")]
    assert examples
    for args, shown in examples:
        code, out, err = run_cli(capsys, *args)
        assert code == 0
        printed = [line.rstrip() for line in (out + err).splitlines()]
        assert printed == [line.rstrip() for line in shown.splitlines()], args


def test_readme_tiny_llama_parameters_by_hand() -> None:
    """The README's example, counted by hand: embedding and head 1000 x 256; per layer q and o
    256 x 256, k and v 256 x 64 (2 key/value heads of 32), the MLP 3 x 256 x 688, two norms."""
    loaded = load_model(f"hf:{REPO / 'examples' / 'tiny_llama'}", seq=64)
    per_layer = 2 * 256 * 256 + 2 * 256 * 64 + 3 * 256 * 688 + 2 * 256
    params = 2 * 1000 * 256 + 2 * per_layer + 256
    analysis = analyze(loaded.module, inputs=loaded.inputs, receptive_fields=False)
    assert analysis.totals.params == params == 1_897_728
    # every token through every weight matrix once, plus QKᵀ and AV over all 8 heads x 32
    assert analysis.totals.macs == 64 * (params - 1000 * 256 - 5 * 256) + attention(2, 64, 64, 256)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fvcore calls torch.jit.script
def test_check_explains_the_attention_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Neither fvcore (no handle for scaled_dot_product_attention) nor FlopCounterMode (no formula
    for the cpu fused kernel, where the kernel is used) counts QKᵀ and AV: --check says the gap is
    exactly those products, and exits 0. Run by hand at full size (12 layers): 301,989,888 MACs."""
    spec = f"hf:{config_dir(tmp_path, 'bert')}"
    code, out, err = run_cli(capsys, "summary", spec, "-O", "num_hidden_layers=2", "--check", "--format", "json")
    assert code == 0, err
    check = json.loads(out)["check"]
    linear = next(r for r in check["categories"] if r["category"] == "linear")
    products = CASES["bert"].attention_macs
    assert linear["verdict"] == "agree" and check["ok"]
    assert linear["fvcore_uncounted_macs"] == products
    assert linear["fvcore"] == linear["archstat_macs"] - products
    assert linear["flop_counter_uncounted_macs"] in (0, products)
    assert linear["flop_counter_mode"] == 2 * (linear["archstat_macs"] - linear["flop_counter_uncounted_macs"])
    assert "its gap is exactly the attention products" in linear["explanation"]


def test_transformers_is_imported_only_for_hf_models() -> None:
    code = ("import sys, archstat, archstat.cli.main, archstat.analysis.loading, archstat.studies.check; "
            "print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert out.strip() == "False"


def test_without_transformers_one_line_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    spec = f"hf:{config_dir(tmp_path, 'bert')}"
    monkeypatch.setitem(sys.modules, "transformers", None)   # `import transformers` raises ImportError
    code, _, err = run_cli(capsys, "summary", spec)
    assert code == 2 and err.strip() == "archstat: error: hf: models need the transformers package: " \
        "pip install archstat[hf]"


def test_a_model_built_in_user_code_declares_its_inputs(tmp_path: Path) -> None:
    """A Hugging Face model imported from the user's file gets its own main input, as hf: does."""
    directory = config_dir(tmp_path, "bert")
    source = tmp_path / "user_bert.py"
    source.write_text(
        "from transformers import AutoConfig, AutoModel\n"
        f"def make():\n    return AutoModel.from_config(AutoConfig.from_pretrained({directory!r}))\n"
    )
    imported = load_model(f"{source}:make", device="cpu")
    assert imported.inputs is not None and imported.input_shape == (1, 128)
    from_config = load_model(f"hf:{directory}")
    assert from_config.inputs is not None
    mine = analyze(imported.module, inputs=imported.inputs)
    theirs = analyze(from_config.module, inputs=from_config.inputs)
    assert (mine.totals.params, mine.totals.macs, mine.totals.flops) == (
        theirs.totals.params, theirs.totals.macs, theirs.totals.flops)
