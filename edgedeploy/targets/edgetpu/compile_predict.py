"""Our own mapping prediction (``check_model``) for each compiled model, set beside the compiler's.

A prediction that cannot be made (the predictor refuses the model) is a note in the report, never a
reason to fail a compile that worked.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgedeploy.errors import EdgedeployError
from edgedeploy.targets.edgetpu.compile_compare import PredictedOp, compare
from edgedeploy.targets.edgetpu.compile_report import ModelResult


def predicted_ops(check_report: object) -> list[PredictedOp]:
    """The per-operator predictions of a ``CheckReport`` as (op type, on TPU?, reason)."""
    # "risky" (supported, but verify with the compiler) counts as predicted on the Edge TPU
    return [PredictedOp(op=op, on_tpu=verdict != "cpu", reason="" if verdict == "tpu" else f"{verdict}: {reason}")
            for _, op, verdict, reason in check_report.predictions()]


def attach_predictions(results: Sequence[ModelResult]) -> None:
    try:
        from edgedeploy.targets.edgetpu.check import check_model
    except ImportError as exc:  # the predictor is not part of this build
        for result in results:
            result.prediction_note = f"the mapping predictor is not available ({exc})"
        return
    for result in results:
        try:
            prediction = predicted_ops(check_model(result.input))
        except EdgedeployError as exc:
            result.prediction_note = f"no prediction for this model: {exc}"
            continue
        result.comparison = compare(prediction, result.compiler)
