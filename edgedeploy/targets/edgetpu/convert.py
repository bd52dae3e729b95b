"""The Edge TPU end of ``convert``: predict the mapping of the int8 model, then compile it.

Requires: a full-int8 TFLite file on disk (the pipeline's last artifact).
Ensures: the prediction as report data; after a compile, ``<stem>_edgetpu.tflite`` (a real TFLite file
written by the compiler), its ``<stem>_edgetpu.log`` and the compiler's stdout/stderr among the files
to publish.

A missing compiler is not a failed conversion: the int8 model and the prediction are still delivered,
the outcome says exactly what is missing and how to get it, and its exit code says so (5); --no-compile
makes stopping after int8 a plain success. A compiler that fails (6) keeps its logs, never a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from edgedeploy.errors import ExitCode, ToolMissingError
from edgedeploy.report import command_line
from edgedeploy.targets.contract import StepOutcome
from edgedeploy.targets.edgetpu.check import check_model
from edgedeploy.targets.edgetpu.compiler.options import options_from
from edgedeploy.targets.edgetpu.naming import OUTPUT_PATTERNS

PREDICT_STAGE = "edgetpu-predict"
COMPILE_STAGE = "edgetpu-compile"


class EdgeTpuConvertStep:
    predict_stage_name = PREDICT_STAGE
    compile_stage_name = COMPILE_STAGE

    def predict(self, int8: Path, options: Mapping[str, Any]) -> dict[str, Any]:
        prediction = check_model(int8, min_runtime=options.get("min_runtime")).to_dict()
        prediction["path"] = int8.name  # the scratch path means nothing to the user
        return prediction

    def compile(
        self,
        int8: Path,
        workdir: Path,
        options: Mapping[str, Any],
        *,
        enabled: bool = True,
        publish_to: Path | None = None,
    ) -> StepOutcome:
        """Compile into ``workdir``. ``enabled`` False is --no-compile: stopping after int8 is success.
        ``publish_to``: the output folder the files are moved to; the report's paths name it."""
        from edgedeploy.targets.edgetpu.compiler.compile import (
            STDERR_FILE,
            STDOUT_FILE,
            compile_models,
        )

        if not enabled:
            return StepOutcome(
                "skipped",
                {"status": "skipped", "reason": "--no-compile: stopped after the int8 model"},
            )
        try:
            report = compile_models([int8], workdir, options_from(options), predict=check_model)
        except ToolMissingError as missing:
            return StepOutcome(
                "not-run",
                {"status": "not-run", "reason": missing.message, "how_to_get_it": missing.hint},
                missing.exit_code,
            )
        files = [
            p
            for pattern in (*OUTPUT_PATTERNS, STDOUT_FILE, STDERR_FILE)
            for p in sorted(workdir.glob(pattern))
        ]
        if publish_to is not None:
            report.relocate(Path(workdir).resolve(), Path(publish_to).resolve())
        data = report.to_dict()
        if report.failure is not None:
            files = [
                p for p in files if p.suffix != ".tflite"
            ]  # a failed run publishes logs, never a model
            return StepOutcome(
                "failed",
                {
                    "status": "failed",
                    "reason": report.failure.reason,
                    "advice": report.failure.advice,
                    "report": data,
                },
                ExitCode.COMPILER_FAILED,
                files,
                result=report,
            )
        notes = [
            f"edgetpu compile: {line}" for result in report.models for line in result.warnings()
        ]
        return StepOutcome(
            "compiled",
            {"status": "compiled", "model": report.models[0].compiled[0].name, "report": data},
            ExitCode.OK,
            files,
            notes,
            result=report,
        )

    def render(
        self, console: Console, data: Mapping[str, Any], int8: Path, result: Any = None
    ) -> None:
        """The terminal lines ``convert`` shows for this step's report data."""
        prediction, compiled = data.get("prediction"), data.get("compile", {})
        if prediction:
            console.print(
                f"[bold]Edge TPU prediction[/bold] ({escape(prediction['rules'])}): "
                f"{escape(prediction['verdict'])}"
            )
            for finding in prediction["findings"]:
                fix = (
                    f" [dim]Fix: {escape(finding['fix'])}[/dim]" if finding.get("fix") else ""
                )  # no empty "Fix:"
                console.print(
                    f"  - {escape(finding['title'])} (x{finding['count']}): {escape(finding['consequence'])}{fix}"
                )
            console.print("  details per operator:")
            command_line(console, f"edgedeploy check {int8}")
        status = compiled.get("status")
        if status == "compiled":
            console.print(
                f"[bold]Edge TPU compile[/bold]: [green]compiled[/green] -> {escape(compiled['model'])}"
            )
        elif status == "failed":
            console.print(
                f"[bold]Edge TPU compile[/bold]: [red]failed[/red]: {escape(compiled['reason'])} "
                "(the compiler's output is kept in the output directory)"
            )
            if compiled.get("advice"):
                console.print(f"[bold]what to do:[/] {escape(compiled['advice'])}")
        if status in ("compiled", "failed") and result is not None:
            result.render_models(
                console
            )  # what the compiler did, beside the prediction, as `compile` shows it
        elif status == "not-run":
            console.print(
                f"[bold]Edge TPU compile[/bold]: [yellow]not run[/yellow]: {escape(compiled['reason'])}"
            )
            if compiled.get("how_to_get_it"):
                console.print(f"  {escape(compiled['how_to_get_it'])}")
            console.print(
                "  The int8 model and the predicted mapping above were written; "
                "--no-compile stops after int8 with exit 0."
            )
        elif status == "skipped":
            console.print(f"[bold]Edge TPU compile[/bold]: skipped ({escape(compiled['reason'])})")
