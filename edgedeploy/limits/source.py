"""The model a scan is about: a built-in family (any alpha, any size) or an ONNX file whose height and
width are dynamic (or fixed: then only its own size can be analysed).

For the fast analysis each alpha of a built-in is exported to ONNX once, with dynamic height and
width, exactly as ``convert`` exports it otherwise (opset 17, constant folding, the legacy exporter).
The module is built on PyTorch's meta device and given placeholder weights: shapes and parameter
counts do not depend on their values, and no time goes into initialising them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgedeploy.errors import UsageError
from edgedeploy.limits.onnx_shapes import Skeleton
from edgedeploy.limits.plan import (
    DEFAULT_RESOLUTIONS,
    Size,
    parse_alphas,
    parse_resolutions,
    points,
)
from edgedeploy.models.registry import BUILTINS, get_builtin

EXPORT_OPSET = 17  # what convert exports with by default (ConvertOptions.opset)


@dataclass
class ScanSource:
    name: str
    builtin: bool
    path: Path | None = None
    fixed_size: tuple[int, int] | None = None  # an ONNX file with a fixed input size
    channels: int = 3

    def skeleton(self, alpha: float | None) -> Skeleton:
        if self.path is not None:  # a file (a built-in has no path)
            return Skeleton.from_file(self.path)
        if alpha is None:
            raise ValueError(f"the built-in {self.name} is exported at a given alpha, not None")
        return Skeleton.from_model(
            _export_builtin(self.name, alpha), f"{self.name} alpha {alpha:g}"
        )

    def convert_spec(self) -> str:
        return self.name if self.builtin else str(self.path)


def _export_builtin(name: str, alpha: float) -> Any:
    import onnx
    import torch

    from edgedeploy.models.zoo import meta_module

    spec = get_builtin(name)
    module = meta_module(name, alpha).to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*module.parameters(), *module.buffers()):
            tensor.fill_(0.01) if tensor.is_floating_point() else tensor.zero_()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, spec.default_resolution, spec.default_resolution),),
            buffer,  # type: ignore[arg-type]  # torch's hint omits the file objects its docs accept
            opset_version=EXPORT_OPSET,
            dynamo=False,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {2: "height", 3: "width"}},
        )
    return onnx.load_from_string(buffer.getvalue())


def resolve(
    model: str, alphas: str | None, resolutions: str | None
) -> tuple[ScanSource, list[Size]]:
    """The source and the grid of points, or a usage error (exit 2) saying what cannot be scanned."""
    from edgedeploy.converters.sources import looks_like_path

    path = Path(model)
    if model in BUILTINS and not path.exists():
        spec = get_builtin(model)
        if alphas is None:
            chosen = (
                tuple(sorted(spec.pretrained))
                if spec.alphas == "any" and spec.pretrained
                else (1.0,)
            )
        else:
            chosen = tuple(spec.check_alpha(a) for a in parse_alphas(alphas))
        sizes = parse_resolutions(resolutions or DEFAULT_RESOLUTIONS)
        return ScanSource(model, True), points(chosen, tuple((s, s) for s in sizes))
    if not (path.exists() or looks_like_path(model)):
        get_builtin(model)  # an unknown name: its usage error, with close matches
    if path.suffix.lower() != ".onnx":
        raise UsageError(
            f"{model}: limits analyses built-in models and .onnx files",
            "export the model to ONNX with dynamic height and width",
        )
    if alphas is not None:
        raise UsageError("--alphas goes with a built-in model; an ONNX file has one width")
    skeleton = Skeleton.from_file(path)
    image = skeleton.image
    source = ScanSource(path.stem, False, path, channels=image.channels)
    fixed = image.fixed_size
    if fixed is None:  # resizable
        sizes = parse_resolutions(resolutions or DEFAULT_RESOLUTIONS)
        return source, points((None,), tuple((s, s) for s in sizes))
    source.fixed_size = fixed
    if resolutions is not None and (
        fixed[0] != fixed[1] or parse_resolutions(resolutions) != (fixed[0],)
    ):
        raise UsageError(
            f"{path} has a fixed input size {fixed[0]}x{fixed[1]}: it cannot be analysed at other "
            "sizes",
            "export it with dynamic height and width, or leave out --resolutions",
        )
    return source, points((None,), (fixed,))
