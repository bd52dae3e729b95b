"""What the compiler-output parser (``log.py``) gives: the parsed run as plain data.

``CompilerOutput.to_dict()`` is the JSON that ``check`` and ``compile`` report; the parser itself and how it
reads each line are in ``log.py`` (which re-exports these names).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class OperatorStatus:
    """One row of the compiler's ``Operator  Count  Status`` table."""

    op: str
    count: int
    status: str  # the compiler's text, verbatim
    reason: str  # stable code from STATUS_REASONS, or "unknown-status"

    @property
    def mapped(self) -> bool:
        return self.reason == "mapped"


@dataclass
class CompilerFailure:
    code: str  # dynamic-tensors | large-activations | not-quantized | invalid-model | internal-error |
    #            timeout | compilation-failed | unrecognised-output | empty-output
    message: str  # the compiler's own line(s), or what we could not recognise


@dataclass
class SearchAttempt:
    """One ``-d`` attempt: ``Try to compile segment with N ops`` and what came of it."""

    ops: int
    intermediate_tensors: list[str] = field(default_factory=list)
    outcome: str = "unknown"  # succeeded | failed | unknown (output ends before the attempt does)
    failure: str | None = None  # failure code when it failed


@dataclass
class CompilerOutput:
    source: str = "stdout"  # "stdout" or "log" (the *_edgetpu.log format)
    recognised: bool = False
    compiler_version: str | None = None  # "16.0.384591198"
    compiler_major: int | None = None  # 16
    succeeded: bool | None = None  # None: the text does not say (a .log file, a fragment)
    failure: CompilerFailure | None = None
    input_model: str | None = None
    output_model: str | None = None
    input_size_bytes: int | None = None
    output_size_bytes: int | None = None
    on_chip_used_bytes: int | None = None
    on_chip_remaining_bytes: int | None = None
    off_chip_bytes: int | None = None
    subgraphs: int | None = None
    total_ops: int | None = None
    tpu_ops: int | None = None
    cpu_ops: int | None = None
    compile_ms: int | None = None
    log_path: str | None = None
    search_step: int | None = None  # -d / -k
    search_attempts: list[SearchAttempt] = field(default_factory=list)
    operators: list[OperatorStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is missing or inconsistent in the text

    def op_counts(self) -> dict[str, dict[str, int]]:
        """Per op type: {"tpu": mapped count, "cpu": everything else}, summed over table rows."""
        counts: dict[str, dict[str, int]] = {}
        for row in self.operators:
            slot = counts.setdefault(row.op, {"tpu": 0, "cpu": 0})
            slot["tpu" if row.mapped else "cpu"] += row.count
        return counts

    def invariant_problems(self) -> list[str]:
        """docs/edgetpu.md section 7: rows sum to the total; Mapped rows sum to the Edge TPU count."""
        if not self.operators:
            return []
        problems = []
        row_sum = sum(r.count for r in self.operators)
        mapped_sum = sum(r.count for r in self.operators if r.mapped)
        if self.total_ops is not None and row_sum != self.total_ops:
            problems.append(
                f"operator table sums to {row_sum} ops but the total is {self.total_ops}"
            )
        if self.tpu_ops is not None and mapped_sum != self.tpu_ops:
            problems.append(
                f"'Mapped to Edge TPU' rows sum to {mapped_sum} but {self.tpu_ops} ops run on the Edge TPU"
            )
        return problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["operators"] = [dict(asdict(r), mapped=r.mapped) for r in self.operators]
        data["op_counts"] = self.op_counts()
        data["invariant_problems"] = self.invariant_problems()
        return data
