"""The Google Coral Edge TPU: everything edgedeploy knows and does about it, in one package.

- ``predict/``: the operator rules (versioned data in ``rules/``) and the offline mapping prediction:
  per-op verdicts, the partition the compiler will make, pattern findings with their fixes, ONNX lint.
- ``compiler/``: finding, running and reading the real ``edgetpu_compiler`` (locally or in Docker).
- ``inspect/``: what a compiled ``*_edgetpu.tflite`` or a compiler log says the compiler did.
- ``device/``: running compiled models on a USB Accelerator or PCIe module (bench runtime, doctor).
- ``check.py`` (one entry for every kind of file), ``convert.py`` (the convert step), ``naming.py``.

Canonical name ``edgetpu``; ``coral`` is accepted everywhere as an alias. Nothing heavy is imported here.
"""

from __future__ import annotations

from edgedeploy.errors import UsageError
from edgedeploy.targets.contract import DeviceDelegate, TargetOptions, TargetSpec
from edgedeploy.targets.edgetpu import naming
from edgedeploy.targets.edgetpu.options import OPTIONS


def _runtime(options: TargetOptions):
    from edgedeploy.targets.edgetpu.device.config import EdgeTpuConfig
    from edgedeploy.targets.edgetpu.device.runtime import EdgeTpuRuntime

    # --threads reaches the ops the compiler left on the CPU (the first count given; the Edge TPU
    # target measures one variant). Unset: every core, EdgeTpuConfig's default.
    threads = {"threads": options.threads[0]} if options.threads else {}
    return EdgeTpuRuntime(
        EdgeTpuConfig.from_options(options.device, options.library, options.xnnpack, **threads)
    )


def _check(
    path,
    *,
    compiler_version: int | None = None,
    min_runtime: int | None = None,
    source=None,
    all_ops: bool = False,
):
    from edgedeploy.targets.edgetpu.check import check_model
    from edgedeploy.targets.edgetpu.predict.rules import DEFAULT_COMPILER

    report = check_model(
        path,
        compiler_version=compiler_version or DEFAULT_COMPILER,
        min_runtime=min_runtime,
        source=source,
    )
    report.show_all_ops = all_ops
    return report


def _compile(models, output_dir=None, intermediate_tensors: str | tuple[str, ...] = (), **options):
    from edgedeploy.targets.edgetpu.check import check_model
    from edgedeploy.targets.edgetpu.compiler.to_directory import compile_to_directory

    if isinstance(intermediate_tensors, str):  # the command line's T1,T2
        intermediate_tensors = tuple(t.strip() for t in intermediate_tensors.split(","))
    options["intermediate_tensors"] = intermediate_tensors
    return compile_to_directory(models, output_dir, predict=check_model, **options)


def _estimate(
    path,
    host: str | None = None,
    calibrate: bool = False,
    host_out=None,
    profile_name=None,
    results=(),
    **options,
):
    """Latency without a device. With ``path`` None, the answers that need no model: ``host="list"``
    the host profiles, ``calibrate`` a host profile refitted to ``results`` (measurement files) and
    written to ``host_out``; None when the options ask for neither."""
    from edgedeploy.targets.edgetpu.estimate import estimate_file, host_listing, resolve_host

    if path is None:
        if calibrate:
            from edgedeploy.targets.edgetpu.estimate.calibrate import run_calibration

            if host_out is None:
                raise UsageError(
                    "--calibrate writes a profile: give --host-out FILE (e.g. my-pi.json)"
                )
            if not results:
                raise UsageError(
                    "--calibrate needs RESULTS: bench --save JSON files or CSVs (model,latency_ms)"
                )
            clock = options.get("clock") or "max"
            return run_calibration(list(results), host, clock, host_out, profile_name)
        return host_listing() if host == "list" else None
    constants, name = resolve_host(host)
    return estimate_file(path, host=name, constants=constants, **options)


def _limits(
    graph,
    *,
    label: str = "",
    host: str | None = None,
    clock: str | None = None,
    compiler_version: int | None = None,
    min_runtime: int | None = None,
):
    """One model at one size (a converted or forecast int8 graph): mapping, parameters, activations, latency."""
    from edgedeploy.targets.edgetpu.limits import limits_point

    return limits_point(
        graph,
        label=label,
        host=host,
        clock=clock,
        compiler_version=compiler_version,
        min_runtime=min_runtime,
    )


def _compile_disagreements(compiled, converted):
    """The compiler's word against the prediction at a point ``limits`` confirmed."""
    from edgedeploy.targets.edgetpu.limits import compile_disagreements

    return compile_disagreements(compiled, converted)


def _convert_step():
    from edgedeploy.targets.edgetpu.convert import EdgeTpuConvertStep

    return EdgeTpuConvertStep()


TARGET = TargetSpec(
    name="edgetpu",
    aliases=("coral",),
    title="the Edge TPU",
    heading="Edge TPU",
    abbreviation="TPU",
    batch=1,
    device_syntax="usb, usb:N, pci, pci:N or :N",
    options=OPTIONS,
    ray_resource="edgetpu",  # ray start --resources '{"edgetpu": 1}' on a node with a Coral attached
    summary="Google Coral Edge TPU (USB Accelerator, PCIe/M.2) through the libedgetpu delegate",
    runtime=_runtime,
    check=_check,
    compile=_compile,
    estimate=_estimate,
    convert_step=_convert_step,
    limits=_limits,
    compile_disagreements=_compile_disagreements,
    compiled_op=naming.CUSTOM_OP,
    device_delegate=DeviceDelegate(f"{naming.SUFFIX}.tflite", naming.LIBRARY_NAMES, "Edge TPU"),
    source_of=naming.source_path,
    model_name=naming.model_name,
)
