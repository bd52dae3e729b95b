"""The built-in model families: what each one is, which width multipliers (alpha) it offers, and
which timm generator builds it. Data, not code paths: adding a family is adding a row."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from edgedeploy.errors import UsageError

ANY_ALPHA = "any"  # every alpha in (0, 2]
MAX_ALPHA = 2.0
MIN_RESOLUTION, MAX_RESOLUTION = 32, 1024


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    description: str
    generator: str  # "module:function" in timm.models; called with (variant, channel_multiplier)
    variant: str  # the variant string the generator reads (it selects small/large/minimal/edgetpu)
    reference: str  # registered timm name whose pretrained config gives mean/std/crop/interpolation
    alphas: str | tuple[float, ...] = ANY_ALPHA
    pretrained: dict[float, str] = field(
        default_factory=dict
    )  # alpha -> registered timm name with weights
    default_resolution: int = 224

    def check_alpha(self, alpha: float) -> float:
        if isinstance(self.alphas, str):  # ANY_ALPHA, the one string it takes
            if not 0 < alpha <= MAX_ALPHA:
                raise UsageError(
                    f"alpha {alpha:g} is not offered for {self.name}: "
                    f"choose a width multiplier in (0, {MAX_ALPHA:g}]"
                )
        elif not any(abs(alpha - a) < 1e-9 for a in self.alphas):
            offered = ", ".join(f"{a:g}" for a in self.alphas)
            raise UsageError(f"alpha {alpha:g} is not offered for {self.name}: offered {offered}")
        return float(alpha)

    def resolution_for(self, resolution: int | None) -> int:
        """The input size a build uses: ``resolution`` checked, or the family's default."""
        return check_resolution(resolution or self.default_resolution)

    def label(self, alpha: float, resolution: int | None) -> str:
        """The one name of a built-in at an alpha and size (Google's file-name style)."""
        return model_label(self.name, alpha, self.resolution_for(resolution))

    def pretrained_name(self, alpha: float) -> str:
        for published, timm_name in self.pretrained.items():
            if abs(alpha - published) < 1e-9:
                return timm_name
        offered = ", ".join(f"{a:g}" for a in self.pretrained) or "none"
        raise UsageError(
            f"no published pretrained weights for {self.name} at alpha {alpha:g} (published alphas: {offered})",
            "drop --pretrained for random weights, or pass --weights FILE",
        )


_V3 = "mobilenetv3:_gen_mobilenet_v3"
_EFF = "efficientnet:_gen_mobilenet_edgetpu"

BUILTINS: dict[str, BuiltinModel] = {
    m.name: m
    for m in (
        BuiltinModel(
            "mobilenet_v2",
            "MobileNetV2: inverted residuals, ReLU6, 3x3 depthwise",
            "efficientnet:_gen_mobilenet_v2",
            "mobilenetv2",
            "mobilenetv2_100",
            pretrained={
                0.35: "mobilenetv2_035",
                0.5: "mobilenetv2_050",
                0.75: "mobilenetv2_075",
                1.0: "mobilenetv2_100",
                1.4: "mobilenetv2_140",
            },
        ),
        BuiltinModel(
            "mobilenet_v3_small",
            "MobileNetV3-Small: squeeze-and-excite, hard-swish, 5x5 depthwise",
            _V3,
            "mobilenetv3_small",
            "mobilenetv3_small_100",
            pretrained={
                0.5: "mobilenetv3_small_050",
                0.75: "mobilenetv3_small_075",
                1.0: "mobilenetv3_small_100",
            },
        ),
        BuiltinModel(
            "mobilenet_v3_large",
            "MobileNetV3-Large: squeeze-and-excite, hard-swish, 5x5 depthwise",
            _V3,
            "mobilenetv3_large",
            "mobilenetv3_large_100",
            pretrained={0.75: "mobilenetv3_large_075", 1.0: "mobilenetv3_large_100"},
        ),
        BuiltinModel(
            "mobilenet_v3_small_minimal",
            "MobileNetV3-Small minimalistic: no SE, ReLU, 3x3 only",
            _V3,
            "mobilenetv3_small_minimal",
            "tf_mobilenetv3_small_minimal_100",
            pretrained={1.0: "tf_mobilenetv3_small_minimal_100"},
        ),
        BuiltinModel(
            "mobilenet_v3_large_minimal",
            "MobileNetV3-Large minimalistic: no SE, ReLU, 3x3 only",
            _V3,
            "mobilenetv3_large_minimal",
            "tf_mobilenetv3_large_minimal_100",
            pretrained={1.0: "tf_mobilenetv3_large_minimal_100"},
        ),
        BuiltinModel(
            "mobilenet_edgetpu",
            "MobileNetEdgeTPU: fused-conv early stages, ReLU, no SE",
            _EFF,
            "mobilenet_edgetpu",
            "mobilenet_edgetpu_100",
        ),
        # The EdgeTPU-V2 family is scaled by its named sizes, not by a width multiplier.
        *(
            BuiltinModel(
                f"mobilenet_edgetpu_v2_{size}",
                f"MobileNetEdgeTPU-V2-{size.upper()}: grouped fused convs, ReLU",
                _EFF,
                f"mobilenet_edgetpu_v2_{size}",
                f"mobilenet_edgetpu_v2_{size}",
                alphas=(1.0,),
            )
            for size in ("xs", "s", "m", "l")
        ),
    )
}


def get_builtin(name: str) -> BuiltinModel:
    try:
        return BUILTINS[name]
    except KeyError:
        close = difflib.get_close_matches(name, BUILTINS, n=3, cutoff=0.5)
        hint = (
            f"did you mean {', '.join(close)}?" if close else "run 'edgedeploy models' for the list"
        )
        raise UsageError(f"unknown model '{name}'", hint) from None


def check_resolution(resolution: int) -> int:
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise UsageError(
            f"resolution {resolution} is out of range: choose {MIN_RESOLUTION}..{MAX_RESOLUTION} pixels"
        )
    return int(resolution)


def format_alpha(alpha: float) -> str:
    """1.0 -> '1.0', 0.25 -> '0.25', 0.5 -> '0.5' (Google's file-name style: mobilenet_v2_1.0_224)."""
    text = f"{alpha:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def model_label(name: str, alpha: float, resolution: int) -> str:
    """mobilenet_v2, 0.5, 160 -> 'mobilenet_v2_0.5_160': every command names a built-in this way."""
    return f"{name}_{format_alpha(alpha)}_{resolution}"
