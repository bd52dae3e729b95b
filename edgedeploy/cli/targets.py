"""`edgedeploy targets`: which benchmark targets can run here, and why not (a doctor for the setup)."""

from __future__ import annotations

import typer

NAME = "targets"
NO_ARGS_IS_HELP = False


def command(
    names: list[str] = typer.Argument(None, metavar="TARGET", help="Targets to check (default: all). Exit code 7 if one cannot run."),
    device: str = typer.Option(None, "--device", help="Edge TPU to check: usb, usb:N, pci, pci:N or :N."),
    edgetpu_lib: str = typer.Option(None, "--edgetpu-lib", help="Edge TPU runtime library to try (default libedgetpu.so.1)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> int:
    """List the benchmark targets (cpu, coral) with whether they can run here and, if not, why.

    For Coral: the Edge TPU runtime library, its version and std/max build.

    Also the USB Accelerators and PCIe modules plugged in, their link speed, and permission on their device nodes.

    Examples:

      edgedeploy targets

      edgedeploy targets coral --device usb:0 --json
    """
    from edgedeploy.targets.registry import TargetOptions
    from edgedeploy.targets.doctor import check_targets
    from edgedeploy.report import emit

    options = TargetOptions(device=device, library=edgetpu_lib)
    return emit(check_targets(list(names or []), options), as_json, NAME)
