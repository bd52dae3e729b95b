"""The command-line options only the Edge TPU takes, declared here (``TargetSpec.options``): the command
line adds each to the commands it names and hands its value to this target's capability or runtime.

The one-letter options of ``compile`` (and ``convert``) are edgetpu_compiler's own (-m -a -n -i -d -k).
"""

from __future__ import annotations

from pathlib import Path

from edgedeploy.errors import UsageError
from edgedeploy.targets.contract import TargetOption

CLOCKS = ("std", "max")  # libedgetpu's throttled and full-speed builds
COMPILERS = ("compile", "convert")  # the commands that run edgetpu_compiler
RUNTIME_COMMANDS = ("bench", "verify")  # the commands that load the runtime library to run models


def _profiles() -> list[str]:
    from edgedeploy.targets.edgetpu.estimate import host_listing

    return [h["name"] for h in host_listing().to_dict()["hosts"]]


def _unknown_host(host: str) -> UsageError:
    return UsageError(
        f"unknown host profile {host!r}; profiles: {', '.join(_profiles())}",
        "edgedeploy estimate --host list describes them",
    )


def estimate_host(host: str | None) -> str | None:
    """estimate's --host: a profile name, a calibrated profile FILE.json, or 'list'."""
    if host is not None and host != "list" and not host.lower().endswith(".json"):
        if host not in _profiles():
            raise _unknown_host(host)
    return host


def limits_host(host: str | None) -> str | None:
    """limits' --host: a profile name (an unknown one fails before any work)."""
    if host is not None and host not in _profiles():
        raise _unknown_host(host)
    return host


def clock(value: str | None) -> str | None:
    if value is not None and value not in CLOCKS:
        raise UsageError(
            f"--clock must be std or max, not {value!r}",
            "std: libedgetpu1-std, max: libedgetpu1-max",
        )
    return value


MIN_RUNTIME_HELP = (
    "Oldest Edge TPU runtime version the compiled model must load on "
    "(compiler 16 defaults to 14; pass 13 for older runtimes)."
)
TIMEOUT_HELP = (
    "edgedeploy's wall-clock limit: the compiler is stopped after this "
    "\\[default: 600, or 3600 with --search-delegate]."
)

OPTIONS = (
    # check
    TargetOption(
        "compiler_version",
        ("--compiler-version",),
        "Edge TPU compiler major version whose rules apply (14, 15, 16) \\[default: 16].",
        ("check",),
        int,
    ),
    TargetOption(
        "min_runtime",
        ("--min-runtime", "-m"),
        "Minimum Edge TPU runtime (the compiler's -m); default: the compiler's own.",
        ("check",),
        int,
    ),
    TargetOption(
        "source",
        ("--source",),
        "For a compiled model: the .tflite it was compiled from "
        "(default: X.tflite beside X_edgetpu.tflite).",
        ("check",),
        Path,
    ),
    # compile and convert: edgetpu_compiler's options
    TargetOption(
        "min_runtime", ("--min-runtime", "-m"), MIN_RUNTIME_HELP, COMPILERS, int, None, "N"
    ),
    TargetOption(
        "multiple_subgraphs",
        ("--multiple-subgraphs", "-a"),
        "Allow several Edge TPU regions when an unsupported operator sits in the "
        "middle (not always faster: each CPU hop costs).",
        COMPILERS,
        bool,
        False,
    ),
    TargetOption(
        "segments",
        ("--segments", "-n"),
        "Split the model into N segments, to pipeline it over N Edge TPUs.",
        COMPILERS,
        int,
        None,
        "N",
    ),
    TargetOption(
        "intermediate_tensors",
        ("--intermediate-tensors", "-i"),
        "End the Edge TPU region at these tensors (comma-separated "
        "names); what follows runs on the CPU.",
        ("compile",),
        str,
        None,
        "T1,T2",
    ),
    TargetOption(
        "search_delegate",
        ("--search-delegate", "-d"),
        "If compiling fails, search back for the largest part of the graph "
        "that compiles (compiler 16).",
        ("compile",),
        bool,
        False,
    ),
    TargetOption(
        "search_step",
        ("--search-step", "-k"),
        "Operators dropped per --search-delegate step (compiler default 1).",
        ("compile",),
        int,
        None,
        "K",
    ),
    TargetOption(
        "compiler_timeout",
        ("--compiler-timeout",),
        "The compiler's own limit per compilation attempt (compiler 16; its default is 180).",
        ("compile",),
        int,
        None,
        "SECONDS",
    ),
    TargetOption(
        "compiler",
        ("--compiler",),
        "Use this edgetpu_compiler executable instead of searching "
        "$EDGEDEPLOY_EDGETPU_COMPILER, PATH and the Docker image.",
        COMPILERS,
        str,
        None,
        "PATH",
    ),
    TargetOption("timeout", ("--timeout",), TIMEOUT_HELP, COMPILERS, float, None, "SECONDS"),
    # estimate
    TargetOption(
        "host",
        ("--host",),
        "Host profile: x86-usb3, x86-pcie, devboard, rpi4-usb3, "
        "rpi3-usb2, a calibrated profile (name or FILE.json); 'list' describes them and their sources.",
        ("estimate",),
        str,
        "x86-usb3",
        check=estimate_host,
    ),
    TargetOption(
        "calibrate",
        ("--calibrate",),
        "Refit --host's per-invoke cost, I/O and stream rates and CPU speed to your measured "
        "RESULTS (bench --save JSON or CSV model,latency_ms) and write --host-out.",
        ("estimate",),
        bool,
        False,
    ),
    TargetOption(
        "host_out",
        ("--host-out",),
        "With --calibrate: the profile file to write.",
        ("estimate",),
        Path,
    ),
    TargetOption(
        "profile_name",
        ("--name",),
        "With --calibrate: the profile's name (default: the file's stem).",
        ("estimate",),
    ),
    TargetOption(
        "clock",
        ("--clock",),
        "Edge TPU clock on USB: std (libedgetpu1-std, 250 MHz) or "
        "max (libedgetpu1-max, 500 MHz); PCIe always runs at max.",
        ("estimate",),
        str,
        "max",
        check=clock,
    ),
    TargetOption(
        "source",
        ("--source",),
        "For a compiled model: the .tflite it was compiled "
        "from, to count MACs (default: X.tflite beside X_edgetpu.tflite).",
        ("estimate",),
        Path,
    ),
    # limits: the options of the estimate it runs at every point (unset: the estimate's defaults)
    TargetOption(
        "host",
        ("--host",),
        "Host profile of the latency estimate (see 'edgedeploy estimate --host list') "
        "\\[default: the target's].",
        ("limits",),
        check=limits_host,
    ),
    TargetOption(
        "clock",
        ("--clock",),
        "Clock of the estimate: std or max \\[default: the target's].",
        ("limits",),
        check=clock,
    ),
    # the runtime library (bench, verify; the doctor tries it)
    TargetOption(
        "library",
        ("--edgetpu-lib",),
        "Edge TPU runtime library to load (default libedgetpu.so.1).",
        RUNTIME_COMMANDS,
    ),
    TargetOption(
        "library",
        ("--edgetpu-lib",),
        "Edge TPU runtime library to try (default libedgetpu.so.1).",
        ("targets",),
    ),
)
