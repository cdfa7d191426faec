"""`hf:ID_OR_DIR`: a Hugging Face transformers model built from its config alone.

The config comes from a local directory or the local Hugging Face cache (never the network);
the model is built from it on the analysis device, so on meta a 7-billion-parameter config
allocates nothing. `transformers` is an optional extra (`archstat[hf]`), imported here only.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from archstat.analysis.inputs import Call, InputSpec
from archstat.errors import ArchstatError, UsageError, one_line

PREFIX = "hf:"
DEFAULT_SEQ = 128    # tokens of a text model's default input


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise UsageError("hf: models need the transformers package: pip install archstat[hf]") from None
    return transformers


def load_config(source: str, overrides: Mapping[str, Any]) -> Any:
    """The config of `source` (a directory or a model id in the local cache) with `overrides`
    applied; an unknown key or a config that cannot be found is a one-line error."""
    transformers = _transformers()
    try:
        config, unused = transformers.AutoConfig.from_pretrained(
            source, local_files_only=True, return_unused_kwargs=True, **dict(overrides))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot read the config of hf:{source} (a directory with config.json, or a model "
                         f"id in the local Hugging Face cache): {one_line(exc)}") from None
    if unused:
        raise UsageError(f"hf:{source}: {type(config).__name__} has no field {', '.join(sorted(unused))}")
    return config


def build(config: Any, device: str) -> nn.Module:
    """The model the config names (its first `architectures` entry), else the bare `AutoModel`,
    built on `device` without loading any weights."""
    transformers = _transformers()
    named = [getattr(transformers, a, None) for a in (getattr(config, "architectures", None) or ())]
    model_class = next((c for c in named if inspect.isclass(c) and issubclass(c, nn.Module)), None)
    try:
        with torch.device(device):
            if model_class is not None:
                return model_class(config)
            return transformers.AutoModel.from_config(config)
    except (ValueError, TypeError, AttributeError, RuntimeError) as exc:
        raise ArchstatError(f"cannot build {type(config).__name__}: {type(exc).__name__}: {one_line(exc)}") \
            from None


def _image_size(config: Any) -> tuple[int, int]:
    size = getattr(config, "image_size", 224)
    if isinstance(size, (tuple, list)):
        return int(size[0]), int(size[1])
    return int(size), int(size)


def default_inputs(model: nn.Module, config: Any, seq: int) -> Call | None:
    """The inputs the model declares: its main input at batch 1 (`seq` tokens, or an image of
    the config's size), and decoder ids for an encoder-decoder. None where its main input is of
    another kind (give --input).

    No attention mask: transformers treats a missing mask as all ones and skips it, exactly as
    it skips an all-ones mask after reading its values (`mask.all()`), which the meta device
    cannot. A mask given with --input therefore needs --device cpu, and counts the same.
    """
    accepted = inspect.signature(model.forward).parameters
    main = getattr(model, "main_input_name", "input_ids")
    kwargs: dict[str, InputSpec] = {}
    if main == "input_ids":
        kwargs[main] = InputSpec((1, seq), torch.int64, main)
        if "decoder_input_ids" in accepted and getattr(config, "is_encoder_decoder", False):
            kwargs["decoder_input_ids"] = InputSpec((1, seq), torch.int64, "decoder_input_ids")
    elif main == "pixel_values":
        channels = int(getattr(config, "num_channels", 3))
        kwargs[main] = InputSpec((1, channels, *_image_size(config)), name=main)
    else:
        return None
    return Call((), kwargs)
