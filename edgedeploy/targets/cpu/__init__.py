"""The CPU target: the LiteRT interpreter (ai-edge-litert) with XNNPACK, at all cores and at 1 thread.

It runs every TFLite model (float or int8) and is the reference the accelerators are compared with;
it has no op-mapping check and no compile step.
"""

from edgedeploy.targets.contract import TargetOptions, TargetSpec


def _runtime(options: TargetOptions):
    from edgedeploy.targets.cpu.config import CpuConfig
    from edgedeploy.targets.cpu.runtime import CpuRuntime

    return CpuRuntime(CpuConfig.from_options(list(options.threads or []), options.xnnpack))


TARGET = TargetSpec(
    name="cpu",
    title="the CPU",
    summary="LiteRT interpreter on this machine's CPU (XNNPACK on by default)",
    runtime=_runtime,
)
