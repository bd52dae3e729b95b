"""Builders of the detection and segmentation architectures ``workload_archs.py`` rebuilds: the TF
object-detection SSD / SSDLite heads on a timm backbone, and the TF tutorial's MobileNetV2 U-Net."""

from __future__ import annotations


def _unet(size: int):
    """The TF pix2pix-tutorial U-Net Coral compiled: MobileNetV2 encoder, 4 transposed-conv up blocks."""

    def build():
        import timm
        import torch
        from torch import nn

        class UNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = timm.create_model(
                    "mobilenetv2_100",
                    pretrained=False,
                    features_only=True,
                    out_indices=(0, 1, 2, 3, 4),
                )
                chans = self.encoder.feature_info.channels()  # 16, 24, 32, 96, 320
                ups, inputs = [], chans[4]
                for skip, filters in zip(reversed(chans[:4]), (512, 256, 128, 64), strict=True):
                    ups.append(
                        nn.Sequential(
                            nn.ConvTranspose2d(inputs, filters, 3, 2, 1, output_padding=1),
                            nn.BatchNorm2d(filters),
                            nn.ReLU(),
                        )
                    )
                    inputs = filters + skip
                self.ups = nn.ModuleList(ups)
                self.last = nn.ConvTranspose2d(inputs, 3, 3, 2, 1, output_padding=1)

            def forward(self, x):
                features = self.encoder(x)
                x = features[4]
                for up, skip in zip(self.ups, reversed(features[:4]), strict=True):
                    x = torch.cat([up(x), skip], 1)
                return self.last(x)

        return UNet()

    return build


