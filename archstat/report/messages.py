"""Every sentence archstat shows a reader, in each language it speaks: one catalogue, keyed by id.

English is the default. A message is a `str.format` template; `text(key, lang, **fields)` fills it.
Model and layer names, and the conventions' symbols (MACs, FLOPs, k, C_in, ...), are never
translated: they are passed in as fields. Use the seed notes' own terms in Korean, so that a
student recognises them: 수용 영역 (receptive field), 파라미터 (parameters), 연산량 (operations),
합성곱 (convolution), 풀링 (pooling), 채널 (channels), 필터 (filter), 계층 (layer), 출력 크기
(output size), 활성화 메모리 (activation memory).

The catalogue is one dict per language with one section per area; `tests/test_messages.py`
fails when an id exists in one language and not in the other, or when their fields differ.
"""

from __future__ import annotations

import string

from archstat.errors import UsageError

LANGS = ("en", "ko")
DEFAULT_LANG = "en"

EN: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs are multiply-accumulates; FLOPs count a multiply-add as 2",

    # -- figures ------------------------------------------------------------------------------------

    # -- report -------------------------------------------------------------------------------------

    # -- diagram ------------------------------------------------------------------------------------
    "diagram.title": "{model}: the architecture from its recorded forward",
    "diagram.title_block": "{model} · {block}: the architecture from its recorded forward",
    "diagram.input": "input",
    "diagram.output": "output",
    "diagram.concat": "concat",
    "diagram.params": "{value} params",
    "diagram.macs": "{value} MACs",
    "diagram.rf": "RF {value}",
    "diagram.hint": "Scroll to zoom, drag to pan, point at a box for its numbers.",
    "diagram.reset": "reset view",
    "diagram.hover_path": "layer",
    "diagram.hover_type": "type",
    "diagram.hover_shape": "output shape",
    "diagram.hover_params": "parameters",
    "diagram.hover_macs": "MACs",
    "diagram.hover_flops": "FLOPs",
    "diagram.hover_rf": "receptive field",
    "diagram.hover_repeat": "×N",
    "diagram.report_heading": "Architecture",
    "diagram.report_note": ("Drawn from the same recorded forward as the table: boxes are layers or blocks with "
                            "their output shape, ×N marks N identical blocks in a row, the red path is the "
                            "residual shortcut (dashed: a projection)."),
    "diagram.col_layer": "Layer",
    "diagram.col_box": "Box",
    "diagram.col_shape": "Output shape",
    "diagram.col_params": "Params",
    "diagram.col_macs": "MACs",
    "diagram.col_repeat": "×N",
    "diagram.vgg_title": "VGG configurations A–E (Table 1), generated from the zoo",
    "diagram.alexnet_gpu": "GPU {n}",
    "diagram.alexnet_title": "AlexNet: the two-GPU columns (groups=2 convs stay on their GPU)",
    "diagram.vgg_header": "{layers} weight layers · {params} M",
    "diagram.vgg_note": ("conv⟨kernel⟩-⟨maps⟩ as in the paper, each followed by ReLU; AdaptiveAvgPool 7×7 is "
                         "torchvision's, an identity on a 224×224 input (the paper has none)"),
    "diagram.dense_title": ("A dense block: {layers} layers, each adding k = {k} maps ({first} → {last}), "
                            "and its transition"),

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------

}

KO: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs는 곱셈-누산 횟수, FLOPs는 곱셈-덧셈 하나를 2로 센다",

    # -- figures ------------------------------------------------------------------------------------

    # -- report -------------------------------------------------------------------------------------

    # -- diagram ------------------------------------------------------------------------------------
    "diagram.title": "{model}: 기록된 순전파에서 그린 구조",
    "diagram.title_block": "{model} · {block}: 기록된 순전파에서 그린 구조",
    "diagram.input": "입력",
    "diagram.output": "출력",
    "diagram.concat": "채널 연결",
    "diagram.params": "파라미터 {value}",
    "diagram.macs": "연산량 {value} MACs",
    "diagram.rf": "수용 영역 {value}",
    "diagram.hint": "스크롤로 확대, 끌어서 이동, 상자에 마우스를 올리면 수치가 보인다.",
    "diagram.reset": "처음 보기",
    "diagram.hover_path": "계층",
    "diagram.hover_type": "종류",
    "diagram.hover_shape": "출력 크기",
    "diagram.hover_params": "파라미터",
    "diagram.hover_macs": "연산량 (MACs)",
    "diagram.hover_flops": "FLOPs",
    "diagram.hover_rf": "수용 영역",
    "diagram.hover_repeat": "×N",
    "diagram.report_heading": "구조",
    "diagram.report_note": ("표와 같은 기록된 순전파에서 그렸다: 상자는 계층이나 블록과 그 출력 크기, "
                            "×N은 같은 블록 N개의 반복, 빨간 경로는 잔차 지름길(점선: 사영)."),
    "diagram.col_layer": "계층",
    "diagram.col_box": "상자",
    "diagram.col_shape": "출력 크기",
    "diagram.col_params": "파라미터",
    "diagram.col_macs": "연산량 (MACs)",
    "diagram.col_repeat": "×N",
    "diagram.vgg_title": "VGG 구성 A–E (표 1), 모델 모음에서 생성",
    "diagram.alexnet_gpu": "GPU {n}",
    "diagram.alexnet_title": "AlexNet: 두 GPU 열 (groups=2 합성곱은 자기 GPU에 머문다)",
    "diagram.vgg_header": "가중치 계층 {layers}개 · {params} M",
    "diagram.vgg_note": ("conv⟨커널⟩-⟨맵 수⟩는 논문 표기, 각 합성곱 뒤에 ReLU; AdaptiveAvgPool 7×7은 "
                         "torchvision의 것으로 224×224 입력에서는 항등 (논문에는 없음)"),
    "diagram.dense_title": ("밀집 블록: 계층 {layers}개가 각각 k = {k}개의 맵을 더한다 ({first} → {last}), "
                            "그리고 전이 계층"),

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------

}

CATALOGUE: dict[str, dict[str, str]] = {"en": EN, "ko": KO}


def check_lang(lang: str) -> str:
    """`lang` itself when archstat speaks it; otherwise a one-line error naming the choices."""
    if lang not in CATALOGUE:
        raise UsageError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def text(key: str, lang: str = DEFAULT_LANG, /, **fields: object) -> str:
    """The message `key` in `lang`, with `fields` filled in."""
    return CATALOGUE[check_lang(lang)][key].format(**fields)


def fields_of(template: str) -> frozenset[str]:
    """The names a template fills, e.g. {"model", "macs"}."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
