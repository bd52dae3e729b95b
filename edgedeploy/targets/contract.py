"""The target contract: what a target (the CPU, an accelerator) offers every command, defined once.

A target is one package under ``edgedeploy/targets/<name>/`` whose ``__init__`` exposes ``TARGET``, a
``TargetSpec``: its name and aliases, one-line summary, and the capabilities it has - an op-mapping
``check``, a ``compile`` step, a ``convert_step`` run after the int8 model, a bench ``runtime`` (whose
``availability()`` is the doctor), how its compiled models are recognised and named, and the
command-line options only it takes (``TargetOption``: the CLI adds them to the commands they name and
passes their values on untouched). Commands resolve ``--target`` through ``edgedeploy.targets.registry``
and never import a target package by name.

A bench runtime says whether it can run here and why not, which variants a run measures (the CPU at N
threads and at 1), which file of a model it runs, and loads that file into a ``LoadedModel`` whose
``invoke`` is the one call the harness times.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edgedeploy.errors import InputError
from edgedeploy.targets.model_file import ModelFile, TensorSpec
from edgedeploy.targets.point_facts import PointFacts


@dataclass(frozen=True)
class TargetOptions:
    """Every runtime setting the command line offers; each target takes the ones it understands."""

    threads: tuple[int, ...] | None = None  # None: each target's default (cpu: all cores and 1)
    xnnpack: bool = True
    device: str | None = None  # accelerator device string (Edge TPU: usb, usb:N, pci, pci:N, :N)
    library: str | None = (
        None  # accelerator runtime library to load instead of the platform default
    )
    # Runtime settings from options a target declared itself (TargetSpec.options) that are none of the
    # above: {keyword: value}, read by that target's runtime.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, **settings: Any) -> TargetOptions:
        """The options from the command line's settings: the fields above by name, the rest ``extra``."""
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            **{key: value for key, value in settings.items() if key in known},
            extra={key: value for key, value in settings.items() if key not in known},
        )


@dataclass(frozen=True)
class TargetOption:
    """A command-line option only this target takes, declared by the target (``TargetSpec.options``):
    the command line adds it to the commands named in ``commands``, and its value reaches the target as
    the keyword ``name`` (a capability's option, or a runtime setting in ``TargetOptions``)."""

    name: str  # the keyword: "compiler_version"
    flags: tuple[str, ...]  # ("--min-runtime", "-m"): the long name first
    help: str
    commands: tuple[str, ...]  # the commands that offer it: ("check", "convert")
    value_type: type[Any] = str  # str, int, float, bool or Path (bool: a flag)
    default: Any = None  # None / False: not set (the target's own default applies)
    metavar: str | None = None
    # Validates (and may normalise) the value when the command line is parsed, before any work:
    # raises UsageError. Called with the default too.
    check: Callable[[Any], Any] | None = None


class NeedsCompilation(InputError):
    """The target runs a compiled form of this model that does not exist yet. ``compile()`` makes it
    (bench --compile); without that, this is the one-line error that says how."""

    def __init__(self, message: str, hint: str, compile: Callable[[], ModelFile]):
        super().__init__(message, hint)
        self.compile = compile


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str | None = None  # why not, one line the user can act on
    details: dict[str, Any] = field(
        default_factory=dict
    )  # what was found: library, devices, versions (JSON); "checks": the target's own doctor checks
    found: tuple[
        str, ...
    ] = ()  # the same facts for the terminal, one per line, in the runtime's words

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason, "details": self.details}


@dataclass(frozen=True)
class Variant:
    """One column of the comparison table: a target with fixed settings."""

    target: str  # registry name: "cpu", "coral"
    label: str  # "cpu x2", "cpu x1", "coral usb:0"
    settings: dict[str, Any]  # {"threads": 2, "xnnpack": True}


@dataclass
class LoadedModel:
    interpreter: Any
    inputs: tuple[TensorSpec, ...]
    load_seconds: float  # interpreter + delegate creation and tensor allocation
    details: dict[str, Any] = field(
        default_factory=dict
    )  # measured at load: delegate partitions, device
    keepalive: list[Any] = field(default_factory=list)  # delegates must outlive the interpreter

    @property
    def invoke(self) -> Callable[[], None]:
        invoke: Callable[[], None] = self.interpreter.invoke
        return invoke

    def set_inputs(self, arrays: list[np.ndarray[Any, Any]]) -> None:
        for spec, array in zip(self.inputs, arrays):
            self.interpreter.set_tensor(spec.index, array)

    def close(self) -> None:
        # The interpreter goes first: a delegate freed under a live interpreter crashes the process.
        self.interpreter = None
        self.keepalive.clear()


