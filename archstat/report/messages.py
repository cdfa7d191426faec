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

from archstat.analysis.ops.costs import CONVENTIONS
from archstat.errors import UsageError

LANGS = ("en", "ko")
DEFAULT_LANG = "en"

EN: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs are multiply-accumulates; FLOPs count a multiply-add as 2",

    # -- figures ------------------------------------------------------------------------------------
    "figures.vs": "{a} vs {b}",
    "figures.spec.stack": "{n} × {kh}×{kw}",
    "figures.spec.single": "one {kh}×{kw}",
    "figures.yes": "yes",
    "figures.log_scale": "{axis} (log scale)",
    "figures.col.field_px": "field (px)",
    "figures.col.stack": "stack",
    "figures.col.single": "single",
    "figures.col.stack_weights": "stack weights",
    "figures.col.single_weights": "single weights",
    "figures.col.stack_macs": "stack MACs",
    "figures.col.single_macs": "single MACs",
    "figures.col.change": "change",
    "figures.col.nonlinearities": "non-linearities",
    "figures.col.block": "block",
    "figures.col.setting": "setting",
    "figures.col.params_without": "params without",
    "figures.col.params_with": "params with",
    "figures.col.params_factor": "params ÷",
    "figures.col.macs_without": "MACs without",
    "figures.col.macs_with": "MACs with",
    "figures.col.macs_factor": "MACs ÷",
    "figures.col.layer": "layer",
    "figures.col.output": "output",
    "figures.col.activations_mib": "activations (MiB)",
    "figures.col.cum_activations": "cum. activations",
    "figures.col.params": "params",
    "figures.col.cum_params": "cum. params",
    "figures.col.model": "model",
    "figures.col.type": "type",
    "figures.col.rf_px": "RF (px)",
    "figures.col.jump": "jump",
    "figures.col.gmacs_so_far": "GMACs so far",
    "figures.col.covers_input": "covers input",
    "figures.col.family": "family",
    "figures.col.year": "year",
    "figures.col.input": "input",
    "figures.col.inference_params": "inference params",
    "figures.col.gmacs": "GMACs",
    "figures.col.network_or_block": "network or block",
    "figures.col.head": "head",
    "figures.col.layers": "layers",
    "figures.col.head_input": "head input",
    "figures.col.head_params": "head params",
    "figures.col.head_macs": "head MACs",
    "figures.col.model_params": "params (inference)",
    "figures.col.head_share": "head share",
    "figures.col.network": "network",
    "figures.col.depth": "depth",
    "figures.col.trf_px": "TRF (px)",
    "figures.col.erf_std_px": "ERF std (px)",
    "figures.col.r95_px": "r95 (px)",
    "figures.col.ratio_95": "ERF/TRF 95%",
    "figures.stacked.title": "Stacked 3×3 convs: the same receptive field for fewer weights and MACs",
    "figures.stacked.panel": "{stack} vs {single}: {field}×{field} field",
    "figures.stacked.legend_stack": "stacked 3×3 convs",
    "figures.stacked.legend_single": "one conv of the same field",
    "figures.stacked.subtitle": "weights: {stack5} = {stack5_c2}·C² vs {single5_c2}·C²,  {stack7} = {stack7_c2}·C² vs "
                                "{single7_c2}·C² (C → C convs, no bias);  MACs = multiply-accumulates at {size}",
    "figures.stacked.x": "channels C",
    "figures.stacked.weights": "weights",
    "figures.stacked.note": "C → C convs without bias, 'same' padding, at 56×56; MACs = multiply-accumulates; change "
                            "= stack vs single, in weights and MACs alike.",
    "figures.bottlenecks.title": "What the 1×1 conv buys: parameters and MACs without and with it",
    "figures.bottlenecks.params": "parameters",
    "figures.bottlenecks.without": "without 1×1",
    "figures.bottlenecks.with": "with 1×1",
    "figures.bottlenecks.subtitle": "÷ = how many times smaller with the 1×1, × = larger; parameters include biases "
                                    "and batch norm; MACs = multiply-accumulates",
    "figures.bottlenecks.note": "Parameters include biases and batch norm; ÷ = without / with (below 1: the 1×1 costs "
                                "more). DenseNet: the dense block alone, without its transition.",
    "figures.bottlenecks.inception3a.lesson": "Inception 3a",
    "figures.bottlenecks.inception3a.setting": "192 → 256 ch · 28×28",
    "figures.bottlenecks.inception3a.without": "naive",
    "figures.bottlenecks.inception3a.with": "with 1×1 reductions",
    "figures.bottlenecks.resnet_block.lesson": "ResNet block",
    "figures.bottlenecks.resnet_block.setting": "256 ch · 56×56",
    "figures.bottlenecks.resnet_block.without": "basic (two 3×3)",
    "figures.bottlenecks.resnet_block.with": "bottleneck (1×1, 3×3, 1×1)",
    "figures.bottlenecks.densenet121_block1.lesson": "DenseNet-121 block 1",
    "figures.bottlenecks.densenet121_block1.setting": "64 → 256 ch · 6 layers, k = 32 · 56×56",
    "figures.bottlenecks.densenet121_block1.without": "3×3 only",
    "figures.bottlenecks.densenet121_block1.with": "1×1 to 4k, then 3×3",
    "figures.bottlenecks.densenet121_block3.lesson": "DenseNet-121 block 3",
    "figures.bottlenecks.densenet121_block3.setting": "256 → 1024 ch · 24 layers, k = 32 · 14×14",
    "figures.bottlenecks.densenet121_block3.without": "3×3 only",
    "figures.bottlenecks.densenet121_block3.with": "1×1 to 4k, then 3×3",
    "figures.vgg.title": "VGG16: activation memory sits in the first convs, parameters in FC6",
    "figures.vgg.activations": "activations (MiB)",
    "figures.vgg.params": "parameters",
    "figures.vgg.cumulative": "cumulative share",
    "figures.vgg.cumulative_axis": "cumulative (dotted)",
    "figures.vgg.front": "{first} + {second}: <b>{pct}%</b> of the activation memory<br>everything before {top}: "
                         "<b>{memory_pct}%</b> of the memory, <b>{params_pct}%</b> of the parameters",
    "figures.vgg.top": "{layer}: <b>{params}</b> parameters ({pct}%)",
    "figures.vgg.subtitle": "per layer at 224×224, float32; {total} parameters in all; activations = each layer's "
                            "output (in-place ReLUs and dropout write none)",
    "figures.vgg.note": "Input 1×3×224×224, float32; activations = the layer's output; shares are of the whole "
                        "network.",
    "figures.rf.title": "Receptive field vs compute: GoogLeNet and ResNet-50 outgrow the input, VGG16 never does",
    "figures.rf.covers": "covers {px} px at<br>{path}",
    "figures.rf.input": "input {px}×{px}",
    "figures.rf.x": "GMACs spent up to the layer",
    "figures.rf.y": "receptive field (px)",
    "figures.rf.subtitle": "largest field of any layer so far, on a 224×224 input; a merge (residual add, Inception "
                           "concat) takes the largest of its paths",
    "figures.rf.note": "Rows where the largest receptive field so far grows; GMACs so far = MACs of every layer "
                       "executed up to and including it.",
    "figures.zoo.title": "The zoo: compute vs memory, bubble area ∝ parameters",
    "figures.zoo.hover_input": "input",
    "figures.zoo.hover_params": "parameters",
    "figures.zoo.x": "GMACs per image",
    "figures.zoo.y": "activation memory (MiB, log scale)",
    "figures.zoo.subtitle": "each network at its paper's input (LeNet and the CIFAR ResNets at 32×32), batch 1, "
                            "float32; memory = all layer outputs; bubble = inference parameters",
    "figures.zoo.note": "Each network at its paper's input, batch 1, float32; inference params leave out auxiliary "
                        "heads; activations = all layer outputs (the lecture convention).",
    "figures.heads.title": "Global average pooling vs a fully connected head: parameters of the classifier",
    "figures.heads.block": "{name} block",
    "figures.heads.label": "{name}: {head}",
    "figures.heads.share": "= {pct}% of {name}",
    "figures.heads.x": "parameters of the head",
    "figures.heads.subtitle": "blocks on the same {shape} map; networks: every layer after the last spatial map, "
                              "share of the inference parameters",
    "figures.heads.subtitle_networks": "every layer after the last spatial map",
    "figures.heads.gap": "GAP + {fc}",
    "figures.heads.flatten": "flatten + {fc}",
    "figures.heads.fc_one": "FC",
    "figures.heads.fc_many": "{n} FC",
    "figures.heads.legend_gap": "GAP head",
    "figures.heads.legend_flatten": "flatten + FC head",
    "figures.heads.note": "Head = every layer with parameters after the last spatial map; share = of the parameters "
                          "an inference forward uses.",
    "figures.erf.title": "Effective vs theoretical receptive field: the ERF grows far slower than the TRF",
    "figures.erf.trf": "{name}: TRF size (exponent {exponent})",
    "figures.erf.erf": "{name}: ERF std (exponent {exponent})",
    "figures.erf.x": "depth (layers that grow the field)",
    "figures.erf.y": "input pixels",
    "figures.erf.subtitle": "each network at its own initialisation, mean |∂ centre unit / ∂ input| over Gaussian "
                            "inputs; exponent = log-log slope against depth",
    "figures.erf.note": "Each network at its own initialisation (seed 0), input 3×128×128, 4 Gaussian inputs; the "
                        "plain stack is 16 3×3 convs of 16 channels with ReLU; ERF/TRF 95% = fewest pixels holding "
                        "95% of the gradient mass over the theoretical field clipped to the input.",
    "figures.display.plain3x3": "plain 3×3 stack",

    # -- report -------------------------------------------------------------------------------------
    "report.lang_attr": "en",
    "report.page_title": "archstat report: {names}",
    "report.heading": "archstat report",
    "report.intro": "MACs are multiply-accumulates; FLOPs count a multiply-add as 2, plus bias, normalisation, "
                    "activation, pooling and elementwise work.",
    "report.nav.comparison": "comparison",
    "report.nav.conventions": "conventions",
    "report.comparison": "Comparison",
    "report.conventions": "Counting conventions",
    "report.where": "Where the parameters, compute and memory are",
    "report.no_profile": "No layer has parameters, MACs or outputs.",
    "report.receptive_field": "Receptive field",
    "report.no_rf": "No spatial layers: no receptive field to show.",
    "report.erf": "Effective receptive field",
    "report.latency": "Latency",
    "report.latency.not_measured": "Latency: <strong>not measured</strong>. Pass <code>--latency FILE.json</code> "
                                   "with per-layer times to add a latency plot and a roofline.",
    "report.latency.whole_only": "Latency: {ms} ms per forward ({measured}); no per-layer times were measured.",
    "report.no_flops": "No measured layer does floating-point work.",
    "report.layers": "Layers",
    "report.filter": "Filter layers by name or type",
    "report.filter_label": "filter layers",
    "report.leaves_only": "leaf layers only",
    "report.count": "{shown} of {total} layers",
    "report.sort_hint": "click a header to sort",
    "report.card.params": "Parameters",
    "report.card.params_detail": "{exact} · trainable {trainable}",
    "report.card.layer_outputs": "Layer outputs",
    "report.card.layer_outputs_detail": "sum of every layer's output",
    "report.card.peak": "Peak live, inference",
    "report.card.peak_detail": "largest set of live tensors",
    "report.card.saved": "Saved for backward",
    "report.card.saved_detail": "{mode}-mode forward",
    "report.card.param_memory": "Parameter memory",
    "report.card.no_spatial": "no spatial layers",
    "report.input": "Input",
    "report.col.layer": "Layer",
    "report.col.type": "Type",
    "report.col.output_shape": "Output shape",
    "report.col.rf": "RF",
    "report.col.params": "Params",
    "report.col.activations": "Activations",
    "report.profile.title": "Parameters, MACs and activation memory by layer",
    "report.profile.subtitle": "bars: each layer · dotted line: cumulative share (right axis) · execution order",
    "report.profile.params": "Parameters ({total} in all)",
    "report.profile.macs": "MACs ({total}MAC in all)",
    "report.profile.activations": "Activation memory, layer outputs ({total} in all)",
    "report.profile.params_unit": "parameters",
    "report.profile.cumulative": "cumulative",
    "report.rf.name": "receptive field",
    "report.rf.name_axis": "receptive field, {axis}",
    "report.rf.hover": "field",
    "report.rf.jump": "jump (effective stride)",
    "report.rf.input": "input {size} px",
    "report.rf.title": "Receptive-field growth",
    "report.rf.y": "receptive field (px)",
    "report.latency.measured_on": "{label}, batch {batch}",
    "report.latency.title": "Measured latency per layer",
    "report.roofline.layers": "layers",
    "report.roofline.of_roof": "{pct}% of roof",
    "report.roofline.title": "Roofline",
    "report.roofline.x": "arithmetic intensity (FLOP per byte moved)",
    "report.roofline.subtitle": "{measured} · bytes moved = weights + inputs + outputs",
    "report.compare.title": "Models side by side",
    "report.compare.outputs": "Layer outputs (MiB)",
    "report.compare.peak": "Peak live, inference (MiB)",
    "report.compare.saved": "Saved for backward (MiB)",
    "report.summary.title": "{model} · {given} · {dtype} · device {device}",
    "report.summary.default_input": "default input {shape}; pass --input",
    "report.summary.input": "input {inputs}",
    "report.summary.retried": "{device} (retried from meta)",
    "report.summary.whole": "whole",
    "report.summary.params": "Parameters",
    "report.summary.params_text": "{exact} ({si}) · trainable {trainable}",
    "report.summary.executed": " · {executed} in modules the forward ran ({not_run} not run, e.g. auxiliary heads)",
    "report.summary.memory": "Memory",
    "report.summary.memory_text": "layer outputs {outputs} · peak live in inference {peak} · saved for backward "
                                  "{saved} ({mode} mode) · parameters {params} · buffers {buffers}",
    "report.summary.rf": "RF",
    "report.summary.rf_at": " at {path}",
    "report.summary.rf_covers": "; covers the whole input from {path}",
    "report.summary.rf_text": "{field} px{where} (jump {jump}){covers}; † marks merged paths that are unaligned, ? an "
                              "op whose effect is not modelled",
    "report.summary.device": "Device",
    "report.summary.device_text": "cpu, not meta: {reason}; the counts follow this input's values",
    "report.summary.partial": "PARTIAL",
    "report.summary.partial_text": "no formula for {ops}: totals leave them out",
    "report.summary.shared_text": "shared: a parameter or module used again is counted once, where first used",
    "report.summary.convention": "Convention",
    "report.summary.activations": "Activations = {text}",
    "report.growth.final": "final field {field} px at {where} (jump {jump}, padding {padding})",
    "report.growth.covers": "the field first covers the whole {size} input at {path}",
    "report.growth.never": "the field never covers the whole {size} input",
    "report.growth.unaligned": "† unaligned merges: {path}: {reason}",
    "report.growth.more": " (+{n} more)",
    "report.growth.unknown": "? not modelled from {path}: {reason}",
    "report.growth.legend": "RF in input pixels per axis; jump = effective stride; padding = effective padding P "
                            "(unit u is centred on u·jump − P + (RF − 1)/2)",
    "report.erf.exponent": "growth exponent against depth: ERF std {erf}, TRF size − 1 {trf} (Luo et al. 2016: √n "
                           "against n, 0.5 against 1)",
    "report.erf.mean": "mean of |∂ centre unit / ∂ input| over {images} inputs ({source}), summed over channels, "
                       "normalised to sum 1",
    "report.erf.definitions": "std, r68, r95 and offset in input pixels per axis (H×W); r = smallest radius about the "
                              "field's centre holding the share of the marginal; ERF/TRF 95% = fewest pixels holding "
                              "95% over the TRF area clipped to the input; depth = place in the growth table",
    "report.erf.skipped": "skipped {path}: {reason}",
    "report.erf.panel": "{path} · depth {depth}",
    "report.erf.of_peak": "of the peak",
    "report.erf.colorbar": "of peak",
    "report.erf.trf": "TRF size (px)",
    "report.erf.std": "ERF std (px)",
    "report.erf.x": "depth (layers that grow the field)",
    "report.erf.y": "input pixels",
    "report.erf.title": "{model}: effective vs theoretical receptive field",
    "report.erf.subtitle": "mean |∂ centre unit / ∂ input| over {images} inputs at {shape}; box = theoretical field; "
                           "growth exponent ERF std {erf} vs TRF {trf}",
    # the counting conventions, word for word as the analysis states them
    **{f"report.convention.{key}": rule for key, rule in CONVENTIONS.items()},

    # -- diagram ------------------------------------------------------------------------------------

    # -- explain ------------------------------------------------------------------------------------

    # -- sweep --------------------------------------------------------------------------------------

}

