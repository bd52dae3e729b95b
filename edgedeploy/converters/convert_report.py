"""The result of `edgedeploy convert`: written as report.json, rendered as tables, printed by --json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.converters.calibration import ImageSet
from edgedeploy.converters.context import ConvertOptions
from edgedeploy.errors import ExitCode
from edgedeploy.outputs import atomic_write_text
from edgedeploy.report import envelope_json, fmt_bytes, fmt_count, print_wrapped
from edgedeploy.targets.registry import DEFAULT_TARGET

REPORT_NAME = "report.json"


@dataclass
class StageRecord:
    name: str
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConvertResult:
    spec: str
    model: str
    details: dict[str, Any]
    options: ConvertOptions
    stages: list[StageRecord]
    images: ImageSet
    notes: list[str]
    fidelity: dict[str, Any]
    tools: dict[str, str | None]
    preprocessing: dict[str, Any]
    output_dir: Path
    outputs: dict[str, str]
    float32: dict[str, Any]
    int8: dict[str, Any]
    target: str = DEFAULT_TARGET  # the registry name of --target
    target_report: dict[str, Any] = field(
        default_factory=dict
    )  # the target's prediction and compile results
    target_result: Any = (
        None  # the target step's own result object (rendering only; not in report.json)
    )
    wall_seconds: float = 0.0
    exit_code: ExitCode = ExitCode.OK

    def finish(self, staging: Path, wall_seconds: float) -> None:
        self.wall_seconds = wall_seconds
        if self.options.fix_activations and self.int8["unmapped_activation_ops"]:
            self.notes.append(
                "--fix-activations: TensorFlow's converter still emitted "
                f"{self.int8['unmapped_activation_ops']}; these stay on the CPU"
            )
        atomic_write_text(staging / REPORT_NAME, envelope_json("convert", self.to_dict()))

    def to_dict(self) -> dict[str, Any]:
        options = {k: v for k, v in vars(self.options).items()}
        return {
            "kind": "convert",
            "input": self.spec,
            "model": self.model,
            "model_details": self.details,
            "target": self.options.target,
            "options": options,
            "output_dir": str(self.output_dir),
            "outputs": self.outputs,
            "preprocessing": self.preprocessing,
            "calibration": {
                "source": self.images.source,
                "images": self.images.calibration_files,
                "samples": 2 * len(self.images.calibration),
                "held_back": self.images.held_back_files,
            },
            "stages": [
                {"name": s.name, "seconds": round(s.seconds, 3), **s.details} for s in self.stages
            ],
            "wall_seconds": round(self.wall_seconds, 3),
            "tools": self.tools,
            "float32": self.float32,
            "int8": self.int8,
            "fidelity": self.fidelity,
            self.target: self.target_report,
            "notes": self.notes,
        }

    def render(self, console: Console) -> None:
        console.print(
            f"[bold]{self.model}[/bold] -> {self.output_dir}  ({self.wall_seconds:.1f} s)"
        )
        if self.details.get("params"):
            console.print(
                f"params {fmt_count(self.details['params'])}, MACs {fmt_count(self.details['macs'])}"
            )
        stages = Table(box=box.SIMPLE_HEAD, title="Stages", title_justify="left")
        stages.add_column("stage")
        stages.add_column("seconds", justify="right")
        for stage in self.stages:
            stages.add_row(stage.name, f"{stage.seconds:.1f}")
        console.print(stages)
        self._render_io(console)
        self._render_fidelity(console)
        self._render_target(console)
        files = Table(
            box=box.SIMPLE_HEAD, title=f"Outputs in {self.output_dir}", title_justify="left"
        )
        files.add_column("file")
        files.add_column("size", justify="right")
        for path in sorted(self.output_dir.iterdir()) if self.output_dir.is_dir() else []:
            if path.is_file():
                files.add_row(path.name, fmt_bytes(path.stat().st_size))
        console.print(files)
        if "sidecar" in self.outputs:
            console.print(
                f"deploy: {escape(self.outputs['sidecar'])} says how to feed the model and read its output; "
                f"try: python {escape(str(self.output_dir / self.outputs['example']))} PHOTO"
            )
        for line in self.notes:
            print_wrapped(console, line, marker="[dim]note:[/dim] ")

    def _render_target(self, console: Console) -> None:
        from edgedeploy.targets.registry import get_target

        make_step = get_target(self.target, "convert_step").convert_step
        assert make_step is not None  # get_target refuses a target without the capability
        make_step().render(
            console,
            self.target_report,
            self.output_dir / self.outputs["int8_tflite"],
            self.target_result,
        )

    def _render_io(self, console: Console) -> None:
        table = Table(box=box.SIMPLE_HEAD, title="int8 model", title_justify="left")
        for column in ("tensor", "shape", "dtype", "scale", "zero point"):
            table.add_column(column)
        for role in ("inputs", "outputs"):
            for t in self.int8[role]:
                scale = f"{t['scale']:.6g}" if isinstance(t["scale"], float) else "per-channel"
                table.add_row(
                    f"{role[:-1]} {t['name']}",
                    "x".join(map(str, t["shape"])),
                    t["dtype"],
                    scale,
                    str(t["zero_point"]),
                )
        console.print(table)
        ops = ", ".join(f"{op} {n}" for op, n in self.int8["op_histogram"].items())
        console.print(f"ops ({self.int8['ops']}): {ops}")
        floats = self.int8["float_activation_tensors"]
        console.print(
            f"float tensors: {len(floats) if floats else 'none'};  TRANSPOSE ops: {self.int8['transpose_ops']}"
        )

    def _render_fidelity(self, console: Console) -> None:
        fid = self.fidelity
        if not fid.get("measured"):
            console.print(f"fidelity: not measured ({fid.get('reason')})")
            return
        table = Table(
            box=box.SIMPLE_HEAD,
            title=f"Fidelity on {fid['images']} held-back images",
            title_justify="left",
        )
        table.add_column("comparison")
        table.add_column("value", justify="right")
        for key in (
            "keras_vs_float_tflite_max_abs_diff",
            "pytorch_vs_onnx_max_abs_diff",
            "onnx_vs_float_tflite_max_abs_diff",
            "pytorch_vs_float_tflite_max_abs_diff",
        ):
            if key in fid:
                table.add_row(
                    key.replace("_max_abs_diff", "").replace("_", " ") + " (max abs diff)",
                    f"{fid[key]:.3g}",
                )
        for key, value in fid["int8_vs_float_tflite"].items():
            table.add_row(f"int8 vs float TFLite {key.replace('_', ' ')}", f"{value:.4f}")
        console.print(table)