class BenchRuntime(Protocol):
    name: str
    summary: str

    def availability(self) -> Availability: ...

    def variants(self) -> list[Variant]: ...

    def model_for(self, model: ModelFile) -> ModelFile:
        """The file this target runs for ``model`` (maybe its compiled or source twin); InputError if none."""
        ...

    def load(self, model: ModelFile, variant: Variant) -> LoadedModel: ...


class ConvertStep(Protocol):
    """What a target adds to ``convert`` after the int8 model: its mapping prediction, then its compile."""

    predict_stage_name: str
    compile_stage_name: str

    def predict(self, int8: Path, options: Mapping[str, Any]) -> dict[str, Any]:
        """The op-mapping prediction for ``int8`` as report data."""
        ...

    def compile(
        self,
        int8: Path,
        workdir: Path,
        options: Mapping[str, Any],
        *,
        enabled: bool = True,
        publish_to: Path | None = None,
    ) -> "StepOutcome":
        """Compile ``int8`` into ``workdir``; a missing tool or a failed compile is an outcome, not an error.
        ``publish_to``: where the files will end up, so that the report's paths name it, not ``workdir``."""
        ...

    def render(self, console: Any, data: Mapping[str, Any], int8: Path, result: Any = None) -> None:
        """The terminal lines ``convert`` shows for the step's report data."""
        ...


@dataclass
class StepOutcome:
    """How a convert step's compile ended: report data, the exit code it implies, and files to publish."""

    status: str  # compiled | skipped | not-run | failed
    data: dict[str, Any]
    exit_code: int = 0
    files: list[Path] = field(
        default_factory=list
    )  # written in the working folder; copied to the output
    notes: list[str] = field(default_factory=list)
    result: Any = None  # the step's own result object, for rendering (not serialised)


@dataclass(frozen=True)
class FindingBrief:
    """One finding of a check, as other commands list it."""

    severity: str  # error | warning | info
    title: str
    count: int


@dataclass(frozen=True)
class MappingSummary:
    """How much of a model a target's check predicts it runs, in words every command can use without
    knowing the target: ``compare`` columns, ``limits`` points and recommendations read this, never the
    target's own report. ``mapped`` = on the accelerator; ``cpu`` = falls back to the host."""

    target: str  # registry name of the target that made the prediction
    source: str  # how it was obtained: "predicted (<rules>)"
    verdict: str
    total_ops: int
    mapped_ops: int | None
    cpu_ops: int | None
    risky_ops: int | None
    mapped_mac_share: float | None  # 0..1
    macs_total: int | None
    first_cut_op: int | None  # the op where the graph leaves the accelerator (None: no cut)
    params_stream: bool | None  # parameters predicted to stream from the host every inference
    findings: tuple[FindingBrief, ...] = ()

    @property
    def mapped_op_share(self) -> float | None:
        if not self.total_ops or self.mapped_ops is None:
            return None
        return self.mapped_ops / self.total_ops

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "source": self.source,
            "verdict": self.verdict,
            "total_ops": self.total_ops,
            "mapped_ops": self.mapped_ops,
            "cpu_ops": self.cpu_ops,
            "risky_ops": self.risky_ops,
            "mapped_op_share": self.mapped_op_share,
            "mapped_mac_share": self.mapped_mac_share,
            "macs_total": self.macs_total,
            "first_cut_op": self.first_cut_op,
            "params_stream": self.params_stream,
            "findings": [
                {"severity": f.severity, "title": f.title, "count": f.count} for f in self.findings
            ],
        }


@dataclass(frozen=True)
class EstimateBrief:
    """A target's latency estimate as other commands show it (what its estimate's ``brief()`` returns;
    ``from_brief`` reads it back from a saved results.json): every number labelled estimated, never
    measured. ``error``: why there is none (then every number is None)."""

    latency_ms: float | None = None
    latency_ms_low: float | None = None
    latency_ms_high: float | None = None
    host: str | None = None  # the host profile it was estimated for
    lines: tuple[str, ...] = ()  # the terminal lines the target words it in
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # the rest of the brief, for the JSON

    NUMBERS = ("latency_ms", "latency_ms_low", "latency_ms_high")

    @property
    def estimated(self) -> bool:
        """Whether there is a latency with its range (not an error)."""
        return None not in (self.latency_ms, self.latency_ms_low, self.latency_ms_high)

    def range_ms(self) -> tuple[float, float, float] | None:
        """(latency, low, high) in ms when there is an estimate, else None."""
        if self.latency_ms is None or self.latency_ms_low is None or self.latency_ms_high is None:
            return None
        return self.latency_ms, self.latency_ms_low, self.latency_ms_high

    @classmethod
    def from_brief(cls, brief: Mapping[str, Any]) -> EstimateBrief:
        """The brief's JSON (or a row of an earlier results.json) as a typed object."""
        known = (*cls.NUMBERS, "host", "lines", "error", "label")
        numbers = {key: _number(brief.get(key)) for key in cls.NUMBERS}
        return cls(
            **numbers,
            host=None if brief.get("host") is None else str(brief["host"]),
            lines=tuple(str(line) for line in brief.get("lines") or ()),
            error=None if brief.get("error") is None else str(brief["error"]),
            details={key: value for key, value in brief.items() if key not in known},
        )

    @classmethod
    def failed(cls, message: str) -> EstimateBrief:
        return cls(error=message, lines=(f"no latency estimate: {message}",))

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"label": "estimated", "error": self.error}
        numbers = {key: getattr(self, key) for key in self.NUMBERS}
        return {
            "label": "estimated",
            **numbers,
            "host": self.host,
            **self.details,
            "lines": list(self.lines),
        }


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class CommandResult(Protocol):
    """What a capability that answers a command returns: the exit code it implies, its JSON document
    (``to_dict``: the JSON edge) and its terminal rendering."""

    @property
    def exit_code(self) -> int: ...

    def to_dict(self) -> dict[str, Any]: ...

    def render(self, console: Any) -> None: ...


