"""SSD SpaghettiNet-EdgeTPU S / M / L, rebuilt for ``build_workloads.py`` from the published definition
(TF object detection API: ``models/ssd_spaghettinet_feature_extractor.py``, node specs
``_spaghettinet_edgetpu_s/m/l``; head from ``configs/tf1/ssd_spaghettinet_edgetpu_320x320_coco17_sync_4x4
.config``). The node tables below are transcribed from those specs into our own PyTorch code.

The measured graphs are Nobuo Tsukamoto's own TF1 exports (Dev Board, compiler 16). His table calls them
300x300, but his raw logs (``results/DevBoard/latency_*.txt``: "Interpreter: 1 320 320 3") show 320x320
inputs, the config's own size: they are rebuilt at 320. The
default export (TFLite_Detection_PostProcess on the CPU, max_detections 10), one without the
post-processing op, and max_detections 25 / 50 / 100. One conversion per network; each export is a
description of its own (the custom op or not, ``max_detections`` in provenance), all of one
architecture for leave-one-architecture-out.
"""

from __future__ import annotations

from workload_archs import Arch

CLASSES = 91  # COCO's 90 + background (the config's num_classes 90; TF adds the background slot)
ANCHORS = (3, 6, 6, 6, 6)  # ssd_anchor_generator, 5 layers, 5 aspect ratios + 1 interpolated scale;
# the lowest layer reduced to 3 boxes (reduce_boxes_in_lowest_layer, the default)
OUTPUTS = ("c0n1", "c0n2", "c0n3", "c0n4", "c0n5")
SIZE = 320  # the measured exports' input (raw logs), the config's image size

# Layers: ("ibn", kernel, expansion of the node's filters, stride, residual);
# ("fused", kernel, expansion of an input group's channels, stride, groups, residual);
# ("sep", kernel, stride, residual).
# Nodes: name -> (level, filters, inputs, layers). One input: a passthrough edge (no resampling);
# two: both resampled to the node's level by a 1x1 conv (and nearest upsampling or max pooling),
# cropped to the lower-level input's size, summed, ReLU6. The stem: a 5x5 stride-2 conv of 24.
_SHARED_TOP = ("n0", (2, 48, ("s0",), (("fused", 3, 8, 2, 3, False),)))


def _ibn(k, e, s=1, r=True):
    return ("ibn", k, e, s, r)


def _fused(k, e, s=1, g=4, r=True):
    return ("fused", k, e, s, g, r)


def _sep(k, s=1, r=True):
    return ("sep", k, s, r)


