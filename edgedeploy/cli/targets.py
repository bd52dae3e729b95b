"""`edgedeploy targets`: which benchmark targets can run here, and why not (a doctor for the setup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgedeploy.cli.target_flags import device_option
from edgedeploy.files import TFLITE, check_input
from edgedeploy.report import emit

NAME = "targets"
NO_ARGS_IS_HELP = False


def command(
    names: list[str] = typer.Argument(
        None,
        metavar="TARGET",
        help="Targets to check (default: all). Exit code 0 if at least one of them can run "
        "here, 7 if none can.",
    ),
    device: str = device_option("The device to check ({devices})."),
    model: Path = typer.Option(
        None,
        "--model",
        help="A compiled *_edgetpu.tflite: also check the runtime version it needs "
        "against the installed one (exit 7 if too old).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    target_flags: dict[str, Any] | None = None,  # the targets' own runtime settings
) -> int:
    """List the benchmark targets (cpu, coral) with whether they can run here and, if not, why.

    For Coral, a doctor: each check with one verdict and the exact fix. The runtime library, its std/max build
    and the TensorFlow it was built against vs the interpreter in use; each USB Accelerator (1a6e:089a waits for
    its firmware, 18d1:9302 is ready), its link speed (USB 2 is several times slower), the udev rule and your
    groups; PCIe modules, their gasket/apex kernel modules, /dev/apex_N and Secure Boot.

    Examples:

      edgedeploy targets

      edgedeploy targets coral --device usb:0 --json

      edgedeploy targets coral --model model_int8_edgetpu.tflite
    """
    from edgedeploy.targets.contract import TargetOptions
    from edgedeploy.targets.doctor import check_targets

    if model is not None:  # checked before any library is probed: a FIFO or an 8 GiB file, unread
        check_input(model, TFLITE)
    options = TargetOptions.of(device=device, **(target_flags or {}))
    return emit(check_targets(list(names or []), options, model), as_json, NAME)