class CheckCapabilityResult(CommandResult, Protocol):
    """A target's ``check``: its own report and the target-neutral summary other commands read."""

    def mapping(self, target: str) -> MappingSummary: ...


class EstimateCapabilityResult(CommandResult, Protocol):
    """A target's ``estimate``: its report, and the typed brief other commands show."""

    def brief(self) -> EstimateBrief: ...


@dataclass(frozen=True)
class DeviceDelegate:
    """How the ``infer.py`` that ``convert`` writes runs a model compiled for this target on the device
    (the script is written once for every target that declares one): the compiled twin's file name
    suffix, the LiteRT delegate library per operating system (``platform.system()``; "Linux" is the
    fallback) and the name its messages use."""

    compiled_suffix: str  # X.tflite -> X<suffix>
    libraries: Mapping[str, str]
    name: str

    def __post_init__(self) -> None:
        # infer.py falls back to the Linux library on other systems: without one, fail at import
        if "Linux" not in self.libraries:
            raise ValueError(
                f"device delegate {self.name!r} declares no Linux library (the fallback)"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "compiled_suffix": self.compiled_suffix,
            "libraries": dict(self.libraries),
            "name": self.name,
        }


@dataclass(frozen=True)
class TargetSpec:
    """One target, as every command sees it. Capabilities a target lacks are None."""

    name: str
    summary: str
    aliases: tuple[str, ...] = ()
    title: str = ""  # how sentences name it ("the Edge TPU"); default: the name
    heading: str = ""  # column and plot titles ("Edge TPU"); default: the name
    abbreviation: str = ""  # narrow table headers ("TPU"); default: the heading
    ray_resource: str | None = None  # custom Ray resource of a node that has this device attached
    batch: int | None = None  # the only batch size the target runs (None: any)
    device_syntax: str | None = None  # how --device names one of its devices (None: no choice)
    options: tuple[TargetOption, ...] = ()  # the command-line options only this target takes
    # bench; its availability() is the doctor
    runtime: Callable[[TargetOptions], BenchRuntime] | None = None
    # Capabilities take the command's options as keywords (registry.call_capability checks them).
    check: Callable[..., CheckCapabilityResult] | None = None  # check(path, **options)
    compile: Callable[..., CommandResult] | None = None  # compile(models, out_dir, **options)
    # estimate(path, **options): latency without a device; estimate(None, **options): what the target
    # answers without a model when the options ask for it (a listing, a calibration), else None
    estimate: Callable[..., EstimateCapabilityResult | None] | None = None
    limits: Callable[..., PointFacts] | None = None  # limits(graph, label=..., **options)
    # compile_disagreements(compile data of a convert, the converted model's PointFacts) -> sentences
    # where the target's compiler contradicts the prediction (limits' confirmation lists them)
    compile_disagreements: Callable[[Mapping[str, Any], PointFacts], list[str]] | None = None
    convert_step: Callable[[], ConvertStep] | None = None
    compiled_op: str | None = None  # the custom op that marks a model compiled for this target
    device_delegate: DeviceDelegate | None = None  # how the written infer.py runs its compiled twin
    source_of: Callable[[Path], Path | None] | None = None  # compiled file -> its source model
    model_name: Callable[[Path], str] | None = None  # the row name a model and its twin share

    @property
    def display_name(self) -> str:
        return self.title or self.name

    @property
    def column_name(self) -> str:
        return self.heading or self.name

    @property
    def short_name(self) -> str:
        return self.abbreviation or self.column_name

    def has(self, capability: str) -> bool:
        return getattr(self, capability) is not None
