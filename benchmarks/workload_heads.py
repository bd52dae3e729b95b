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


def _ssd(backbone: str, size: int, classes: int, anchors: tuple[int, ...], lite: bool = False):
    """TF object-detection SSD shape: two backbone maps (strides 16, 32), four extra 1x1 + 3x3-stride-2
    layers, a 1x1 box and a 1x1 class predictor per map (the TF1 configs' kernel_size 1); the
    post-processing op is added by the builder as one CPU fact. ``lite``: SSDLite, depthwise-separable
    extra layers."""

    def build():
        import timm
        import torch
        from torch import nn

        class SSD(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = timm.create_model(
                    backbone, pretrained=False, features_only=True, out_indices=(3, 4)
                )
                chans = list(self.body.feature_info.channels())
                extras, inputs = [], chans[-1]
                # The last two maps are 2x2 and 1x1: a depthwise conv there exports as a grouped
                # CONV_2D (op version 6, newer than the Edge TPU compiler knows), so plain convs.
                for number, depth in enumerate((512, 256, 256, 128)):
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
