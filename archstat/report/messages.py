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

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------
    "sweep.title": "{model}: cost and memory against {axis}",
    "sweep.axis.size": "input size",
    "sweep.axis.batch": "batch",
    "sweep.axis.seq": "sequence length",
    "sweep.axis.option": "{name}",
    "sweep.unit.size": "input size (px, one side)",
    "sweep.unit.batch": "batch (inputs per forward)",
    "sweep.unit.seq": "sequence length (tokens)",
    "sweep.unit.option": "{name}",
    "sweep.header.size": "Size",
    "sweep.header.batch": "Batch",
    "sweep.header.seq": "Seq",
    "sweep.header.option": "{name}",
    "sweep.figure.params": "parameters",
    "sweep.figure.macs": "MACs",
    "sweep.figure.flops": "FLOPs",
    "sweep.figure.activation_bytes": "layer outputs",
    "sweep.figure.peak_activation_bytes": "peak live, inference",
    "sweep.figure.training_activation_bytes": "saved for backward",
    "sweep.figure.param_bytes": "weights",
    "sweep.law": "{figure} ∝ {x}^{exponent}",
    "sweep.law_break": "{figure} ∝ {x}^{exponent}, ^{beyond} beyond {at}",
    "sweep.law_constant": "{figure} constant",
    "sweep.panel.counts": "parameters and operations",
    "sweep.panel.memory": "memory",
    "sweep.yaxis.counts": "count (MACs, FLOPs, parameters)",
    "sweep.yaxis.memory": "bytes",
    "sweep.mark.paper_input": "paper's input {value}",
    "sweep.mark.default": "default {value}",
    "sweep.mark.rf_until": "final field covers the input up to {value}",
    "sweep.mark.rf_from": "final field covers the input from {value}",
    "sweep.subtitle": "{inputs} · {dtype} · counted on meta · {convention}",
    "sweep.points_title": "archstat sweep · {model} · {count} points of {axis}",
    "sweep.fits_title": "Power laws: figure ≈ prefactor · {x}^exponent",
    "sweep.col.input": "Input",
    "sweep.col.params": "Params",
    "sweep.col.macs": "MACs",
    "sweep.col.flops": "FLOPs",
    "sweep.col.outputs": "Outputs",
    "sweep.col.peak": "Peak",
    "sweep.col.backward": "Backward",
    "sweep.col.weights": "Weights",
    "sweep.col.rf": "RF px",
    "sweep.col.coverage": "RF/input",
    "sweep.col.law": "Law",
    "sweep.col.exponent": "Exponent",
    "sweep.col.prefactor": "Prefactor",
    "sweep.col.r2": "r²",
    "sweep.col.break": "Breakpoint",
    "sweep.note.convention": "Convention",
    "sweep.note.memory": "Memory",
    "sweep.note.memory_text": ("Outputs = every layer's output · Peak = peak live tensors in an inference forward "
                               "(input included) · Backward = saved for backward in training · Weights = "
                               "parameters; all at {dtype}"),
    "sweep.note.rf": "RF",
    "sweep.note.rf_text": ("final receptive field, px per axis; RF/input = the field over the input, the smaller "
                           "axis (1.00 or more: it spans the input)"),
    "sweep.note.fit": "Fit",
    "sweep.note.fit_text": ("least squares on log figure against log {x}; r² on the log; a breakpoint splits the "
                            "points in two power laws when one leaves r² below 0.9999"),
    "sweep.note.no_fit": "no power law: {name} takes values that are not positive numbers",
    "sweep.note.marks": "Marks",
    "sweep.note.partial": "PARTIAL",
    "sweep.note.partial_text": "at {values} some ops have no formula; their totals leave them out",
    "sweep.none": "none",
    "sweep.lecture.title": "Cost and memory against input size: both grow with the pixels, the weights do not",
    "sweep.lecture.subtitle": ("batch 1, float32; activation memory = every layer's output; exponent = log-log "
                               "slope; ★ = the largest size the final receptive field still covers"),
    "sweep.lecture.macs": "GMACs per image",
    "sweep.lecture.memory": "activation memory (MiB)",
    "sweep.lecture.legend": "{display}: ∝ size^{exponent}",

}