SPAGHETTINET_S = dict(
    [
        _SHARED_TOP,
        ("n1", (3, 64, ("n0",), (_fused(3, 4, 2, r=False), _fused(3, 4), _fused(3, 4)))),
        ("n2", (4, 72, ("n1",), (_ibn(3, 8, 2, False), _fused(3, 8), _ibn(3, 8), _ibn(3, 4)))),
        ("n3", (5, 88, ("n2",), (_ibn(3, 8, 2, False), _ibn(3, 8), _ibn(3, 4), _ibn(3, 4)))),
        ("n4", (6, 88, ("n3",), (_ibn(3, 8, 2, False), _sep(5), _sep(5), _sep(5)))),
        ("n5", (7, 88, ("n4",), (_sep(5, 2, False), _sep(3)))),
        ("c0n0", (5, 144, ("n3", "n4"), (_ibn(3, 4, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4)))),
        (
            "c0n1",
            (4, 120, ("n2", "c0n0"), (_ibn(3, 8, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4))),
        ),
        ("c0n2", (5, 168, ("c0n1", "c0n0"), (_ibn(3, 4, r=False),))),
        ("c0n3", (6, 136, ("n5", "c0n0"), (_ibn(3, 4, r=False), _sep(3)))),
        ("c0n4", (7, 136, ("n5", "c0n0"), (_ibn(3, 4, r=False),))),
        ("c0n5", (8, 64, ("c0n4",), (_sep(3, r=False), _sep(3)))),
    ]
)
SPAGHETTINET_M = dict(
    [
        _SHARED_TOP,
        ("n1", (3, 64, ("n0",), (_fused(3, 8, 2, r=False),) + (_fused(3, 4),) * 3)),
        ("n2", (4, 72, ("n1",), (_ibn(3, 8, 2, False), _fused(3, 8), _ibn(3, 8), _ibn(3, 8)))),
        ("n3", (5, 96, ("n2",), (_ibn(3, 8, 2, False), _ibn(3, 8), _ibn(3, 8), _ibn(3, 4)))),
        ("n4", (6, 104, ("n3",), (_ibn(3, 8, 2, False), _ibn(3, 4), _sep(5), _ibn(3, 4)))),
        ("n5", (7, 56, ("n4",), (_sep(5, 2, False), _sep(3)))),
        ("c0n0", (5, 152, ("n3", "n4"), (_ibn(3, 8, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4)))),
        (
            "c0n1",
            (4, 120, ("n2", "c0n0"), (_ibn(3, 8, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4))),
        ),
        ("c0n2", (5, 168, ("c0n1", "c0n0"), (_ibn(3, 4, r=False), _sep(3)))),
        ("c0n3", (6, 136, ("n5", "c0n0"), (_sep(3, r=False), _sep(3), _sep(3)))),
        ("c0n4", (7, 136, ("n5", "c0n0"), (_ibn(3, 4, r=False), _sep(5)))),
        ("c0n5", (8, 64, ("c0n4",), (_sep(3, r=False), _sep(3)))),
    ]
)
SPAGHETTINET_L = dict(
    [
        _SHARED_TOP,
        (
            "n1",
            (3, 64, ("n0",), (_fused(3, 8, 2, r=False), _fused(3, 8), _fused(3, 8), _fused(3, 4))),
        ),
        ("n2", (4, 80, ("n1",), (_ibn(3, 8, 2, False), _ibn(3, 8), _ibn(3, 8), _ibn(3, 4)))),
        ("n3", (5, 104, ("n2",), (_ibn(3, 8, 2, False), _ibn(3, 8), _ibn(3, 8), _ibn(3, 8)))),
        ("n4", (6, 88, ("n3",), (_ibn(3, 8, 2, False), _ibn(5, 4), _ibn(3, 4), _ibn(3, 8)))),
        ("n5", (7, 56, ("n4",), (_ibn(5, 4, 2, False), _sep(5)))),
        ("c0n0", (5, 160, ("n3", "n4"), (_ibn(3, 8, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4)))),
        (
            "c0n1",
            (4, 120, ("n2", "c0n0"), (_ibn(3, 8, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 8))),
        ),
        (
            "c0n2",
            (5, 168, ("c0n1", "c0n0"), (_ibn(3, 4, r=False), _ibn(3, 4), _ibn(3, 4), _ibn(3, 4))),
        ),
        ("c0n3", (6, 112, ("n5", "c0n0"), (_ibn(3, 8, r=False), _ibn(3, 4), _sep(3)))),
        ("c0n4", (7, 128, ("n5", "c0n0"), (_ibn(3, 4, r=False), _ibn(3, 4)))),
        ("c0n5", (8, 64, ("c0n4",), (_sep(5, r=False), _sep(5)))),
    ]
)
LEVEL = {"s0": 1}  # the stem's level (stride 2)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def node_sides(nodes: dict, size: int) -> dict[str, int]:
    """Each node's side at input ``size`` (TF 'SAME': a stride-s layer gives ceil(side / s); an edge
    upsampled 2^d times multiplies it, pooled 2^d divides it rounding up; a node takes the size of
    its lower-level input's edge)."""
    sides, levels = (
        {"s0": _ceil(size, 2)},
        {"s0": LEVEL["s0"], **{n: v[0] for n, v in nodes.items()}},
    )
    for name, (level, _, inputs, layers) in nodes.items():
        if len(inputs) == 1:
            side = sides[inputs[0]]
        else:
            low = min(inputs, key=lambda i: levels[i])
            side = _edge_side(sides[low], levels[low], level)
        for layer in layers:
            side = _ceil(side, layer[3] if layer[0] != "sep" else layer[2])
        sides[name] = side
    return sides


