"""What the user asks of the Edge TPU compiler, in our own words, and the compiler flags it becomes.

Our option names say what they do (``--min-runtime``, ``--segments``); the compiler's one-letter
flags (docs/edgetpu.md section 6) appear only in :meth:`CompileOptions.compiler_flags`. ``-s`` (print the
operator table) and ``-o DIR`` are always passed by the runner, never chosen by the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgedeploy.errors import UsageError

# Our wall-clock limit around the whole compiler process. The compiler's own timer (-t, 180 s by
# default) covers one compilation attempt; with --search-delegate it makes many attempts.
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_SEARCH_TIMEOUT_S = 3600.0
COMPILER_DEFAULT_TIMER_S = 180

# Flags the compiler learnt in version 16 (older ones stop with an unknown-flag error, so we say it first).
NEEDS_COMPILER_16 = {
    "search_delegate": "--search-delegate",
    "search_step": "--search-step",
    "compiler_timeout": "--compiler-timeout",
}


@dataclass(frozen=True)
class CompileOptions:
    """How to compile. ``None`` / ``False`` / empty means "the compiler's default"."""

    min_runtime: int | None = None  # -m: oldest Edge TPU runtime the model must load on
    multiple_subgraphs: bool = False  # -a: allow several Edge TPU regions
    segments: int | None = None  # -n: split into N segments for pipelining over N Edge TPUs
    intermediate_tensors: tuple[str, ...] = ()  # -i: stop the Edge TPU region at these tensors
    search_delegate: bool = False  # -d: on failure, search back for the largest compilable prefix
    search_step: int | None = None  # -k: ops removed per search step
    compiler_timeout: int | None = None  # -t: the compiler's own per-attempt timer, seconds
    compiler: str | None = None  # --compiler PATH: use exactly this executable
    timeout: float | None = None  # our wall-clock limit around the whole process, seconds

    def validate(self) -> None:
        """Refuse combinations the compiler would reject late (or silently ignore)."""
        if self.min_runtime is not None and self.min_runtime < 10:
            raise UsageError(
                f"--min-runtime {self.min_runtime}: Edge TPU runtime versions start at 10"
            )
        if self.segments is not None and self.segments < 2:
            raise UsageError(f"--segments {self.segments}: pipelining needs at least 2 segments")
        if any(not name.strip() or "," in name for name in self.intermediate_tensors):
            raise UsageError(
                "--intermediate-tensors takes tensor names separated by commas, none empty"
            )
        if self.search_step is not None and not self.search_delegate:
            raise UsageError("--search-step only applies with --search-delegate")
        if self.search_step is not None and self.search_step < 1:
            raise UsageError(f"--search-step {self.search_step}: must be at least 1")
        if self.compiler_timeout is not None and self.compiler_timeout < 1:
            raise UsageError(
                f"--compiler-timeout {self.compiler_timeout}: must be at least 1 second"
            )
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError(f"--timeout {self.timeout:g}: must be more than 0 seconds")

    def compiler_flags(self) -> list[str]:
        """The optional flags, as separate argv items (never one shell string)."""
        flags: list[str] = []
        if self.min_runtime is not None:
            flags += ["-m", str(self.min_runtime)]
        if self.multiple_subgraphs:
            flags.append("-a")
        if self.segments is not None:
            flags += ["-n", str(self.segments)]
        if self.intermediate_tensors:
            flags += ["-i", ",".join(self.intermediate_tensors)]
        if self.search_delegate:
            flags.append("-d")
        if self.search_step is not None:
            flags += ["-k", str(self.search_step)]
        if self.compiler_timeout is not None:
            flags += ["-t", str(self.compiler_timeout)]
        return flags

    def needing_compiler_16(self) -> list[str]:
        """Our option names that an older compiler (14, 15) does not understand."""
        return [
            name
            for field, name in NEEDS_COMPILER_16.items()
            if getattr(self, field) not in (None, False)
        ]

    def wall_clock_limit(self) -> float:
        if self.timeout is not None:
            return float(self.timeout)
        if self.search_delegate:
            return DEFAULT_SEARCH_TIMEOUT_S
        # leave the compiler's own timer room to fire first and report its own reason
        return max(
            DEFAULT_TIMEOUT_S, float(self.compiler_timeout or COMPILER_DEFAULT_TIMER_S) + 120.0
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_runtime": self.min_runtime,
            "multiple_subgraphs": self.multiple_subgraphs,
            "segments": self.segments,
            "intermediate_tensors": list(self.intermediate_tensors),
            "search_delegate": self.search_delegate,
            "search_step": self.search_step,
            "compiler_timeout_s": self.compiler_timeout,
            "timeout_s": self.wall_clock_limit(),
            "compiler_flags": self.compiler_flags(),  # besides the -s and -o DIR always passed
        }


def options_from(values: Mapping[str, Any]) -> CompileOptions:
    """``ConvertOptions.compiler_options`` (CompileOptions field names) -> CompileOptions."""
    known = set(CompileOptions.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(f"unknown compiler option(s): {', '.join(unknown)}")
    values = dict(values)
    if "intermediate_tensors" in values:
        values["intermediate_tensors"] = tuple(values["intermediate_tensors"] or ())
    return CompileOptions(**values)