KO: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs는 곱셈-누산 횟수, FLOPs는 곱셈-덧셈 하나를 2로 센다",

    # -- figures ------------------------------------------------------------------------------------

    # -- report -------------------------------------------------------------------------------------

    # -- diagram ------------------------------------------------------------------------------------

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------
    "sweep.title": "{model}: {axis}에 따른 연산량과 메모리",
    "sweep.axis.size": "입력 크기",
    "sweep.axis.batch": "배치",
    "sweep.axis.seq": "시퀀스 길이",
    "sweep.axis.option": "{name}",
    "sweep.unit.size": "입력 크기 (px, 한 변)",
    "sweep.unit.batch": "배치 (한 번의 순전파 입력 수)",
    "sweep.unit.seq": "시퀀스 길이 (토큰)",
    "sweep.unit.option": "{name}",
    "sweep.header.size": "크기",
    "sweep.header.batch": "배치",
    "sweep.header.seq": "시퀀스",
    "sweep.header.option": "{name}",
    "sweep.figure.params": "파라미터",
    "sweep.figure.macs": "MACs",
    "sweep.figure.flops": "FLOPs",
    "sweep.figure.activation_bytes": "계층 출력",
    "sweep.figure.peak_activation_bytes": "추론 최대 활성화 메모리",
    "sweep.figure.training_activation_bytes": "역전파용 저장",
    "sweep.figure.param_bytes": "가중치",
    "sweep.law": "{figure} ∝ {x}^{exponent}",
    "sweep.law_break": "{figure} ∝ {x}^{exponent}, {at} 이후 ^{beyond}",
    "sweep.law_constant": "{figure} 일정",
    "sweep.panel.counts": "파라미터와 연산량",
    "sweep.panel.memory": "메모리",
    "sweep.yaxis.counts": "개수 (MACs, FLOPs, 파라미터)",
    "sweep.yaxis.memory": "바이트",
    "sweep.mark.paper_input": "논문의 입력 크기 {value}",
    "sweep.mark.default": "기본값 {value}",
    "sweep.mark.rf_until": "최종 수용 영역이 {value}까지 입력 전체를 덮음",
    "sweep.mark.rf_from": "최종 수용 영역이 {value}부터 입력 전체를 덮음",
    "sweep.subtitle": "{inputs} · {dtype} · meta에서 계산 · {convention}",
    "sweep.points_title": "archstat sweep · {model} · {axis} {count}개 지점",
    "sweep.fits_title": "거듭제곱 법칙: 값 ≈ 계수 · {x}^지수",
    "sweep.col.input": "입력",
    "sweep.col.params": "파라미터",
    "sweep.col.macs": "MACs",
    "sweep.col.flops": "FLOPs",
    "sweep.col.outputs": "출력",
    "sweep.col.peak": "최대",
    "sweep.col.backward": "역전파",
    "sweep.col.weights": "가중치",
    "sweep.col.rf": "수용 영역 px",
    "sweep.col.coverage": "수용 영역/입력",
    "sweep.col.law": "법칙",
    "sweep.col.exponent": "지수",
    "sweep.col.prefactor": "계수",
    "sweep.col.r2": "r²",
    "sweep.col.break": "꺾이는 점",
    "sweep.note.convention": "규약",
    "sweep.note.memory": "메모리",
    "sweep.note.memory_text": ("출력 = 모든 계층 출력의 합 · 최대 = 추론 순전파에서 동시에 살아 있는 "
                               "텐서의 최대 (입력 포함) · 역전파 = 학습 시 역전파용으로 저장되는 텐서 · "
                               "가중치 = 파라미터; 모두 {dtype}"),
    "sweep.note.rf": "수용 영역",
    "sweep.note.rf_text": ("최종 수용 영역, 축마다 px; 수용 영역/입력 = 입력 대비 수용 영역의 비, 작은 축 기준 "
                           "(1.00 이상: 입력 전체를 덮음)"),
    "sweep.note.fit": "맞춤",
    "sweep.note.fit_text": ("log {x}에 대한 log 값의 최소제곱; r²는 log 기준; 하나의 법칙으로 r²가 0.9999 미만이면 "
                            "꺾이는 점에서 두 법칙으로 나눔"),
    "sweep.note.no_fit": "거듭제곱 법칙 없음: {name}의 값이 양수가 아님",
    "sweep.note.marks": "표시",
    "sweep.note.partial": "PARTIAL",
    "sweep.note.partial_text": "{values}에서 공식이 없는 연산이 있어 합계에서 빠짐",
    "sweep.none": "없음",
    "sweep.lecture.title": "입력 크기에 따른 연산량과 활성화 메모리: 둘 다 픽셀 수에 비례하고 파라미터는 그대로",
    "sweep.lecture.subtitle": ("배치 1, float32; 활성화 메모리 = 모든 계층 출력; 지수 = log-log 기울기; "
                               "★ = 최종 수용 영역이 아직 입력 전체를 덮는 가장 큰 크기"),
    "sweep.lecture.macs": "이미지당 GMACs",
    "sweep.lecture.memory": "활성화 메모리 (MiB)",
    "sweep.lecture.legend": "{display}: ∝ 크기^{exponent}",

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
