"""The published Edge TPU models whose architectures ``build_workloads.py`` rebuilds: how to build each
(timm / torchvision, random weights), at which input size, and which published measurements
(``measurements.json`` ``model`` names) it stands for. Differences from Google's graphs are stated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workload_heads import _mobilenet_v1_maps, _ssd, _ssd_anchor_bytes, _unet


@dataclass(frozen=True)
class Arch:
    build: Callable[[], object]
    size: int
    source: str
    measured_as: tuple[str, ...]  # measurements.json ``model`` names this rebuild stands for
    differences: str = ""
    extra: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        return {
            "built_from": self.source,
            "input_size": self.size,
            "weights": "random (latency depends on the graph, not the weights)",
            "converted_with": "edgedeploy's own stages (torch -> ONNX -> TF -> full-int8 TFLite)",
            "measured_as": list(self.measured_as),
            "differences": self.differences,
            **self.extra,
        }


def _unpad_pools(module):
    """Strided max pools that round up (ceil_mode) or pad with -inf (torchvision, timm's ResNet-V2
    stem) export as a PADV2 the Edge TPU compiler does not know (TF-slim's graphs have none; a zero
    pad exports as PADV2 too). Unpadded and rounding down they keep the op plan: one pixel less per
    side after those pools, 2-4% fewer MACs downstream."""
    import torch

    for layer in module.modules():
        if isinstance(layer, torch.nn.MaxPool2d) and layer.stride not in (1, (1, 1)):
            layer.ceil_mode, layer.padding = False, 0
    return module


def _timm(name: str, **kwargs):
    def build():
        import timm

        return _unpad_pools(timm.create_model(name, pretrained=False, **kwargs))

    return build


def _tv(name: str, **kwargs):
    def build():
        import torchvision

        return _unpad_pools(getattr(torchvision.models, name)(weights=None, **kwargs))

    return build


def _mobilenet_v1(alpha: float):
    def build():
        from timm.models.efficientnet import _gen_mobilenet_v1

        return _gen_mobilenet_v1("mobilenetv1_100", channel_multiplier=alpha, pretrained=False)

    return build


_SLIM = "TF-slim original; timm/torchvision rebuild: same layer plan, padding and head details may differ"
_SSD_DIFF = (
    "TF object-detection SSD rebuilt in PyTorch: same backbone and feature-map plan, 1x1 box/class "
    "predictors; timm's MobileNetV2 maps end before the 1280-channel head conv TF uses; "
    "TFLite_Detection_PostProcess (CPU) added as one fact of its input size; SSDLite: plain convs on "
    "the last two (2x2, 1x1) maps and 1x1 predictors without their 3x3 depthwise (both export as a "
    "grouped CONV_2D, op version 6, which the Edge TPU compiler does not know)"
)


def _ssd_arch(
    backbone: str | Callable[[], object],
    size: int,
    classes: int,
    names: tuple[str, ...],
    lite: bool = False,
    notes: dict[str, str] | None = None,
    alpha: float = 1.0,
) -> Arch:
    """``alpha``: the depth multiplier, which TF applies to the extra layers too."""
    anchors = (3, 6, 6, 6, 6, 6)
    depths = tuple(int(d * alpha) for d in (512, 256, 256, 128))
    extra: dict = {"postprocess_input_bytes": _ssd_anchor_bytes(size, classes, anchors)}
    # TF1's export_tflite_ssd_graph defaults (max_detections 10, one class a box): what Alasdair
    # Allan's SSD MobileNet V1 0.75 file in tests/data holds, and the published files output 10 boxes.
    extra["postprocess_detections"] = 10
    if notes:
        extra["measured_as_notes"] = notes
    return Arch(
        _ssd(backbone, size, classes, anchors, lite, depths),
        size,
        f"{'timm ' + backbone if isinstance(backbone, str) else 'timm MobileNet V1 ' + str(alpha)}"
        f" backbone + {'SSDLite' if lite else 'SSD'} head",
        names,
        _SSD_DIFF,
        extra,
    )


# Why measurements taken around the model (not by a benchmark of the model alone) stand for it.
# Nobuo Tsukamoto's tables (tf1_detection_model_zoo/raspi.md, devboard.md) label two rows "SSDLite
# Mobilenet v1 / v2 300x300"; his raw logs (results/*/latency_*.txt) time
# ssd_mobilenet_v{n}_300x300_quant_coco_edgetpu.tflite, the TF1 zoo's quantized SSD (the zoo has no
# quantized SSDLite MobileNet): the model of Google's SSD files, so they are tied to it.
_TSUKAMOTO = (
    "Nobuo Tsukamoto's table says SSDLite; his raw logs time "
    "ssd_mobilenet_v{}_300x300_quant_coco_edgetpu.tflite, the TF1 zoo's quantized SSD"
)
_SSD_V2_NOTES = {
    "SSDLite MobileNet v2 300x300 (TF1 zoo export)": _TSUKAMOTO.format(2),
    "SSDLite Mobilenet v2 300x300 (own export)": _TSUKAMOTO.format(2),
    "SSD MobileNet v2 COCO 300x300 (mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite)": (
        "Alasdair Allan 2019, DetectionEngine.DetectWithImage on a pre-resized 300x300 image: the "
        "same compiled file (post-processing op on the CPU, counted here); besides the invoke it "
        "times one 270 KB array copy and the decoding of at most 10 boxes, small beside the run-to-"
        "run spread of the model-only numbers (Google's Dev Board references: 16.9 ms model-only, "
        "14-16 ms with image preprocessing)"
    ),
    "ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite (user report)": (
        "google-coral/tflite issue 18, detect_image.py on a Raspberry Pi 3 B (USB 2): times "
        "interpreter.invoke() only, the same compiled file; the first run (276.9 ms) is a separate "
        "cold entry"
    ),
    "ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite (detect_image.py, grace_hopper.bmp)": (
        "the same file and script; its host and device are not stated, so no profile describes it "
        "(latency_points.EXCLUDED)"
    ),
}


ARCHITECTURES: dict[str, Arch] = {
    "mobilenet_v1_0.25_128": Arch(
        _mobilenet_v1(0.25),
        128,
        "timm _gen_mobilenet_v1(channel_multiplier=0.25)",
        ("MobileNet V1 0.25 128x128 (TF1) (coral.ai models)",),
        _SLIM,
    ),
    "mobilenet_v1_1.0_224": Arch(
        _timm("mobilenetv1_100"),
        224,
        "timm mobilenetv1_100",
        (
            "MobileNet v1 (224x224)",
            "MobileNet v1 (coral FAQ 2019)",
            "MobileNet v1 (freedomtan C++)",
            "MobileNet v1 (freedomtan python)",
            "MobileNetV1 (x2q.net)",
            "mobilenet v1 224 compiled (user report)",
            "mobilenet_v1_1.0_224_quant_edgetpu.tflite",
            "mobilenet_v1_1.0_224_quant.tflite",
        ),
        _SLIM,
    ),
    "squeezenet_224": Arch(
        _tv("squeezenet1_0"),
        224,
        "torchvision squeezenet1_0",
        ("SqueezeNet (224x224)",),
        "which SqueezeNet version Coral compiled is not stated: 1.0 (the paper's) assumed",
    ),
    "inception_v1_224": Arch(
        _tv("googlenet", aux_logits=False, init_weights=False),
        224,
        "torchvision googlenet",
        (
            "Inception v1 (224x224)",
            "Inception V1 224x224 (coral.ai models)",
            "Inception v1 (coral FAQ 2019)",
            "Inception v1 (freedomtan C++)",
            "Inception v1 (freedomtan python)",
            "inception_v1_224_quant_edgetpu.tflite",
            "inception_v1_224_quant.tflite",
        ),
        _SLIM + "; torchvision's GoogLeNet uses 3x3 where slim's 5x5 branch is",
    ),
    "efficientnet_edgetpu_s_224": Arch(
        _timm("efficientnet_es"),
        224,
        "timm efficientnet_es",
        ("EfficientNet-EdgeTpu-S", "EfficientNet-EdgeTpu (S) 224x224 (coral.ai models)"),
        _SLIM,
    ),
    "efficientnet_edgetpu_m_240": Arch(
        _timm("efficientnet_em"),
        240,
        "timm efficientnet_em",
        ("EfficientNet-EdgeTpu-M", "EfficientNet-EdgeTpu (M) 240x240 (coral.ai models)"),
        _SLIM,
    ),
    "unet_mobilenet_v2_128": Arch(
        _unet(128),
        128,
        "timm mobilenetv2_100 encoder + pix2pix up blocks",
        ("Unet Mv2 (128x128)", "U-Net MobileNet v2 128x128 (coral.ai models)"),
        "the TF tutorial's U-Net rebuilt in PyTorch",
    ),
    "ssd_mobilenet_v1_300": _ssd_arch(
        "mobilenetv1_100",
        300,
        91,
        (
            "SSD MobileNet V1 300x300 (TF1) (coral.ai models)",
            "mobilenet_ssd_v1_coco_quant_postprocess_edgetpu.tflite",
            "mobilenet_ssd_v1_coco_quant_postprocess.tflite",
            "SSDLite Mobilenet v1 300x300 (own export)",
        ),
        notes={"SSDLite Mobilenet v1 300x300 (own export)": _TSUKAMOTO.format(1)},
    ),
    "ssd_mobilenet_v2_300": _ssd_arch(
        "mobilenetv2_100",
        300,
        91,
        (
            "SSD MobileNet V2 300x300 (TF1) (coral.ai models)",
            "SSD MobileNet V2 300x300 (TF2) (coral.ai models)",
            "mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite",
            "mobilenet_ssd_v2_coco_quant_postprocess.tflite",
            "SSD MobileNetV2 detection (x2q.net)",
            "SSD MobileNet v2 COCO 300x300 (mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite)",
            "ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite (user report)",
            "ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite (detect_image.py, grace_hopper.bmp)",
            "SSDLite MobileNet v2 300x300 (TF1 zoo export)",
            "SSDLite Mobilenet v2 300x300 (own export)",
        ),
        notes=_SSD_V2_NOTES,
    ),
    "ssd_mobilenet_v2_face_320": _ssd_arch(
        "mobilenetv2_100",
        320,
        2,
        (
            "SSD MobileNet V2 Faces 320x320 (TF1) (coral.ai models)",
            "mobilenet_ssd_v2_face_quant_postprocess_edgetpu.tflite",
            "mobilenet_ssd_v2_face_quant_postprocess.tflite",
        ),
    ),
    # Alasdair Allan's SSD MobileNet V1 0.75 file is described itself (its measurements are tied to
    # it); this rebuild is for benchmarks/compare_workloads.py: how close an SSD rebuild comes.
    "ssd_mobilenet_v1_075_300": _ssd_arch(_mobilenet_v1_maps(0.75), 300, 91, (), alpha=0.75),
    "ssd_mobilenet_v1_224": _ssd_arch("mobilenetv1_100", 224, 91, ("MobileNet v1 SSD (224x224)",)),
    "ssd_mobilenet_v2_224": _ssd_arch("mobilenetv2_100", 224, 91, ("MobileNet v2 SSD (224x224)",)),
    "ssdlite_mobilenet_edgetpu_320": _ssd_arch(
        "mobilenet_edgetpu_100",
        320,
        91,
        (
            "SSDLite MobileNetEdgeTPU 320x320 (TF1 zoo export)",
            "SSDLite MobileNetEdgeTPU 320x320 (own export)",
        ),
        lite=True,
    ),
    "inception_v3_224": Arch(
        _timm("inception_v3"),
        224,
        "timm inception_v3",
        ("Inception V3 224x224 (coral.ai models)",),
        _SLIM,
    ),
    "efficientnet_edgetpu_l_300": Arch(
        _timm("efficientnet_el"),
        300,
        "timm efficientnet_el",
        (
            "EfficientNet-EdgeTpu (L) 300x300 (coral.ai models)",
            "EfficientNet-L (EdgeTPU) (x2q.net)",
        ),
        _SLIM,
    ),
    "unet_mobilenet_v2_256": Arch(
        _unet(256),
        256,
        "timm mobilenetv2_100 encoder + pix2pix up blocks",
        ("U-Net MobileNet v2 256x256 (coral.ai models)",),
        "the TF tutorial's U-Net rebuilt in PyTorch",
    ),
    "densenet121_224": Arch(
        _tv("densenet121"),
        224,
        "torchvision densenet121",
        ("DenseNet (224x224)",),
        "which DenseNet depth Coral compiled is not stated: 121 assumed",
    ),
    "resnet50_v1_299": Arch(
        _tv("resnet50"), 299, "torchvision resnet50", ("ResNet-50 V1 (299x299)",), _SLIM
    ),
    "resnet50_v2_299": Arch(
        _timm("resnetv2_50"), 299, "timm resnetv2_50", ("ResNet-50 V2 (299x299)",), _SLIM
    ),
    "inception_v3_299": Arch(
        _timm("inception_v3"),
        299,
        "timm inception_v3",
        ("Inception V3 299x299 (coral.ai models)",),
        _SLIM,
    ),
    "inception_resnet_v2_299": Arch(
        _timm("inception_resnet_v2"),
        299,
        "timm inception_resnet_v2",
        ("Inception-ResNet V2 (299x299)",),
        _SLIM,
    ),
    "inception_v4_299": Arch(
        _timm("inception_v4"),
        299,
        "timm inception_v4",
        (
            "Inception v4 (299x299)",
            "Inception V4 299x299 (coral.ai models)",
            "Inception v4 (coral FAQ 2019)",
            "Inception v4 (freedomtan C++)",
            "Inception v4 (freedomtan python)",
            "inception_v4_299_quant_edgetpu.tflite",
            "inception_v4_299_quant.tflite",
        ),
        _SLIM,
    ),
    "resnet152_v2_299": Arch(
        _timm("resnetv2_152"), 299, "timm resnetv2_152", ("ResNet-152 V2 (299x299)",), _SLIM
    ),
    "vgg16_224": Arch(_tv("vgg16"), 224, "torchvision vgg16", ("VGG16 (224x224)",), _SLIM),
    "vgg19_224": Arch(_tv("vgg19"), 224, "torchvision vgg19", ("VGG19 (224x224)",), _SLIM),
}
