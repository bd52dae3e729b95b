"""A toy accelerator that lives only in the tests: proof that a target is one package plus one
registration line (``registry.register(toy_accelerator.TARGET)``), with no edit anywhere else.

It "maps" the TFLite builtin ops listed in its rules data and runs models on a bench runtime double
(the LiteRT CPU interpreter at one thread, labelled as the toy device).
"""

from edgedeploy.targets.contract import DeviceDelegate, TargetOption, TargetOptions, TargetSpec


def _runtime(options: TargetOptions):
    from toy_accelerator.runtime import ToyRuntime

    return ToyRuntime(options.device, options.extra.get("firmware"))


def _check(path, refuse: str | None = None):
    from toy_accelerator.predict import check

    return check(path, refuse=tuple(op.strip() for op in (refuse or "").split(",") if op.strip()))


def _limits(graph, label: str = ""):
    from toy_accelerator.predict import limits_point

    return limits_point(graph, label)


TARGET = TargetSpec(
    name="toy",
    aliases=("toy-npu",),
    title="the toy NPU",
    summary="A toy NPU that maps ADD, CONV_2D and DEPTHWISE_CONV_2D (tests only)",
    device_syntax="toy:N",  # how --device names one: its help says so without an edit in the CLI
    # An option only the toy takes: the command line offers it on `check` without an edit there
    options=(
        TargetOption(
            "refuse",
            ("--toy-refuse",),
            "Ops the toy NPU refuses although its rules map them (comma-separated).",
            ("check",),
            metavar="OPS",
        ),
        # a runtime setting TargetOptions has no field for: it reaches the runtime in options.extra
        TargetOption(
            "firmware",
            ("--toy-firmware",),
            "Firmware the toy NPU loads.",
            ("bench", "targets"),
        ),
    ),
    runtime=_runtime,
    check=_check,
    limits=_limits,
    # how the infer.py convert writes runs a model compiled for the toy: no edit in deploy/
    device_delegate=DeviceDelegate("_toy.tflite", {"Linux": "libtoy-npu.so.1"}, "toy NPU"),
)
