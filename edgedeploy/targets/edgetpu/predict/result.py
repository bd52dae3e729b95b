"""``CheckResult``: the one result object of ``edgedeploy check`` (schema: edgedeploy/docs/check-schema.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgedeploy.errors import ExitCode
from edgedeploy.report import fmt_bytes, fmt_count, plural, print_wrapped
from edgedeploy.targets.contract import FindingBrief, MappingSummary
from edgedeploy.targets.edgetpu.predict.operators import OpPrediction

SCHEMA_VERSION = 1
_VERDICT_STYLE = {"tpu": "green", "cpu": "red", "risky": "yellow"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@dataclass
class Finding:
    kind: str  # hard-swish | swish | squeeze-excite | kernel-5x5 | cpu-op | dynamic-shape | parameter-cache | ...
    severity: str  # error (ops fall back / compile fails) | warning (risky) | info
    title: str
    count: int
    ops: list[int]  # op indices where it occurs (anchors), ascending
    consequence: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Summary:
    total_ops: int | None = None
    tpu_ops: int | None = None
    cpu_ops: int | None = None
    risky_ops: int | None = None
    first_cut_op: int | None = None  # index of the op that cuts the graph (None: no cut)
    macs_total: int | None = None
    macs_tpu: int | None = None
    tpu_mac_share: float | None = None  # 0..1
    param_bytes_total: int | None = None
    param_bytes_tpu: int | None = None
    on_chip_cache_bytes: int | None = None
    on_chip_used_bytes: int | None = None  # compiled models and compiler logs only
    off_chip_bytes: int | None = None
    params_stream: bool | None = None  # parameters predicted / known to stream from the host
    compile_fails: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    kind: str  # tflite | compiled | onnx | compiler-log
    path: str
    rules: str  # which rules were applied ("Edge TPU compiler 16 rules, min runtime 14 ...")
    compiler_version: int
    min_runtime: int
    ops: list[OpPrediction] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    verdict: str = ""
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(
        default_factory=dict
    )  # kind-specific: package, compiler output, recovery
    failed: bool = False  # compiler-log reports: the compiler itself failed
    show_all_ops: bool = (
        False  # render(): list every op, not only those that do not map (JSON always has all)
    )
    estimate: dict[str, Any] | None = (
        None  # the latency estimate's brief, when the check command made one
    )

    @property
    def exit_code(self) -> ExitCode:
        if self.failed:
            return ExitCode.COMPILER_FAILED
        if self.summary.compile_fails or (self.summary.cpu_ops or 0) > 0:
            return ExitCode.OPS_ON_CPU
        return ExitCode.OK

    def predictions(self) -> list[tuple[int, str, str, str]]:
        """(index, op, verdict, reason) per op: what the compile stage compares with the compiler's table."""
        return [(p.index, p.op, p.verdict, p.reason) for p in self.ops]

    def op_counts(self) -> dict[str, dict[str, int]]:
        """Per op type {"tpu": n, "cpu": m} (risky counted as tpu), comparable with CompilerOutput.op_counts()."""
        counts: dict[str, dict[str, int]] = {}
        for p in self.ops:
            slot = counts.setdefault(p.op, {"tpu": 0, "cpu": 0})
            slot["cpu" if p.verdict == "cpu" else "tpu"] += p.count
        return counts

    def mapping(self, target: str) -> MappingSummary:
        """The target-neutral summary other commands (compare, limits) read."""
        s = self.summary
        return MappingSummary(
            target=target,
            source=f"predicted ({self.rules})",
            verdict=self.verdict,
            total_ops=s.total_ops or 0,
            mapped_ops=s.tpu_ops,
            cpu_ops=s.cpu_ops,
            risky_ops=s.risky_ops,
            mapped_mac_share=s.tpu_mac_share,
            macs_total=s.macs_total,
            first_cut_op=s.first_cut_op,
            params_stream=s.params_stream,
            findings=tuple(FindingBrief(f.severity, f.title, f.count) for f in self.findings),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "path": self.path,
            "target": "edgetpu",
            "rules": self.rules,
            "compiler_version": self.compiler_version,
            "min_runtime": self.min_runtime,
            "verdict": self.verdict,
            "exit_code": int(self.exit_code),
            "summary": self.summary.to_dict(),
            "ops": [p.to_dict() for p in self.ops],
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
            "details": self.details,
            "estimate": self.estimate,
        }

    def render(self, console: Console) -> None:
        console.print(f"[bold]{escape(self.path)}[/bold] ({self.kind}; {escape(self.rules)})")
        shown = (
            self.ops
            if self.show_all_ops or self.kind == "compiler-log"
            else [p for p in self.ops if p.verdict != "tpu"]
        )
        if shown:
            if self._table_width(shown) <= console.width:
                console.print(self._ops_table(shown))
            else:  # a narrow terminal: one op per line, its tensors on the next, never folded mid-shape
                self._ops_list(console, shown)
        hidden = len(self.ops) - len(shown)
        if hidden:
            verb, be = ("maps", "is") if hidden == 1 else ("map", "are")
            console.print(
                f"[dim]{plural(hidden, 'op')} that {verb} to the Edge TPU {be} not listed "
                "(--all-ops lists them)[/dim]"
            )
        for finding in self.findings:
            style = _SEVERITY_STYLE.get(finding.severity, "")
            where = f" at op {_ops_text(finding.ops)}" if finding.ops else ""
            console.print(
                f"[{style}]{finding.severity}[/{style}] {escape(finding.title)} (x{finding.count}{where})"
            )
            if finding.consequence:
                console.print(f"    consequence: {escape(finding.consequence)}")
            if finding.fix:
                console.print(f"    fix: {escape(finding.fix)}")
        console.print(self._summary_line())
        for line in (self.estimate or {}).get("lines", []):
            console.print(f"[cyan]{escape(line)}[/cyan]")
        for note in self.notes:
            print_wrapped(console, note, marker="[dim]note:[/dim] ", style="dim")
        style = "green" if self.exit_code == ExitCode.OK else "bold red"
        console.print(f"[{style}]{escape(self.verdict)}[/{style}]")

    def _ops_table(self, ops: list[OpPrediction]) -> Table:
        # index, op, verdict and reason never wrap; the shapes column takes what width is left
        table = Table(show_edge=False, pad_edge=False, header_style="bold", box=None)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("op", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        table.add_column("reason", no_wrap=True)
        table.add_column("input -> output", overflow="fold")
        for p in ops:
            style = _VERDICT_STYLE.get(p.verdict, "")
            reason = p.reason + (f" (op {p.caused_by})" if p.caused_by is not None else "")
            name = (
                p.op
                + (f" v{p.version}" if p.version else "")
                + (f" x{p.count}" if p.count > 1 else "")
            )
            shapes = (
                f"{_io_text(p.inputs)} -> {_io_text(p.outputs)}" if p.inputs or p.outputs else ""
            )
            table.add_row(
                str(p.index),
                escape(name),
                f"[{style}]{p.verdict}[/{style}]",
                escape(reason),
                shapes,
            )
        return table

    @staticmethod
    def _table_width(ops: list[OpPrediction]) -> int:
        """Columns the table needs to show every cell unfolded (a padding of 2 between columns)."""
        rows = [
            (
                str(p.index),
                p.op + f" v{p.version}" + (f" x{p.count}" if p.count > 1 else ""),
                p.verdict,
                p.reason + (f" (op {p.caused_by})" if p.caused_by is not None else ""),
                f"{_io_text(p.inputs)} -> {_io_text(p.outputs)}",
            )
            for p in ops
        ]
        headers = ("#", "op", "verdict", "reason", "input -> output")
        return sum(max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)) + 2 * (
            len(headers) - 1
        )

    def _ops_list(self, console: Console, ops: list[OpPrediction]) -> None:
        width = max(len(str(p.index)) for p in ops)
        for p in ops:
            style = _VERDICT_STYLE.get(p.verdict, "")
            reason = p.reason + (f" (op {p.caused_by})" if p.caused_by is not None else "")
            name = (
                p.op
                + (f" v{p.version}" if p.version else "")
                + (f" x{p.count}" if p.count > 1 else "")
            )
            console.print(
                f"{p.index:>{width}}  {escape(name)}  [{style}]{p.verdict}[/{style}]  {escape(reason)}",
                soft_wrap=True,
            )
            if p.inputs or p.outputs:
                console.print(
                    f"{'':>{width}}  {_io_text(p.inputs)} -> {_io_text(p.outputs)}",
                    soft_wrap=True,
                    markup=False,
                )

    def _summary_line(self) -> str:
        s = self.summary
        parts = []
        if s.total_ops is not None:
            parts.append(
                f"ops: {s.tpu_ops if s.tpu_ops is not None else '?'} TPU / "
                f"{s.cpu_ops if s.cpu_ops is not None else '?'} CPU / {s.risky_ops or 0} risky of {s.total_ops}"
            )
        if s.tpu_mac_share is not None:
            parts.append(f"MACs on TPU: {s.tpu_mac_share:.1%} of {fmt_count(s.macs_total)}")
        if s.param_bytes_tpu is not None:
            parts.append(
                f"TPU parameters: {fmt_bytes(s.param_bytes_tpu)} (on-chip cache ~{fmt_bytes(s.on_chip_cache_bytes)})"
            )
        if s.on_chip_used_bytes is not None:
            parts.append(
                f"on-chip: {fmt_bytes(s.on_chip_used_bytes)}, off-chip: {fmt_bytes(s.off_chip_bytes)}"
            )
        return "; ".join(parts)


def _io_text(tensors: list[dict]) -> str:
    """The first tensor (``int8[1,56,56,16]``), and how many more there are."""
    if not tensors:
        return "-"
    first = f"{tensors[0]['dtype']}{tensors[0]['shape']}".replace(" ", "")
    return first + (f" +{len(tensors) - 1}" if len(tensors) > 1 else "")


def _ops_text(ops: list[int]) -> str:
    shown = ", ".join(map(str, ops[:6]))
    return shown + (", ..." if len(ops) > 6 else "")
