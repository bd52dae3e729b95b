"""EfficientDet-Lite, rebuilt for ``build_workloads.py`` from the PyPI package ``effdet`` (Ross
Wightman's efficientdet-pytorch, a port of google/automl's EfficientDet; configs ``tf_efficientdet_lite0``
... ``tf_efficientdet_lite3x``: the automl hparams of each Lite model - backbone, BiFPN width and depth,
head depth, input size).

``effdet`` is a benchmark-time dependency only (regenerating these workload descriptions), never one of
edgedeploy's: ``pip install --no-deps effdet==0.4.1 omegaconf pycocotools`` (``--no-deps`` keeps the
project's torch / timm / numpy pins; effdet's package imports pycocotools and omegaconf at load).

Two published graphs per model, one rebuild each:

- coral.ai's EfficientDet-Lite (TF2 Model Maker export, Edge TPU compiler 16): the whole network on the
  Edge TPU (the score LOGISTIC too); on the CPU two DEQUANTIZE ops (boxes and scores to float) and
  TFLite_Detection_PostProcess reading the float tensors (google-coral/edgetpu issues 490 and 560 list
  these compiled ops).
- Nobuo Tsukamoto's automl export (2021, Edge TPU compiler 15, "partially mapped to the TPU"): TF2's
  nearest-neighbour resize writes RESIZE_NEAREST_NEIGHBOR v3 (half-pixel centres), which compiler 15
  does not know; the compiler stops at the first one, so the BiFPN and the heads run on the CPU. The
  rebuild's resizes are marked v3 and the partition predicted with the compiler-15 rules.
"""

from __future__ import annotations

from workload_archs import Arch, _ssd_arch
from workload_heads import _mobiledet_edgetpu

LEVELS = (3, 4, 5, 6, 7)  # feature levels of EfficientDet's BiFPN (strides 8 ... 128)
ANCHORS_PER_CELL = 9  # 3 scales x 3 aspect ratios
CLASSES = 90  # COCO as exported (Model Maker and automl both write 90 class scores)
EFFDET_HINT = (
    "needs the PyPI package effdet (benchmark-time only, not an edgedeploy dependency): "
    "pip install --no-deps effdet==0.4.1 omegaconf pycocotools"
)


class MissingBuildDependency(RuntimeError):
    """A benchmark-time package a rebuild needs is not installed (one line, no traceback)."""


def anchor_count(size: int) -> int:
    """Anchors of an EfficientDet at ``size`` px: the feature map halves (rounding up) per level."""
    side, total = size, 0
    for level in range(1, max(LEVELS) + 1):
        side = (side - 1) // 2 + 1
        if level in LEVELS:
            total += side * side * ANCHORS_PER_CELL
    return total


