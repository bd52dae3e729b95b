"""Our own mapping prediction for each compiled model, set beside the compiler's.

The predictor (``check.check_model``) is handed in by whoever asks for the compile (convert, the
``compile`` capability): the compiler package sits below check and does not import it. A prediction
that cannot be made (the predictor refuses the model) is a note in the report, never a reason to fail
a compile that worked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from edgedeploy.errors import EdgedeployError
from edgedeploy.targets.edgetpu.compiler.compare import PredictedOp, compare
from edgedeploy.targets.edgetpu.compiler.report import ModelResult


class OpPredictions(Protocol):
    """What this module reads of a ``CheckResult`` (named structurally: check sits above the compiler)."""

    def predictions(self) -> list[tuple[int, str, str, str]]: ...


def predicted_ops(check_report: OpPredictions) -> list[PredictedOp]:
    """The per-operator predictions of a ``CheckResult`` as (op type, on TPU?, reason)."""
    # "risky" (supported, but verify with the compiler) counts as predicted on the Edge TPU
    return [
        PredictedOp(
            op=op,
            on_tpu=verdict != "cpu",
            reason={"tpu": "", "cpu": reason}.get(verdict, f"{verdict}: {reason}"),
        )
        for _, op, verdict, reason in check_report.predictions()
    ]


# check_model(path, min_runtime=..., compiler_version=...) -> a CheckResult
Predictor = Callable[..., OpPredictions]


def attach_predictions(
    results: Sequence[ModelResult],
    check_model: Predictor,
    compiler_major: int | None = None,
    min_runtime: int | None = None,
) -> None:
    """Predict with the rules of the compiler that actually ran (and the same ``--min-runtime``)."""
    for result in results:
        try:
            rules = {"compiler_version": compiler_major} if compiler_major is not None else {}
            prediction = predicted_ops(check_model(result.input, min_runtime=min_runtime, **rules))
        except (
            EdgedeployError,
            KeyError,
            ValueError,
        ) as exc:  # e.g. no rules for this compiler version
            result.prediction_note = f"no prediction for this model: {exc}"
            continue
        except Exception as exc:  # noqa: BLE001 - a predictor bug must not cost the user a compile that worked
            result.prediction_note = (
                f"no prediction for this model (predictor failure {type(exc).__name__}: {exc})"
            )
            continue
        result.comparison = compare(prediction, result.compiler)