KO: dict[str, str] = {
    # -- common -------------------------------------------------------------------------------------
    "common.macs_convention": "MACs는 곱셈-누산 횟수, FLOPs는 곱셈-덧셈 하나를 2로 센다",

    # -- figures ------------------------------------------------------------------------------------
    "figures.vs": "{a} vs {b}",
    "figures.spec.stack": "{kh}×{kw} {n}개",
    "figures.spec.single": "{kh}×{kw} 1개",
    "figures.yes": "예",
    "figures.log_scale": "{axis} (로그 눈금)",
    "figures.col.field_px": "수용 영역 (px)",
    "figures.col.stack": "쌓은 합성곱",
    "figures.col.single": "단일 합성곱",
    "figures.col.stack_weights": "쌓은 쪽 가중치",
    "figures.col.single_weights": "단일 쪽 가중치",
    "figures.col.stack_macs": "쌓은 쪽 MACs",
    "figures.col.single_macs": "단일 쪽 MACs",
    "figures.col.change": "변화",
    "figures.col.nonlinearities": "비선형 함수 수",
    "figures.col.block": "블록",
    "figures.col.setting": "설정",
    "figures.col.params_without": "파라미터 (1×1 없음)",
    "figures.col.params_with": "파라미터 (1×1 사용)",
    "figures.col.params_factor": "파라미터 ÷",
    "figures.col.macs_without": "MACs (1×1 없음)",
    "figures.col.macs_with": "MACs (1×1 사용)",
    "figures.col.macs_factor": "MACs ÷",
    "figures.col.layer": "계층",
    "figures.col.output": "출력 크기",
    "figures.col.activations_mib": "활성화 메모리 (MiB)",
    "figures.col.cum_activations": "누적 활성화 메모리",
    "figures.col.params": "파라미터",
    "figures.col.cum_params": "누적 파라미터",
    "figures.col.model": "모델",
    "figures.col.type": "종류",
    "figures.col.rf_px": "수용 영역 (px)",
    "figures.col.jump": "jump (유효 stride)",
    "figures.col.gmacs_so_far": "누적 GMACs",
    "figures.col.covers_input": "입력 전체를 덮음",
    "figures.col.family": "계열",
    "figures.col.year": "연도",
    "figures.col.input": "입력",
    "figures.col.inference_params": "추론 파라미터",
    "figures.col.gmacs": "GMACs",
    "figures.col.network_or_block": "네트워크 또는 블록",
    "figures.col.head": "헤드",
    "figures.col.layers": "계층",
    "figures.col.head_input": "헤드 입력",
    "figures.col.head_params": "헤드 파라미터",
    "figures.col.head_macs": "헤드 MACs",
    "figures.col.model_params": "파라미터 (추론)",
    "figures.col.head_share": "헤드 비율",
    "figures.col.network": "네트워크",
    "figures.col.depth": "깊이",
    "figures.col.trf_px": "TRF (px)",
    "figures.col.erf_std_px": "ERF 표준편차 (px)",
    "figures.col.r95_px": "r95 (px)",
    "figures.col.ratio_95": "ERF/TRF 95%",
    "figures.stacked.title": "3×3 합성곱 쌓기: 같은 수용 영역을 더 적은 가중치와 MACs로",
    "figures.stacked.panel": "{stack} vs {single}: {field}×{field} 수용 영역",
    "figures.stacked.legend_stack": "3×3 합성곱을 쌓은 것",
    "figures.stacked.legend_single": "같은 수용 영역의 합성곱 하나",
    "figures.stacked.subtitle": "가중치: {stack5} = {stack5_c2}·C² vs {single5_c2}·C²,  {stack7} = {stack7_c2}·C² vs "
                                "{single7_c2}·C² (C → C 합성곱, 편향 없음);  MACs = {size}에서의 곱셈-누산 횟수",
    "figures.stacked.x": "채널 수 C",
    "figures.stacked.weights": "가중치",
    "figures.stacked.note": "편향 없는 C → C 합성곱, 'same' 패딩, 56×56에서; MACs = 곱셈-누산 횟수; 변화 = 쌓은 "
                            "합성곱 대 단일 합성곱, 가중치와 MACs 모두 같은 비율.",
    "figures.bottlenecks.title": "1×1 합성곱의 효과: 1×1이 없을 때와 있을 때의 파라미터와 MACs",
    "figures.bottlenecks.params": "파라미터",
    "figures.bottlenecks.without": "1×1 없음",
    "figures.bottlenecks.with": "1×1 사용",
    "figures.bottlenecks.subtitle": "÷ = 1×1을 쓰면 몇 배 작아지는가, × = 몇 배 커지는가; 파라미터는 편향과 배치 "
                                    "정규화 포함; MACs = 곱셈-누산 횟수",
    "figures.bottlenecks.note": "파라미터는 편향과 배치 정규화 포함; ÷ = 없을 때 / 있을 때 (1보다 작으면 1×1이 더 "
                                "비싸다). DenseNet: transition 없이 dense block만.",
    "figures.bottlenecks.inception3a.lesson": "Inception 3a",
    "figures.bottlenecks.inception3a.setting": "192 → 256 채널 · 28×28",
    "figures.bottlenecks.inception3a.without": "naive (단순형)",
    "figures.bottlenecks.inception3a.with": "1×1로 채널 축소",
    "figures.bottlenecks.resnet_block.lesson": "ResNet 블록",
    "figures.bottlenecks.resnet_block.setting": "256 채널 · 56×56",
    "figures.bottlenecks.resnet_block.without": "기본 블록 (3×3 두 개)",
    "figures.bottlenecks.resnet_block.with": "bottleneck (1×1, 3×3, 1×1)",
    "figures.bottlenecks.densenet121_block1.lesson": "DenseNet-121 블록 1",
    "figures.bottlenecks.densenet121_block1.setting": "64 → 256 채널 · 6 계층, k = 32 · 56×56",
    "figures.bottlenecks.densenet121_block1.without": "3×3만",
    "figures.bottlenecks.densenet121_block1.with": "1×1로 4k까지 줄인 뒤 3×3",
    "figures.bottlenecks.densenet121_block3.lesson": "DenseNet-121 블록 3",
    "figures.bottlenecks.densenet121_block3.setting": "256 → 1024 채널 · 24 계층, k = 32 · 14×14",
    "figures.bottlenecks.densenet121_block3.without": "3×3만",
    "figures.bottlenecks.densenet121_block3.with": "1×1로 4k까지 줄인 뒤 3×3",
    "figures.vgg.title": "VGG16: 활성화 메모리는 앞쪽 합성곱 계층에, 파라미터는 FC6에 몰려 있다",
    "figures.vgg.activations": "활성화 메모리 (MiB)",
    "figures.vgg.params": "파라미터",
    "figures.vgg.cumulative": "누적 비율",
    "figures.vgg.cumulative_axis": "누적 (점선)",
    "figures.vgg.front": "{first} + {second}: 활성화 메모리의 <b>{pct}%</b><br>{top} 이전 전체: 메모리의 "
                         "<b>{memory_pct}%</b>, 파라미터의 <b>{params_pct}%</b>",
    "figures.vgg.top": "{layer}: 파라미터 <b>{params}</b>개 ({pct}%)",
    "figures.vgg.subtitle": "224×224, float32에서 계층별; 전체 파라미터 {total}개; 활성화 메모리 = 각 계층의 출력 "
                            "(in-place ReLU와 dropout은 출력을 새로 쓰지 않음)",
    "figures.vgg.note": "입력 1×3×224×224, float32; 활성화 메모리 = 계층의 출력; 비율은 네트워크 전체 대비.",
    "figures.rf.title": "수용 영역 대 연산량: GoogLeNet과 ResNet-50은 입력보다 커지고, VGG16은 끝내 덮지 못한다",
    "figures.rf.covers": "{path}에서<br>{px} px 입력 전체를 덮음",
    "figures.rf.input": "입력 {px}×{px}",
    "figures.rf.x": "그 계층까지 쓴 GMACs",
    "figures.rf.y": "수용 영역 (px)",
    "figures.rf.subtitle": "224×224 입력에서 지금까지 가장 큰 수용 영역; 합쳐지는 곳(residual 덧셈, Inception "
                           "concat)은 경로 중 가장 큰 값",
    "figures.rf.note": "지금까지 가장 큰 수용 영역이 커지는 행만; 누적 GMACs = 그 계층까지(포함) 실행된 모든 계층의 "
                       "MACs.",
    "figures.zoo.title": "모델 모음: 연산량 대 메모리, 버블 넓이 ∝ 파라미터",
    "figures.zoo.hover_input": "입력",
    "figures.zoo.hover_params": "파라미터",
    "figures.zoo.x": "이미지 한 장당 GMACs",
    "figures.zoo.y": "활성화 메모리 (MiB, 로그 눈금)",
    "figures.zoo.subtitle": "각 네트워크는 논문의 입력 크기 (LeNet과 CIFAR ResNet은 32×32), 배치 1, float32; 메모리 = "
                            "모든 계층 출력의 합; 버블 = 추론에 쓰는 파라미터",
    "figures.zoo.note": "각 네트워크는 논문의 입력 크기, 배치 1, float32; 추론 파라미터는 보조 분류기(auxiliary head) "
                        "제외; 활성화 메모리 = 모든 계층의 출력 (강의의 관례).",
    "figures.heads.title": "전역 평균 풀링(GAP) 대 완전연결 헤드: 분류기의 파라미터",
    "figures.heads.block": "{name} 블록",
    "figures.heads.label": "{name}: {head}",
    "figures.heads.share": "= {name}의 {pct}%",
    "figures.heads.x": "헤드의 파라미터",
    "figures.heads.subtitle": "블록은 같은 {shape} 특징 맵 위에서; 네트워크는 마지막 공간 특징 맵 이후의 모든 계층, "
                              "추론 파라미터 대비 비율",
    "figures.heads.subtitle_networks": "마지막 공간 특징 맵 이후의 모든 계층",
    "figures.heads.gap": "GAP + {fc}",
    "figures.heads.flatten": "평탄화 + {fc}",
    "figures.heads.fc_one": "FC",
    "figures.heads.fc_many": "FC {n}개",
    "figures.heads.legend_gap": "GAP 헤드",
    "figures.heads.legend_flatten": "평탄화 + FC 헤드",
    "figures.heads.note": "헤드 = 마지막 공간 특징 맵 이후 파라미터가 있는 모든 계층; 비율 = 추론 forward가 쓰는 "
                          "파라미터 대비.",
    "figures.erf.title": "유효 수용 영역(ERF) 대 이론적 수용 영역(TRF): ERF는 TRF보다 훨씬 느리게 자란다",
    "figures.erf.trf": "{name}: TRF 크기 (지수 {exponent})",
    "figures.erf.erf": "{name}: ERF 표준편차 (지수 {exponent})",
    "figures.erf.x": "깊이 (수용 영역을 키우는 계층 수)",
    "figures.erf.y": "입력 픽셀",
    "figures.erf.subtitle": "각 네트워크의 초기화 상태 그대로, 가우시안 입력에 대한 |∂ 중심 유닛 / ∂ 입력|의 평균; "
                            "지수 = 깊이에 대한 log-log 기울기",
    "figures.erf.note": "각 네트워크의 초기화 상태 그대로 (seed 0), 입력 3×128×128, 가우시안 입력 4개; 단순 스택은 "
                        "16채널 3×3 합성곱 16개와 ReLU; ERF/TRF 95% = 기울기 질량의 95%를 담는 최소 픽셀 수 / 입력에 "
                        "맞춰 자른 이론적 수용 영역의 넓이.",
    "figures.display.plain3x3": "단순 3×3 합성곱 스택",

    # -- report -------------------------------------------------------------------------------------
    "report.lang_attr": "ko",
    "report.page_title": "archstat 보고서: {names}",
    "report.heading": "archstat 보고서",
    "report.intro": "MACs는 곱셈-누산 횟수이고, FLOPs는 곱셈-덧셈 하나를 2로 센 뒤 편향, 정규화, 활성화, 풀링, 원소별 "
                    "연산을 더한다.",
    "report.nav.comparison": "비교",
    "report.nav.conventions": "세는 방법",
    "report.comparison": "비교",
    "report.conventions": "세는 방법 (관례)",
    "report.where": "파라미터, 연산량, 메모리는 어디에 있나",
    "report.no_profile": "파라미터나 MACs나 출력이 있는 계층이 없다.",
    "report.receptive_field": "수용 영역",
    "report.no_rf": "공간 계층이 없어 보여 줄 수용 영역이 없다.",
    "report.erf": "유효 수용 영역",
    "report.latency": "지연 시간",
    "report.latency.not_measured": "지연 시간: <strong>측정하지 않음</strong>. 계층별 시간이 담긴 <code>--latency "
                                   "FILE.json</code>을 주면 지연 시간 그래프와 루프라인이 추가된다.",
    "report.latency.whole_only": "지연 시간: forward 한 번에 {ms} ms ({measured}); 계층별 시간은 측정하지 않았다.",
    "report.no_flops": "측정한 계층 중 부동소수점 연산을 하는 계층이 없다.",
    "report.layers": "계층",
    "report.filter": "이름이나 종류로 계층 거르기",
    "report.filter_label": "계층 거르기",
    "report.leaves_only": "말단 계층만",
    "report.count": "계층 {total}개 중 {shown}개",
    "report.sort_hint": "머리글을 누르면 정렬",
    "report.card.params": "파라미터",
    "report.card.params_detail": "{exact} · 학습 가능 {trainable}",
    "report.card.layer_outputs": "계층 출력",
    "report.card.layer_outputs_detail": "모든 계층 출력의 합",
    "report.card.peak": "추론 중 최대 동시 메모리",
    "report.card.peak_detail": "동시에 살아 있는 텐서의 최대 합",
    "report.card.saved": "역전파용으로 저장",
    "report.card.saved_detail": "{mode} 모드 forward",
    "report.card.param_memory": "파라미터 메모리",
    "report.card.no_spatial": "공간 계층 없음",
    "report.input": "입력",
    "report.col.layer": "계층",
    "report.col.type": "종류",
    "report.col.output_shape": "출력 크기",
    "report.col.rf": "수용 영역",
    "report.col.params": "파라미터",
    "report.col.activations": "활성화 메모리",
    "report.profile.title": "계층별 파라미터, MACs, 활성화 메모리",
    "report.profile.subtitle": "막대: 각 계층 · 점선: 누적 비율 (오른쪽 축) · 실행 순서",
    "report.profile.params": "파라미터 (전체 {total})",
    "report.profile.macs": "MACs (전체 {total}MAC)",
    "report.profile.activations": "활성화 메모리, 계층 출력 (전체 {total})",
    "report.profile.params_unit": "파라미터",
    "report.profile.cumulative": "누적",
    "report.rf.name": "수용 영역",
    "report.rf.name_axis": "수용 영역, {axis}",
    "report.rf.hover": "수용 영역",
    "report.rf.jump": "jump (유효 stride)",
    "report.rf.input": "입력 {size} px",
    "report.rf.title": "수용 영역의 성장",
    "report.rf.y": "수용 영역 (px)",
    "report.latency.measured_on": "{label}, 배치 {batch}",
    "report.latency.title": "계층별 측정 지연 시간",
    "report.roofline.layers": "계층",
    "report.roofline.of_roof": "roof의 {pct}%",
    "report.roofline.title": "루프라인 (roofline)",
    "report.roofline.x": "산술 강도 (옮긴 바이트당 FLOP)",
    "report.roofline.subtitle": "{measured} · 옮긴 바이트 = 가중치 + 입력 + 출력",
    "report.compare.title": "모델 나란히 비교",
    "report.compare.outputs": "계층 출력 (MiB)",
    "report.compare.peak": "추론 중 최대 동시 메모리 (MiB)",
    "report.compare.saved": "역전파용으로 저장 (MiB)",
    "report.summary.title": "{model} · {given} · {dtype} · 장치 {device}",
    "report.summary.default_input": "기본 입력 {shape}; --input으로 지정",
    "report.summary.input": "입력 {inputs}",
    "report.summary.retried": "{device} (meta에서 다시 실행)",
    "report.summary.whole": "전체",
    "report.summary.params": "파라미터",
    "report.summary.params_text": "{exact} ({si}) · 학습 가능 {trainable}",
    "report.summary.executed": " · forward가 실행한 모듈에 {executed} ({not_run}개는 실행되지 않음, 예: 보조 분류기)",
    "report.summary.memory": "메모리",
    "report.summary.memory_text": "계층 출력 {outputs} · 추론 중 최대 동시 메모리 {peak} · 역전파용으로 저장 {saved} "
                                  "({mode} 모드) · 파라미터 {params} · 버퍼 {buffers}",
    "report.summary.rf": "수용 영역",
    "report.summary.rf_at": " ({path})",
    "report.summary.rf_covers": "; {path}부터 입력 전체를 덮음",
    "report.summary.rf_text": "{field} px{where} (jump {jump}){covers}; †는 정렬되지 않은 경로가 합쳐진 곳, ?는 "
                              "효과를 모델링하지 않은 연산",
    "report.summary.device": "장치",
    "report.summary.device_text": "meta가 아닌 cpu: {reason}; 개수는 이 입력의 값을 따른다",
    "report.summary.partial": "PARTIAL",
    "report.summary.partial_text": "{ops}의 공식이 없어 합계에서 빠짐",
    "report.summary.shared_text": "shared: 다시 쓰인 파라미터나 모듈은 처음 쓰인 곳에서 한 번만 센다",
    "report.summary.convention": "세는 방법",
    "report.summary.activations": "활성화 메모리 = {text}",
    "report.growth.final": "최종 수용 영역 {field} px, {where} (jump {jump}, padding {padding})",
    "report.growth.covers": "{path}에서 처음으로 {size} 입력 전체를 덮음",
    "report.growth.never": "수용 영역이 {size} 입력 전체를 끝내 덮지 못함",
    "report.growth.unaligned": "† 정렬되지 않은 합류: {path}: {reason}",
    "report.growth.more": " (외 {n}개)",
    "report.growth.unknown": "? {path}부터 모델링하지 않음: {reason}",
    "report.growth.legend": "수용 영역(RF)은 축마다 입력 픽셀 단위; jump = 유효 stride; padding = 유효 padding P "
                            "(유닛 u의 중심은 u·jump − P + (RF − 1)/2)",
    "report.erf.exponent": "깊이에 대한 성장 지수: ERF 표준편차 {erf}, TRF 크기 − 1 {trf} (Luo et al. 2016: √n 대 n, "
                           "0.5 대 1)",
    "report.erf.mean": "입력 {images}개({source})에 대한 |∂ 중심 유닛 / ∂ 입력|의 평균, 채널에 대해 더하고 합이 1이 "
                       "되게 정규화",
    "report.erf.definitions": "std, r68, r95, offset은 축마다(H×W) 입력 픽셀 단위; r = 수용 영역의 중심에서 주변 "
                              "분포의 그 비율을 담는 가장 작은 반지름; ERF/TRF 95% = 95%를 담는 최소 픽셀 수 / 입력에 "
                              "맞춰 자른 TRF 넓이; 깊이 = 성장 표에서의 순서",
    "report.erf.skipped": "건너뜀 {path}: {reason}",
    "report.erf.panel": "{path} · 깊이 {depth}",
    "report.erf.of_peak": "최댓값 대비",
    "report.erf.colorbar": "최댓값 대비",
    "report.erf.trf": "TRF 크기 (px)",
    "report.erf.std": "ERF 표준편차 (px)",
    "report.erf.x": "깊이 (수용 영역을 키우는 계층 수)",
    "report.erf.y": "입력 픽셀",
    "report.erf.title": "{model}: 유효 수용 영역 대 이론적 수용 영역",
    "report.erf.subtitle": "{shape}에서 입력 {images}개에 대한 |∂ 중심 유닛 / ∂ 입력|의 평균; 상자 = 이론적 수용 "
                           "영역; 성장 지수 ERF 표준편차 {erf} 대 TRF {trf}",
    "report.convention.macs": "conv, linear, matmul, attention의 곱셈-누산 횟수만",
    "report.convention.flops": "모든 부동소수점 연산, 곱셈-덧셈 하나를 2로 (FLOPs = 2 x MACs + 나머지)",
    "report.convention.conv": "MACs = 출력 원소 수 x C_in/groups x 커널 원소 수 (transposed: 입력 원소 수 x "
                              "C_out/groups x 커널); 편향은 출력 원소당 +1 FLOP",
    "report.convention.linear": "MACs = (배치) 곱 하나당 M x K x N; 편향은 출력 원소당 +1 FLOP; attention (fused "
                                "여부와 무관) B x H x L x S x (E + E_v) MACs, q와 k의 스케일은 원소당 1 FLOP, "
                                "softmax는 score당 3, 마스크는 1 (causal 마스크를 만드는 데 L x S당 1); "
                                "MultiheadAttention과 RNN의 fused 커널은 분해한 연산으로 센다 (게이트 곱: LSTM 4, GRU "
                                "3, RNN 1)",
    "report.convention.norm": "batch norm은 정규화에 원소당 2 FLOPs + scale과 shift에 2 (학습 때 통계에 +4); "
                              "layer/group norm은 6 + affine 2",
    "report.convention.activation": "출력 원소당 1 FLOP (ReLU, tanh, sigmoid, GELU, ...); softmax는 3",
    "report.convention.pool": "출력 하나당 창의 원소마다 1 FLOP (max: 비교; avg: 덧셈과 나눗셈); adaptive 풀링은 실제 "
                              "창을 쓴다; 배치 여부와 무관; torchvision의 roi_align은 bilinear 샘플당 8 FLOPs (보간 "
                              "7, 평균 1), bin당 r x r 샘플, 또는 박스에서 읽은 adaptive 격자",
    "report.convention.elementwise": "출력 원소당 1 FLOP (add, mul, div, 비교, 마스크, 논리와 비트 연산, 삼각 함수와 "
                                     "지수 함수, 누적 합); 축소 연산 (sum, mean, max, argmax)은 입력 원소당 1; "
                                     "scatter_add, index_add, embedding_bag은 더하는 값마다 1",
    "report.convention.other": "sort는 행마다 n x ceil(log2 n) 비교, topk는 n x ceil(log2 k); 보간과 grid_sample은 "
                               "2^d (linear) 또는 4^d (cubic) 입력에 가중치: 출력당 2 x 탭 - 1 FLOPs; torchvision의 "
                               "nms는 정렬에 n x ceil(log2 n), 넓이에 박스당 3, 모든 쌍의 IoU마다 한 번 13 (커널의 "
                               "최악의 경우)",
    "report.convention.free": "view, reshape, cat, copy, pad, gather, index, embedding, scatter, masked_fill, tril, "
                              "pixel_shuffle, eye, nearest upsampling, eval의 dropout: 0 FLOPs",
    "report.convention.unsupported": "공식이 없는 연산은 목록에 올리고 합계를 partial로 표시한다",
    "report.convention.activation_bytes": "계층 출력의 합: 모든 말단 모듈의 출력과 컨테이너 안에서 직접 부른 함수형 "
                                          "연산의 출력, 텐서마다 한 번 (in-place 연산과 view는 다시 세지 않음); "
                                          "입력은 포함하지 않음",
    "report.convention.peak_activation_bytes": "추론 forward 중 동시에 살아 있는 텐서 합의 최댓값, 텐서는 마지막으로 "
                                               "쓰인 뒤 해제; 입력은 포함, 파라미터는 제외",
    "report.convention.training_activation_bytes": "학습 모드 forward에서 autograd가 역전파용으로 저장하는 텐서, "
                                                   "파라미터 제외",
    "report.convention.param_bytes": "분석 dtype에서의 파라미터와 버퍼",

    # -- diagram ------------------------------------------------------------------------------------

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