def _edge_side(side: int, from_level: int, to_level: int) -> int:
    if to_level < from_level:
        return side * 2 ** (from_level - to_level)
    return _ceil(side, 2 ** (to_level - from_level))


def anchor_count(nodes: dict, size: int) -> int:
    sides = node_sides(nodes, size)
    return sum(sides[o] ** 2 * a for o, a in zip(OUTPUTS, ANCHORS, strict=True))


def _same_pool(side: int, ratio: int):
    """TF's (ratio + 1) x (ratio + 1) stride-ratio 'SAME' max pool. Where SAME pads both sides
    alike, the same pool padded so (the converter writes SAME, no pad op). Where it pads one pixel
    more after (an even side), no PyTorch pool exports without a pad op (a padded max pool becomes a
    PADV2, which the Edge TPU compiler does not know and which would send the rest of the graph to
    the CPU): an unpadded pool of the same output shape stands in (the estimate reads a pool's
    activation bytes, not its window)."""
    from torch import nn

    kernel, out = ratio + 1, _ceil(side, ratio)
    total = max((out - 1) * ratio + kernel - side, 0)
    if total % 2 == 0:
        return nn.MaxPool2d(kernel, ratio, total // 2)
    return nn.MaxPool2d(side - (out - 1) * ratio, ratio)


def _spaghettinet_ssd(nodes: dict, size: int):
    """The detector: SpaghettiNet body, then per output map a box and a class predictor, each a 3x3
    depthwise conv (batch norm, ReLU6: the config's conv_hyperparams) and a 1x1 conv (the config:
    kernel_size 3, use_depthwise, no layers before the predictor); boxes and sigmoid scores per
    anchor, as the TFLite export has them before its post-processing op."""

    def build():
        import torch
        from torch import nn

        def conv(cin, cout, k=1, stride=1, groups=1, act=True, norm=True):
            layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=not norm)]
            layers += [nn.BatchNorm2d(cout)] if norm else []
            return nn.Sequential(*layers, *([nn.ReLU6()] if act else []))

        class Fused(nn.Module):
            """IbnFusedGrouped: the input sliced into channel groups, a k x k conv per group
            (expansion x the group's channels), concatenated, a linear 1x1 projection. Slices and
            separate convs, as TF writes them: a grouped CONV_2D is an op the compiler refuses."""

            def __init__(self, cin, cout, k, e, s, groups):
                super().__init__()
                self.width = cin // groups
                self.convs = nn.ModuleList(
                    conv(self.width, self.width * e, k, s) for _ in range(groups)
                )
                self.project = conv(self.width * e * groups, cout, act=False)

            def forward(self, x):
                groups = torch.split(x, self.width, 1)
                parts = [c(g) for c, g in zip(self.convs, groups, strict=True)]
                return self.project(torch.cat(parts, 1))

        def layer(spec, cin, cout):
            if spec[0] == "ibn":  # 1x1 expansion (of the node's filters), depthwise, 1x1 linear
                _, k, e, s, _ = spec
                wide = cout * e
                parts = [conv(cin, wide), conv(wide, wide, k, s, wide), conv(wide, cout, act=False)]
                return nn.Sequential(*parts)
            if spec[0] == "fused":
                _, k, e, s, groups, _ = spec
                return Fused(cin, cout, k, e, s, groups)
            _, k, s, _ = spec  # sep: depthwise with bias (no norm, no activation), 1x1 + ReLU6
            return nn.Sequential(conv(cin, cin, k, s, cin, act=False, norm=False), conv(cin, cout))

        class Edge(nn.Module):
            """A resampling edge: 1x1 conv (batch norm, linear) then nearest upsampling, or a
            (ratio + 1) max pool of stride ratio ('SAME') then the 1x1 conv; cropped to ``crop``
            (the node's side, that of its lower-level input's edge)."""

            def __init__(self, cin, cout, from_level, to_level, side_in, crop):
                super().__init__()
                ratio = 2 ** abs(to_level - from_level)
                self.conv = conv(cin, cout, act=False)
                # Upsampling by 2^d then cropping to ``crop`` (TF) picks the same rows and columns as
                # one nearest resize to ``crop`` (floor(i * side_in / crop) = floor(i / 2^d) there):
                # written so, as onnx2tf misplaces the axes of a spatial crop after a resize.
                up = min(side_in * ratio, crop)
                self.up = nn.Upsample(size=(up, up)) if to_level < from_level else None
                self.pool = _same_pool(side_in, ratio) if to_level > from_level else None

            def forward(self, x):
                if self.pool is not None:
                    x = self.pool(x)
                x = self.conv(x)
                if self.up is not None:
                    x = self.up(x)
                return x

        class Node(nn.Module):
            def __init__(self, name, inputs_channels):
                super().__init__()
                level, cout, inputs, layers = nodes[name]
                self.inputs = inputs
                self.edges = None
                if len(inputs) > 1:
                    self.edges = nn.ModuleList(
                        Edge(inputs_channels[i], cout, levels[i], level, sides[i], sides[name])
                        for i in inputs
                    )
                cin = inputs_channels[inputs[0]] if len(inputs) == 1 else cout
                built = []
                for spec in layers:
                    built.append(layer(spec, cin, cout))
                    cin = cout
                self.layers = nn.ModuleList(built)
                self.residual = [spec[-1] for spec in layers]

            def forward(self, outputs):
                if self.edges is None:
                    x = outputs[self.inputs[0]]
                else:
                    edges = [e(outputs[i]) for e, i in zip(self.edges, self.inputs, strict=True)]
                    x = nn.functional.relu6(sum(edges[1:], edges[0]))
                for body, residual in zip(self.layers, self.residual, strict=True):
                    x = body(x) + x if residual else body(x)
                return x

        sides = node_sides(nodes, size)
        levels = {"s0": LEVEL["s0"], **{n: v[0] for n, v in nodes.items()}}

        class Detector(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = conv(3, 24, 5, 2)
                channels = {"s0": 24}
                self.nodes = nn.ModuleDict()
                for name, spec in nodes.items():
                    self.nodes[name] = Node(name, channels)
                    channels[name] = spec[1]
                outs = [channels[o] for o in OUTPUTS]

                def head(width):
                    return nn.ModuleList(
                        nn.Sequential(conv(c, c, 3, 1, c), nn.Conv2d(c, a * width, 1))
                        for c, a in zip(outs, ANCHORS, strict=True)
                    )

                self.boxes, self.scores = head(4), head(CLASSES)

            def forward(self, x):
                outputs = {"s0": self.stem(x)}
                for name, node in self.nodes.items():
                    outputs[name] = node(outputs)
                maps = [outputs[o] for o in OUTPUTS]

                def per_anchor(heads, width):
                    return torch.cat(
                        [
                            h(m).permute(0, 2, 3, 1).reshape(1, -1, width)
                            for h, m in zip(heads, maps, strict=True)
                        ],
                        1,
                    )

                return per_anchor(self.boxes, 4), torch.sigmoid(per_anchor(self.scores, CLASSES))

        return Detector()

    return build


_SOURCE = (
    "SpaghettiNet-EdgeTPU-{} node specs transcribed from the TF object detection API + SSD head"
)
_DIFF = (
    "SpaghettiNet-EdgeTPU-{} transcribed from the published node specs (TF object detection API "
    "ssd_spaghettinet_feature_extractor.py) and the SSD config (5 maps c0n1 ... c0n5, 3 / 6 anchors, "
    "3x3 depthwise + 1x1 box and class predictors, 91 classes), rebuilt in PyTorch at the measured "
    "export's 320x320 (the raw logs' input; the table says 300x300); its MACs and parameters are "
    "the config's published figures within 4%. Differences: TF's no-op slices of the summed edges "
    "are not written; one upsampled edge (3x3 to 5x5) is not an integer scale, a resize the mapping "
    "prediction marks 'risky' and assumes maps; the max pools whose 'SAME' padding is "
    "one-sided (even sides) are unpadded pools of the same output shape, the stride-2 convs on even "
    "sides a PAD (on the Edge TPU) and a VALID conv, as in the other rebuilds; onnx2tf writes 5 "
    "TRANSPOSE ops around the channel-group slices of a residual IbnFusedGrouped layer of n1 (one "
    "layer in S, two in M and L), which TF's graph has not; batch norm folded as in the TFLite "
    "export; the depthwise convs onnx2tf writes as grouped CONV_2D are read as DEPTHWISE_CONV_2D "
    "(as_tf_convolution)"
)
_NOTE = (
    "Nobuo Tsukamoto's own TF1 export, timed on a Coral Dev Board (compiler 16); his table says "
    "300x300, his raw logs show a 320x320 input"
)


def _variants(letter: str, nodes: dict) -> dict[str, Arch]:
    """The five measured exports of one SpaghettiNet: the default (max_detections 10), 25 / 50 /
    100 detections (the same custom op reading the same bytes: what it costs more is the CPU's
    non-maximum suppression, priced per box kept: ``OpFact.detections``) and without
    post-processing."""
    arch = f"ssd_spaghettinet_edgetpu_{letter.lower()}_{SIZE}"
    model = f"SpaghettiNet for EdgeTpu {letter} 300x300"  # the published name (measurements.json)
    anchors = anchor_count(nodes, SIZE)
    read = anchors * (4 + CLASSES)  # uint8 boxes and scores per anchor
    build, source = _spaghettinet_ssd(nodes, SIZE), _SOURCE.format(letter)
    # Settling the batch-norm statistics (build_workloads.settle_batch_norm) makes the exporter write
    # a file onnx-simplifier rejects, after which onnx2tf misreads layouts (as for EfficientDet-Lite);
    # untouched, the export passes its agreement check.
    common = {"architecture": arch, "depthwise_written_as_grouped": True, "anchors": anchors}
    common["settle_batch_norm"] = False
    out = {}
    for detections in (10, 25, 50, 100):
        name = arch if detections == 10 else f"{arch}_max{detections}"
        label = "" if detections == 10 else f", max_detection={detections}"
        extra = {**common, "postprocess_input_bytes": read, "max_detections": detections}
        extra["postprocess_detections"] = detections  # one class a box, as the SSD exports
        out[name] = Arch(
            build,
            SIZE,
            source,
            (f"{model}{label} (own export)",),
            _DIFF.format(letter) + "; TFLite_Detection_PostProcess (CPU) added as one fact",
            {**extra, "measured_as_notes": {f"{model}{label} (own export)": _NOTE}},
        )
    unprocessed = f"{model}, no post-processing (own export)"
    out[f"{arch}_no_postprocess"] = Arch(
        build,
        SIZE,
        source,
        (unprocessed,),
        _DIFF.format(letter) + "; no post-processing op (the export without it)",
        {**common, "measured_as_notes": {unprocessed: _NOTE}},
    )
    return out


SPAGHETTINETS: dict[str, Arch] = {
    **_variants("S", SPAGHETTINET_S),
    **_variants("M", SPAGHETTINET_M),
    **_variants("L", SPAGHETTINET_L),
}
