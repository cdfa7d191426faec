"""Published numbers from ../shared/REFERENCES.md, transcribed; test_oracles.py checks the copy.

Section 1: torchvision-layout models at 224x224 (inception_v3 at 299x299), batch 1.
MACs are the multiply-accumulates of conv and linear layers only.
"""

from __future__ import annotations

# name -> (params, MACs)
TORCHVISION: dict[str, tuple[int, int]] = {
    "alexnet_owt": (61_100_840, 714_188_480),
    "vgg11": (132_863_336, 7_609_090_048),
    "vgg11_bn": (132_868_840, 7_609_090_048),
    "vgg13": (133_047_848, 11_308_466_176),
    "vgg13_bn": (133_053_736, 11_308_466_176),
    "vgg16": (138_357_544, 15_470_264_320),
    "vgg16_bn": (138_365_992, 15_470_264_320),
    "vgg19": (143_667_240, 19_632_062_464),
    "vgg19_bn": (143_678_248, 19_632_062_464),
    "inception_v3": (27_161_264, 5_713_216_096),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet34": (21_797_672, 3_663_761_408),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet101": (44_549_160, 7_801_405_440),
    "resnet152": (60_192_808, 11_513_626_624),
    "densenet121": (7_978_856, 2_834_161_664),
    "densenet161": (28_681_000, 7_727_907_072),
    "densenet169": (14_149_480, 3_359_843_328),
    "densenet201": (20_013_928, 4_291_365_888),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "squeezenet1_0": (1_248_424, 818_924_576),
    "squeezenet1_1": (1_235_496, 349_151_936),
}

INCEPTION_V3_PARAMS_WITHOUT_AUX = 23_834_568

# ImageNet top-1 of torchvision's V1 weights (percent).
TOP1: dict[str, float] = {
    "alexnet_owt": 56.522, "vgg11": 69.020, "vgg11_bn": 70.370, "vgg13": 69.928, "vgg13_bn": 71.586,
    "vgg16": 71.592, "vgg16_bn": 73.360, "vgg19": 72.376, "vgg19_bn": 74.218, "inception_v3": 77.294,
    "resnet18": 69.758, "resnet34": 73.314, "resnet50": 76.130, "resnet101": 77.374,
    "resnet152": 78.312, "densenet121": 74.434, "densenet161": 77.138, "densenet169": 75.600,
    "densenet201": 76.896, "mobilenet_v2": 71.878, "squeezenet1_0": 58.092, "squeezenet1_1": 58.178,
}

# Section 1's note: what other tools report for ResNet-50 (for the reconciliation).
FVCORE_RESNET50_TOTAL = 4_111_512_576
FLOP_COUNTER_RESNET50 = 8_178_368_512

# Modern torchvision-layout models, from torchvision's own weight metadata (not yet in REFERENCES.md):
# name -> (params, GFLOPS as torchvision prints it: conv + linear + attention MACs in billions, 2
# decimals, ImageNet acc@1 of IMAGENET1K_V1).
TORCHVISION_MODERN: dict[str, tuple[int, float, float]] = {
    "efficientnet_b0": (5_288_548, 0.39, 77.692),
    "convnext_tiny": (28_589_128, 4.46, 82.520),
    "vit_b_16": (86_567_656, 17.56, 81.072),
}
