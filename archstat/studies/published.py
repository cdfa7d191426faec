"""Published ImageNet top-1 accuracies of the zoo networks that follow torchvision's layout.

The numbers are torchvision's own metadata for its V1 weights (`IMAGENET1K_V1`, acc@1 on the
ImageNet-1k validation set at each model's default input), as transcribed in
`shared/REFERENCES.md` section 1. Only networks whose layout matches torchvision's to the
parameter get a number: the zoo's `alexnet` (the 2012 two-GPU original, with LRN) is not
torchvision's AlexNet — that is `alexnet_owt` — and the paper-v1 ResNets (`resnet50_v1`, ...),
the paper's GoogLeNet, Inception v4 and the rest have no published torchvision weights.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "torchvision V1 weights (IMAGENET1K_V1), ImageNet-1k val acc@1"

# zoo name -> top-1 (%); torchvision's "alexnet" is the zoo's "alexnet_owt".
TOP1: dict[str, float] = {
    "alexnet_owt": 56.522,
    "vgg11": 69.020,
    "vgg11_bn": 70.370,
    "vgg13": 69.928,
    "vgg13_bn": 71.586,
    "vgg16": 71.592,
    "vgg16_bn": 73.360,
    "vgg19": 72.376,
    "vgg19_bn": 74.218,
    "inception_v3": 77.294,
    "resnet18": 69.758,
    "resnet34": 73.314,
    "resnet50": 76.130,
    "resnet101": 77.374,
    "resnet152": 78.312,
    "densenet121": 74.434,
    "densenet161": 77.138,
    "densenet169": 75.600,
    "densenet201": 76.896,
    "mobilenet_v2": 71.878,
    "squeezenet1_0": 58.092,
    "squeezenet1_1": 58.178,
}


@dataclass(frozen=True, slots=True)
class Accuracy:
    """A published accuracy and where it comes from."""

    top1: float                # percent
    source: str


def published_top1(name: str) -> Accuracy | None:
    """The published ImageNet top-1 of a zoo network, or None where none is published."""
    top1 = TOP1.get(name)
    return None if top1 is None else Accuracy(top1, SOURCE)