def _ssd(
    backbone,
    size: int,
    classes: int,
    anchors: tuple[int, ...],
    lite: bool = False,
    depths: tuple[int, ...] = (512, 256, 256, 128),
):
    """TF object-detection SSD shape: two backbone maps (strides 16, 32), four extra 1x1 + 3x3-stride-2
    layers, a 1x1 box and a 1x1 class predictor per map (the TF1 configs' kernel_size 1); the
    post-processing op is added by the builder as one CPU fact. ``lite``: SSDLite, depthwise-separable
    extra layers. ``depths``: of the extra layers (TF scales them by the depth multiplier).
    ``backbone``: a timm name, or a builder of a module returning the two maps whose ``channels``
    attribute gives their depths."""

    def build():
        import timm
        import torch
        from torch import nn

        class SSD(nn.Module):
            def __init__(self):
                super().__init__()
                if callable(backbone):
                    self.body = backbone()
                    chans = list(self.body.channels)
                else:
                    self.body = timm.create_model(
                        backbone, pretrained=False, features_only=True, out_indices=(3, 4)
                    )
                    chans = list(self.body.feature_info.channels())
                extras, inputs = [], chans[-1]
                # The last two maps are 2x2 and 1x1: a depthwise conv there exports as a grouped
                # CONV_2D (op version 6, newer than the Edge TPU compiler knows), so plain convs.
                for number, depth in enumerate(depths):
                    down = (
                        [
                            nn.Conv2d(depth // 2, depth // 2, 3, 2, 1, groups=depth // 2),
                            nn.ReLU6(),
                            nn.Conv2d(depth // 2, depth, 1),
                        ]
                        if lite and number < 2
                        else [nn.Conv2d(depth // 2, depth, 3, 2, 1)]
                    )
                    extras.append(
                        nn.Sequential(
                            nn.Conv2d(inputs, depth // 2, 1), nn.ReLU6(), *down, nn.ReLU6()
                        )
                    )
                    inputs = depth
                    chans.append(depth)
                self.extras = nn.ModuleList(extras)

                # Predictors are 1x1 convs in both: SSDLite's 3x3 depthwise before them exports as a
                # grouped CONV_2D (op version 6, newer than the Edge TPU compiler knows) on the
                # 19x19 map; it adds few MACs.
                pairs = list(zip(chans, anchors, strict=True))
                self.boxes = nn.ModuleList(nn.Conv2d(c, a * 4, 1) for c, a in pairs)
                self.scores = nn.ModuleList(nn.Conv2d(c, a * classes, 1) for c, a in pairs)

            def forward(self, x):
                maps = list(self.body(x))
                y = maps[-1]
                for extra in self.extras:
                    y = extra(y)
                    maps.append(y)
                boxes = torch.cat(
                    [b(m).flatten(1) for b, m in zip(self.boxes, maps, strict=True)], 1
                )
                scores = torch.cat(
                    [s(m).flatten(1) for s, m in zip(self.scores, maps, strict=True)], 1
                )
                return boxes, torch.sigmoid(scores)

        return SSD()

    return build


def _ssd_anchor_bytes(size: int, classes: int, anchors: tuple[int, ...]) -> int:
    """Bytes of boxes + scores the post-processing op reads (maps at /16 and /32, then halving)."""
    side, total = -(-size // 16), 0
    for a in anchors:
        total += side * side * a
        side = -(-side // 2)
    return total * (4 + classes)


# MobileDet-EdgeTPU's backbone, transcribed from the layer table of the MobileDets paper's published
# definition (TF object detection API, ``mobiledet_edgetpu_backbone``): (block, filters, expansion or
# (input rank, output rank) ratios, kernel, stride, residual). Stem: a 3x3 stride-2 conv of 32.
_MOBILEDET_EDGETPU = (
    ("tucker", 16, (0.25, 0.75), 3, 1, False),  # C1
    ("fused", 16, 8, 3, 2, False),
    ("fused", 16, 4, 3, 1, True),
    ("fused", 16, 8, 3, 1, True),
    ("fused", 16, 4, 3, 1, True),  # C2
    ("fused", 40, 8, 5, 2, False),
    ("fused", 40, 4, 3, 1, True),
    ("fused", 40, 4, 3, 1, True),
    ("fused", 40, 4, 3, 1, True),  # C3
    ("ibn", 72, 8, 3, 2, False),
    ("ibn", 72, 8, 3, 1, True),
    ("fused", 72, 4, 3, 1, True),
    ("fused", 72, 4, 3, 1, True),
    ("ibn", 96, 8, 5, 1, False),
    ("ibn", 96, 8, 5, 1, True),
    ("ibn", 96, 8, 3, 1, True),
    ("ibn", 96, 8, 3, 1, True),  # C4: stride 16
    ("ibn", 120, 8, 5, 2, False),
    ("ibn", 120, 8, 3, 1, True),
    ("ibn", 120, 4, 5, 1, True),
    ("ibn", 120, 8, 3, 1, True),
    ("ibn", 384, 8, 5, 1, False),  # C5: stride 32
)
_C4_BLOCKS = 17  # blocks up to and including C4


def _scaled(filters: float, base: int = 8) -> int:
    """Channel counts rounded half-up to a multiple of 8, as the MobileDet definition does."""
    return max(int(filters / base + 0.5) * base, base)


def _mobiledet_edgetpu():
    """MobileDet-EdgeTPU backbone (C4 and C5 maps): conv + batch norm + ReLU6 everywhere, the last
    1x1 of every block linear; fused blocks are a k x k expansion conv then a 1x1 projection,
    inverted bottlenecks 1x1 / depthwise k x k / 1x1, Tucker blocks 1x1 / k x k / 1x1 at reduced ranks."""
    from torch import nn

    def conv(cin, cout, k, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)]
        layers.append(nn.BatchNorm2d(cout))
        return nn.Sequential(*layers, nn.ReLU6()) if act else nn.Sequential(*layers)

    class Block(nn.Module):
        def __init__(self, kind, cin, cout, ratio, k, stride, residual):
            super().__init__()
            if kind == "tucker":
                rin, rout = _scaled(cin * ratio[0]), _scaled(cout * ratio[1])
                parts = [
                    conv(cin, rin, 1),
                    conv(rin, rout, k, stride),
                    conv(rout, cout, 1, act=False),
                ]
            elif kind == "fused":
                parts = [conv(cin, cin * ratio, k, stride), conv(cin * ratio, cout, 1, act=False)]
            else:
                wide = cin * ratio
                parts = [conv(cin, wide, 1), conv(wide, wide, k, stride, groups=wide)]
                parts.append(conv(wide, cout, 1, act=False))
            self.body, self.residual = nn.Sequential(*parts), residual

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    class Backbone(nn.Module):
        channels = (96, 384)

        def __init__(self):
            super().__init__()
            blocks, cin = [conv(3, 32, 3, 2)], 32
            for kind, cout, ratio, k, stride, residual in _MOBILEDET_EDGETPU:
                blocks.append(Block(kind, cin, cout, ratio, k, stride, residual))
                cin = cout
            self.to_c4 = nn.Sequential(*blocks[: _C4_BLOCKS + 1])
            self.to_c5 = nn.Sequential(*blocks[_C4_BLOCKS + 1 :])

        def forward(self, x):
            c4 = self.to_c4(x)
            return [c4, self.to_c5(c4)]

    return Backbone()


def _mobilenet_v1_maps(alpha: float):
    """timm's MobileNet V1 at depth ``alpha``, its stride-16 and stride-32 maps (TF's SSD MobileNet V1
    reads Conv2d_11_pointwise and Conv2d_13_pointwise)."""

    def build():
        from timm.models.efficientnet import _gen_mobilenet_v1

        body = _gen_mobilenet_v1(
            "mobilenetv1_100",
            channel_multiplier=alpha,
            pretrained=False,
            features_only=True,
            out_indices=(3, 4),
        )
        body.channels = tuple(body.feature_info.channels())
        return body

    return build