def _efficientdet(config: str):
    """effdet's EfficientDet with two changes that give TF's graph, not effdet's PyTorch idioms:
    the BiFPN 'sum' fusion as plain additions (automl: ``tf.add_n``; effdet stacks and reduces, which
    exports as CONCATENATION + SUM), and the stride-2 'SAME' max pools as pools the converter writes
    as one MAX_POOL_2D (effdet pads with -inf first, which exports as a PADV2 the compiler does not
    know; TF's SAME pooling has no pad op). The detector returns boxes and sigmoid scores per anchor,
    as the TFLite exports do before their post-processing op."""

    def build():
        try:
            from effdet import create_model
            from effdet.efficientdet import FpnCombine, Interpolate2d
            from timm.layers.conv2d_same import Conv2dSame
            from timm.layers.pool2d_same import MaxPool2dSame
        except ImportError as err:
            raise MissingBuildDependency(EFFDET_HINT) from err
        import torch
        from torch import nn

        class AddCombine(FpnCombine):
            def forward(self, x):
                nodes = [
                    resample(x[o])
                    for o, resample in zip(self.inputs_offsets, self.resample.values(), strict=True)
                ]
                return sum(nodes[1:], nodes[0])

        class SamePool(nn.Module):
            """3x3 stride-2 'SAME' max pool: on an odd side one pixel each side is what TF's SAME
            pads, so the converter writes SAME padding; an even side needs TF's asymmetric pad,
            which no padded PyTorch pool exports as, so a 2x2 stride-2 pool of the same output
            shape stands in (the estimate reads a pool's activation bytes, not its window). The
            side is fixed when built: a branch on the traced shape leaves shape ops in the export."""

            def __init__(self, odd: bool):
                super().__init__()
                self.odd = odd

            def forward(self, x):
                if self.odd:
                    return nn.functional.max_pool2d(x, 3, 2, 1)
                return nn.functional.max_pool2d(x, 2, 2)

        class StaticResize(nn.Module):
            """Nearest-neighbour upsampling to a fixed size, reshaped to its static shape: onnx2tf
            gives a resize to computed sizes an unknown batch and channel count, and then writes the
            depthwise convolution after the sum it feeds as a grouped CONV_2D (version 6, which no
            Edge TPU compiler knows). The converter drops the reshape (same shape in and out)."""

            def __init__(self, channels: int, size: tuple[int, int]):
                super().__init__()
                self.channels, self.size = channels, tuple(size)

            def forward(self, x):
                x = nn.functional.interpolate(x, size=self.size, mode="nearest")
                return x.reshape(1, self.channels, *self.size)

        def _symmetric(conv):
            """timm's TF-'SAME' strided conv pads at run time (an ONNX pad of computed sizes that
            onnx2tf misplaces onto the channel axis); a plain conv padded k // 2 each side has the
            same output shape and exports as the other rebuilds' strided convs do."""
            plain = nn.Conv2d(
                conv.in_channels,
                conv.out_channels,
                conv.kernel_size,
                conv.stride,
                conv.kernel_size[0] // 2,
                groups=conv.groups,
                bias=conv.bias is not None,
            )
            plain.load_state_dict(conv.state_dict())
            return plain

        class Detector(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = create_model(
                    config, bench_task="", pretrained=False, pretrained_backbone=False
                )
                for module in self.net.modules():
                    if isinstance(module, FpnCombine) and module.weight_method == "sum":
                        module.__class__ = AddCombine
                    for name, child in module.named_children():
                        if isinstance(child, MaxPool2dSame):  # in a ResampleFeatureMap
                            setattr(module, name, SamePool(module.input_size[0] % 2 == 1))
                        elif isinstance(child, Conv2dSame):
                            setattr(module, name, _symmetric(child))
                        elif isinstance(child, Interpolate2d):  # in a ResampleFeatureMap
                            size = module.output_size
                            setattr(module, name, StaticResize(module.out_channels, size))

            def forward(self, x):
                scores, boxes = self.net(x)
                per_anchor = lambda maps, width: torch.cat(  # noqa: E731
                    [m.permute(0, 2, 3, 1).reshape(1, -1, width) for m in maps], 1
                )
                return per_anchor(boxes, 4), torch.sigmoid(per_anchor(scores, CLASSES))

        return Detector()

    return build


_DIFF = (
    "effdet (efficientdet-pytorch) rebuild of automl's EfficientDet-Lite: same backbone, BiFPN and "
    "heads; BiFPN sums as ADD ops; the 3x3 stride-2 SAME max pools on even sides as 2x2 stride-2 pools "
    "(same output shape); batch norm folded as in the TFLite export"
)
_CORAL = (
    "; post-processing as in coral.ai's compiled files: DEQUANTIZE of boxes and scores and "
    "TFLite_Detection_PostProcess on the CPU"
)
_AUTOML = (
    "; partition as Edge TPU compiler 15 makes it of the automl export: resizes are "
    "RESIZE_NEAREST_NEIGHBOR v3 there (TF2 half-pixel centres), unknown to compiler 15, so the BiFPN "
    "and heads from the first resize on run on the CPU (the benchmark notes 'partially mapped to the "
    "TPU'); the post-processing facts assumed as in the Model Maker export (same automl code)"
)


def _lite(
    config: str, size: int, names: tuple[str, ...], automl: bool = False, arch: str = ""
) -> Arch:
    boxes, scores = anchor_count(size) * 4, anchor_count(size) * CLASSES
    # Settling effdet's batch-norm statistics (build_workloads.settle_batch_norm) makes the exporter
    # write a file onnx-simplifier rejects (a shape conflict), after which onnx2tf misreads layouts;
    # with the statistics untouched the export passes its agreement check, so they stay.
    extra: dict = {"postprocess_float_elements": [boxes, scores], "settle_batch_norm": False}
    extra["depthwise_written_as_grouped"] = True  # build_workloads.as_tf_convolution
    # Boxes kept: Model Maker's EfficientDetSpec writes tflite_max_detections=25 by default (TF Hub's
    # EfficientDet-Lite detection models: "limited to 25"); automl's model_inspect.py 100 when unset.
    extra["postprocess_detections"] = 100 if automl else 25
    if automl:
        extra["partition"] = {"compiler": 15, "op_versions": {"RESIZE_NEAREST_NEIGHBOR": 3}}
        extra["architecture"] = arch  # the same graph as the coral.ai rebuild: one architecture
    return Arch(
        _efficientdet(config),
        size,
        f"effdet 0.4.1 {config} (PyPI; benchmark-time only)",
        names,
        _DIFF + (_AUTOML if automl else _CORAL),
        extra,
    )


DETECTORS: dict[str, Arch] = {
    "efficientdet_lite0_320": _lite(
        "tf_efficientdet_lite0", 320, ("EfficientDet-Lite0 320x320 (TF2) (coral.ai models)",)
    ),
    "efficientdet_lite1_384": _lite(
        "tf_efficientdet_lite1", 384, ("EfficientDet-Lite1 384x384 (TF2) (coral.ai models)",)
    ),
    "efficientdet_lite2_448": _lite(
        "tf_efficientdet_lite2",
        448,
        ("EfficientDet-Lite2 448x448 (TF2) (coral.ai models, via copy)",),
    ),
    "efficientdet_lite3_512": _lite(
        "tf_efficientdet_lite3",
        512,
        ("EfficientDet-Lite3 512x512 (TF2) (coral.ai models, via copy)",),
    ),
    "efficientdet_lite3x_640": _lite(
        "tf_efficientdet_lite3x",
        640,
        ("EfficientDet-Lite3x 640x640 (TF2) (coral.ai models, via copy)",),
    ),
    "efficientdet_lite0_320_automl": _lite(
        "tf_efficientdet_lite0",
        320,
        ("EfficientDet-lite0 320x320 (automl export)",),
        automl=True,
        arch="efficientdet_lite0_320",
    ),
    "efficientdet_lite1_384_automl": _lite(
        "tf_efficientdet_lite1",
        384,
        ("EfficientDet-lite1 384x384 (automl export)",),
        automl=True,
        arch="efficientdet_lite1_384",
    ),
    "efficientdet_lite2_448_automl": _lite(
        "tf_efficientdet_lite2",
        448,
        ("EfficientDet-lite2 448x448 (automl export)",),
        automl=True,
        arch="efficientdet_lite2_448",
    ),
}


def _mobiledet(size: int, names: tuple[str, ...], arch: str = "") -> Arch:
    """SSDLite MobileDet-EdgeTPU (TF1 object-detection zoo): the SSDLite head of the other SSDLite
    rebuilds on the transcribed MobileDet-EdgeTPU backbone."""
    built = _ssd_arch(_mobiledet_edgetpu, size, 91, names, lite=True)
    extra = {**built.extra, **({"architecture": arch} if arch else {})}
    return Arch(
        built.build,
        size,
        "MobileDet-EdgeTPU backbone transcribed from the published layer table "
        "(TF object detection API mobiledet_edgetpu_backbone) + SSDLite head",
        names,
        built.differences,
        extra,
    )


DETECTORS |= {
    "ssdlite_mobiledet_edgetpu_320": _mobiledet(
        320,
        (
            "SSDLite MobileDet 320x320 (TF1) (coral.ai models)",
            "SSDLite MobileDet-EdgeTPU 320x320 (TF1 zoo export)",
            # His Dev Board table says 300x300; his raw log times
            # ssdlite_mobiledet_edgetpu_320x320_quant_coco_edgetpu.tflite ("Interpreter: 1 320 320 3").
            "SSDLite MobileDet-EdgeTPU 300x300 (own export)",
        ),
    ),
}
