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
    "figures.stacked.note": "C → C convs without bias, 'same' padding, at 56×56; MACs = multiply-accumulates; "
                            "change = stack vs single, in weights and MACs alike.",
    "figures.bottlenecks.title": "What the 1×1 conv buys: parameters and MACs without and with it",
    "figures.bottlenecks.params": "parameters",
    "figures.bottlenecks.without": "without 1×1",
    "figures.bottlenecks.with": "with 1×1",
    "figures.bottlenecks.subtitle": "÷ = how many times smaller with the 1×1, × = larger; parameters include biases "
                                    "and batch norm; MACs = multiply-accumulates",
    "figures.bottlenecks.note": "Parameters include biases and batch norm; ÷ = without / with (below 1: the 1×1 "
                                "costs more). DenseNet: the dense block alone, without its transition.",
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
    "figures.stacked.note": "편향 없는 C → C 합성곱, 'same' 패딩, 56×56에서; MACs = 곱셈-누산 횟수; "
                            "변화 = 쌓은 합성곱 대 단일 합성곱, 가중치와 MACs 모두 같은 비율.",
    "figures.bottlenecks.title": "1×1 합성곱의 효과: 1×1이 없을 때와 있을 때의 파라미터와 MACs",
    "figures.bottlenecks.params": "파라미터",
    "figures.bottlenecks.without": "1×1 없음",
    "figures.bottlenecks.with": "1×1 사용",
    "figures.bottlenecks.subtitle": "÷ = 1×1을 쓰면 몇 배 작아지는가, × = 몇 배 커지는가; 파라미터는 편향과 배치 정규화 포함; "
                                    "MACs = 곱셈-누산 횟수",
    "figures.bottlenecks.note": "파라미터는 편향과 배치 정규화 포함; ÷ = 없을 때 / 있을 때 (1보다 작으면 1×1이 더 비싸다). "
                                "DenseNet: transition 없이 dense block만.",
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
    "figures.vgg.front": "{first} + {second}: 활성화 메모리의 <b>{pct}%</b><br>{top} 이전 전체: "
                         "메모리의 <b>{memory_pct}%</b>, 파라미터의 <b>{params_pct}%</b>",
    "figures.vgg.top": "{layer}: 파라미터 <b>{params}</b>개 ({pct}%)",
    "figures.vgg.subtitle": "224×224, float32에서 계층별; 전체 파라미터 {total}개; 활성화 메모리 = 각 계층의 출력 "
                            "(in-place ReLU와 dropout은 출력을 새로 쓰지 않음)",
    "figures.vgg.note": "입력 1×3×224×224, float32; 활성화 메모리 = 계층의 출력; 비율은 네트워크 전체 대비.",
    "figures.rf.title": "수용 영역 대 연산량: GoogLeNet과 ResNet-50은 입력보다 커지고, VGG16은 끝내 덮지 못한다",
    "figures.rf.covers": "{path}에서<br>{px} px 입력 전체를 덮음",
    "figures.rf.input": "입력 {px}×{px}",
    "figures.rf.x": "그 계층까지 쓴 GMACs",
    "figures.rf.y": "수용 영역 (px)",
    "figures.rf.subtitle": "224×224 입력에서 지금까지 가장 큰 수용 영역; 합쳐지는 곳(residual 덧셈, Inception concat)은 "
                           "경로 중 가장 큰 값",
    "figures.rf.note": "지금까지 가장 큰 수용 영역이 커지는 행만; 누적 GMACs = 그 계층까지(포함) 실행된 모든 계층의 MACs.",
    "figures.zoo.title": "모델 모음: 연산량 대 메모리, 버블 넓이 ∝ 파라미터",
    "figures.zoo.hover_input": "입력",
    "figures.zoo.hover_params": "파라미터",
    "figures.zoo.x": "이미지 한 장당 GMACs",
    "figures.zoo.y": "활성화 메모리 (MiB, 로그 눈금)",
    "figures.zoo.subtitle": "각 네트워크는 논문의 입력 크기 (LeNet과 CIFAR ResNet은 32×32), 배치 1, float32; "
                            "메모리 = 모든 계층 출력의 합; 버블 = 추론에 쓰는 파라미터",
    "figures.zoo.note": "각 네트워크는 논문의 입력 크기, 배치 1, float32; 추론 파라미터는 보조 분류기(auxiliary head) 제외; "
                        "활성화 메모리 = 모든 계층의 출력 (강의의 관례).",
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
    "figures.heads.note": "헤드 = 마지막 공간 특징 맵 이후 파라미터가 있는 모든 계층; 비율 = 추론 forward가 쓰는 파라미터 대비.",
    "figures.erf.title": "유효 수용 영역(ERF) 대 이론적 수용 영역(TRF): ERF는 TRF보다 훨씬 느리게 자란다",
    "figures.erf.trf": "{name}: TRF 크기 (지수 {exponent})",
    "figures.erf.erf": "{name}: ERF 표준편차 (지수 {exponent})",
    "figures.erf.x": "깊이 (수용 영역을 키우는 계층 수)",
    "figures.erf.y": "입력 픽셀",
    "figures.erf.subtitle": "각 네트워크의 초기화 상태 그대로, 가우시안 입력에 대한 |∂ 중심 유닛 / ∂ 입력|의 평균; "
                            "지수 = 깊이에 대한 log-log 기울기",
    "figures.erf.note": "각 네트워크의 초기화 상태 그대로 (seed 0), 입력 3×128×128, 가우시안 입력 4개; 단순 스택은 16채널 "
                        "3×3 합성곱 16개와 ReLU; ERF/TRF 95% = 기울기 질량의 95%를 담는 최소 픽셀 수 / 입력에 맞춰 자른 "
                        "이론적 수용 영역의 넓이.",
    "figures.display.plain3x3": "단순 3×3 합성곱 스택",

    # -- report -------------------------------------------------------------------------------------

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
