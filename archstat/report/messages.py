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
    "explain.heading": "{model} · {path} ({type}) · input {input} → output {output}",
    "explain.section.shape": "Output size",
    "explain.section.params": "Parameters",
    "explain.section.cost": "MACs and FLOPs",
    "explain.section.rf": "Receptive field",
    "explain.section.memory": "Memory",
    "explain.col.quantity": "Quantity",
    "explain.col.formula": "Formula",
    "explain.col.values": "With the values",
    "explain.col.result": "Result",
    "explain.col.layer": "Layer",
    "explain.col.type": "Type",
    "explain.col.output": "Output shape",
    "explain.col.params": "Params",
    "explain.col.macs": "MACs",
    "explain.col.flops": "FLOPs",
    "explain.col.activations": "Activations",
    "explain.col.variant": "Variant",
    "explain.col.conv": "Conv",
    "explain.col.tool": "Tool",
    "explain.col.figure": "Its figure",
    "explain.col.why": "Why they differ",
    "explain.label.output_size": "output size {axis}",
    "explain.label.output_same": "output shape {shape}, as its input",
    "explain.label.output_recorded": "output shape {shape} (recorded)",
    "explain.label.output_features": "output features",
    "explain.label.output_size_given": "output size {axis}, set by the layer",
    "explain.label.params": "parameters",
    "explain.label.no_params": "parameters: none",
    "explain.label.macs": "MACs ({category})",
    "explain.label.flops": "FLOPs ({category})",
    "explain.label.flops_total": "FLOPs, all categories",
    "explain.label.op": "recorded op {op} ({category})",
    "explain.label.no_ops": "no arithmetic recorded: free",
    "explain.label.rf_size": "field size {axis}",
    "explain.label.rf_size_from": "field size {axis} (r_in from {from})",
    "explain.label.rf_jump": "jump (effective stride) {axis}",
    "explain.label.rf_start": "start {axis}",
    "explain.label.rf_whole": "every output unit sees the whole input",
    "explain.label.rf_unknown": "not modelled: {reason}",
    "explain.label.rf_kept": "unchanged by this layer: size {size}, jump {jump}, start {start}",
    "explain.label.activation": "activation memory (its output)",
    "explain.label.activation_in_place": "activation memory: in place or a view, sharing its input's storage "
        "(not counted again)",
    "explain.label.activation_recorded": "activation memory (its new outputs, as recorded)",
    "explain.label.param_bytes": "parameter memory",
    "explain.label.shared": "shared parameters: counted once, at {first}",
    "explain.from_input": "the input",
    "explain.fallback": "no closed form shown for {type}; counted from the executed ops: {ops}",
    "explain.checked": "every result above equals the number archstat summary {model} shows for {path}",
    "explain.block.title": "{path}: the sum over its layers",
    "explain.block.own": "(its own ops: {ops})",
    "explain.block.total": "sum = {path}",
    "explain.block.checked": "the layers' sum equals the row archstat summary {model} shows for {path}",
    "explain.compare.title.inception": "What the 1×1 reductions buy: the naive module against the one with reductions",
    "explain.compare.title.bottleneck": "What the 1×1 convs buy: the residual path with 3×3 convs at full "
        "width against the bottleneck",
    "explain.compare.title.stack": "Stacked convs against one conv of the same receptive field",
    "explain.compare.convs": "Where the parameters are, conv by conv",
    "explain.compare.ratio": "{with_} keeps {params_pct} of the parameters and {macs_pct} of the MACs of {without}",
    "explain.compare.note.inception": "the naive module's pool branch passes every input map through, so it "
        "also outputs more maps",
    "explain.compare.note.bottleneck": "the residual path only: the shortcut is the same in both",
    "explain.compare.note.stack": "both see the same receptive field; the stack has one non-linearity per conv",
    "explain.variant.inception_naive": "naive (no 1×1 reductions)",
    "explain.variant.inception_reduced": "with 1×1 reductions",
    "explain.variant.full_width": "3×3 convs at full width",
    "explain.variant.bottleneck": "bottleneck (1×1, 3×3, 1×1)",
    "explain.variant.single_conv": "one conv of the same field",
    "explain.variant.stack": "the stack",
    "explain.tools.title": "Other tools on the same layer",
    "explain.figure.macs": "MACs",
    "explain.figure.flops": "FLOPs",
    "explain.figure.params": "parameters",
    "explain.tool.fvcore_macs": "fvcore counts one per multiply-accumulate of conv and linear: archstat's "
        "MACs (bias adds not counted)",
    "explain.tool.fvcore_bn": "fvcore counts batch norm in eval as 2 per element; archstat counts 4 FLOPs "
        "(normalise 2, scale and shift 2)",
    "explain.tool.fvcore_adaptive_pool": "fvcore counts an adaptive average pool as 1 per input element, as "
        "archstat does",
    "explain.tool.fvcore_none": "fvcore has no count for these ops ({ops}): activations, window pools, LRN "
        "and elementwise ops are 0 to it",
    "explain.tool.fvcore_other": "fvcore adds batch norm (2 per element) and adaptive average pools (1 per "
        "input element) to the MACs, and skips activations, window pools and elementwise ops",
    "explain.tool.flop_counter_2macs": "FlopCounterMode counts 2 per multiply-accumulate of conv and matmul "
        "only: archstat's FLOPs less {bias} bias adds and {rest} of norm, activation, pool and elementwise "
        "work",
    "explain.tool.flop_counter_bias": "FlopCounterMode counts 2 per multiply-accumulate: archstat's FLOPs less "
        "the {bias} bias adds",
    "explain.tool.flop_counter_none": "FlopCounterMode counts conv, matmul and attention only: nothing here",
    "explain.tool.flop_counter_other": "FlopCounterMode counts 2 per multiply-accumulate of conv, matmul and "
        "attention, and nothing else",
    "explain.tool.paper_same": "{source}: the same count (weights and biases)",
    "explain.tool.paper_differs": "{source}: counted another way",
    "explain.tool.not_run": "not run on this layer alone: {why}",

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
    "explain.heading": "{model} · {path} ({type}) · 입력 {input} → 출력 {output}",
    "explain.section.shape": "출력 크기",
    "explain.section.params": "파라미터",
    "explain.section.cost": "연산량 (MACs, FLOPs)",
    "explain.section.rf": "수용 영역",
    "explain.section.memory": "메모리",
    "explain.col.quantity": "항목",
    "explain.col.formula": "공식",
    "explain.col.values": "값 대입",
    "explain.col.result": "결과",
    "explain.col.layer": "계층",
    "explain.col.type": "종류",
    "explain.col.output": "출력 모양",
    "explain.col.params": "파라미터",
    "explain.col.macs": "MACs",
    "explain.col.flops": "FLOPs",
    "explain.col.activations": "활성화 메모리",
    "explain.col.variant": "구성",
    "explain.col.conv": "합성곱",
    "explain.col.tool": "도구",
    "explain.col.figure": "도구의 값",
    "explain.col.why": "차이의 이유",
    "explain.label.output_size": "출력 크기 {axis}",
    "explain.label.output_same": "출력 모양 {shape}, 입력과 같음",
    "explain.label.output_recorded": "출력 모양 {shape} (기록된 값)",
    "explain.label.output_features": "출력 특징 수",
    "explain.label.output_size_given": "출력 크기 {axis}, 계층이 정함",
    "explain.label.params": "파라미터",
    "explain.label.no_params": "파라미터: 없음",
    "explain.label.macs": "MACs ({category})",
    "explain.label.flops": "FLOPs ({category})",
    "explain.label.flops_total": "FLOPs, 모든 범주",
    "explain.label.op": "기록된 연산 {op} ({category})",
    "explain.label.no_ops": "기록된 산술 연산 없음: 비용 0",
    "explain.label.rf_size": "수용 영역 크기 {axis}",
    "explain.label.rf_size_from": "수용 영역 크기 {axis} (r_in: {from})",
    "explain.label.rf_jump": "점프 (유효 스트라이드) {axis}",
    "explain.label.rf_start": "시작 위치 {axis}",
    "explain.label.rf_whole": "모든 출력 유닛이 입력 전체를 본다",
    "explain.label.rf_unknown": "모델링하지 않음: {reason}",
    "explain.label.rf_kept": "이 계층에서 변하지 않음: 크기 {size}, 점프 {jump}, 시작 {start}",
    "explain.label.activation": "활성화 메모리 (출력)",
    "explain.label.activation_in_place": "활성화 메모리: in-place 또는 view, 입력의 저장 공간을 공유 (다시 세지 않음)",
    "explain.label.activation_recorded": "활성화 메모리 (기록된 새 출력)",
    "explain.label.param_bytes": "파라미터 메모리",
    "explain.label.shared": "공유 파라미터: {first}에서 한 번만 셈",
    "explain.from_input": "입력",
    "explain.fallback": "{type}의 닫힌 식은 보이지 않음; 실행된 연산에서 셈: {ops}",
    "explain.checked": "위의 모든 결과는 archstat summary {model}가 {path}에 보이는 값과 같다",
    "explain.block.title": "{path}: 계층별 합",
    "explain.block.own": "(블록 자신의 연산: {ops})",
    "explain.block.total": "합 = {path}",
    "explain.block.checked": "계층별 합은 archstat summary {model}의 {path} 행과 같다",
    "explain.compare.title.inception": "1×1 축소가 주는 것: naive 모듈 대 1×1 축소를 넣은 모듈",
    "explain.compare.title.bottleneck": "1×1 합성곱이 주는 것: 전체 폭 3×3 합성곱 경로 대 병목 구조",
    "explain.compare.title.stack": "쌓은 합성곱 대 같은 수용 영역의 합성곱 하나",
    "explain.compare.convs": "파라미터가 있는 곳, 합성곱별",
    "explain.compare.ratio": "{with_}는 {without}의 파라미터 {params_pct}, MACs {macs_pct}만 쓴다",
    "explain.compare.note.inception": "naive 모듈의 풀링 가지는 입력 채널을 모두 그대로 내보내므로 출력 채널도 더 많다",
    "explain.compare.note.bottleneck": "잔차 경로만 비교: 지름길(shortcut)은 둘이 같다",
    "explain.compare.note.stack": "둘 다 같은 수용 영역을 본다; 쌓은 쪽은 합성곱마다 비선형 함수가 하나씩 있다",
    "explain.variant.inception_naive": "naive (1×1 축소 없음)",
    "explain.variant.inception_reduced": "1×1 축소 포함",
    "explain.variant.full_width": "전체 폭 3×3 합성곱",
    "explain.variant.bottleneck": "병목 구조 (1×1, 3×3, 1×1)",
    "explain.variant.single_conv": "같은 수용 영역의 합성곱 하나",
    "explain.variant.stack": "쌓은 합성곱",
    "explain.tools.title": "같은 계층에 대한 다른 도구",
    "explain.figure.macs": "MACs",
    "explain.figure.flops": "FLOPs",
    "explain.figure.params": "파라미터",
    "explain.tool.fvcore_macs": "fvcore는 합성곱과 선형 계층의 곱셈-누산을 하나씩 센다: archstat의 MACs (편향 "
        "덧셈은 세지 않음)",
    "explain.tool.fvcore_bn": "fvcore는 eval 배치 정규화를 원소당 2로 센다; archstat는 4 FLOPs (정규화 2, "
        "스케일과 이동 2)",
    "explain.tool.fvcore_adaptive_pool": "fvcore는 adaptive 평균 풀링을 입력 원소당 1로 센다, archstat와 같다",
    "explain.tool.fvcore_none": "fvcore는 이 연산들({ops})을 세지 않는다: 활성화, 윈도 풀링, LRN, 원소별 연산은 0",
    "explain.tool.fvcore_other": "fvcore는 MACs에 배치 정규화(원소당 2)와 adaptive 평균 풀링(입력 원소당 1)을 "
        "더하고, 활성화, 윈도 풀링, 원소별 "
        "연산은 세지 않는다",
    "explain.tool.flop_counter_2macs": "FlopCounterMode는 합성곱과 행렬곱의 곱셈-누산만 2로 센다: archstat "
        "FLOPs에서 편향 덧셈 "
        "{bias}와 정규화, 활성화, 풀링, 원소별 연산 {rest}를 뺀 값",
    "explain.tool.flop_counter_bias": "FlopCounterMode는 곱셈-누산을 2로 센다: "
        "archstat FLOPs에서 편향 덧셈 {bias}를 뺀 값",
    "explain.tool.flop_counter_none": "FlopCounterMode는 합성곱, 행렬곱, 어텐션만 센다: 여기에는 없음",
    "explain.tool.flop_counter_other": "FlopCounterMode는 합성곱, 행렬곱, 어텐션의 곱셈-누산을 2로 세고 나머지는 "
        "세지 않는다",
    "explain.tool.paper_same": "{source}: 같은 값 (가중치와 편향)",
    "explain.tool.paper_differs": "{source}: 다른 방식으로 셈",
    "explain.tool.not_run": "이 계층만으로는 실행하지 못함: {why}",

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
