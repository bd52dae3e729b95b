"""Rebuild the architectures of published Edge TPU models and write their workload descriptions.

Latency depends on the graph, not on the weights: each architecture below is built from timm or
torchvision (random weights) at the input size its published latency was measured at, converted with
edgedeploy's own pipeline (PyTorch -> ONNX -> TensorFlow -> full-int8 TFLite, in this one process), and its
per-op facts (``edgedeploy/targets/edgetpu/estimate/op_facts.py``: op class, MACs, parameter bytes,
activation bytes, Edge TPU or CPU per the mapping prediction) are written to
``benchmarks/data/edgetpu_workloads/<name>.json``. The models themselves are not kept in the repository.

    nice -n 10 python benchmarks/build_workloads.py [NAME ...] [--keep DIR] > build.log 2>&1 &

EfficientDet-Lite (``workload_detectors.py``) needs the PyPI package ``effdet``, a benchmark-time
dependency only (never one of edgedeploy's): ``pip install --no-deps effdet==0.4.1 omegaconf
pycocotools``; without it those architectures are skipped with one line each (exit 1).
SSD SpaghettiNet-EdgeTPU S / M / L (``workload_spaghettinet.py``) are transcribed from the TF object
detection API's node specs; each network is converted once and described once per measured export.

The architectures are rebuilds: where Google's model differs (TF-slim vs timm layer details, SSD heads
without the post-processing op, which is added as one CPU-side fact), the description says so in
``provenance.differences``; ``benchmarks/compare_workloads.py`` compares with the original files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "data" / "edgetpu_workloads"
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload_archs import ARCHITECTURES  # noqa: E402
from workload_detectors import DETECTORS, MissingBuildDependency  # noqa: E402
from workload_spaghettinet import SPAGHETTINETS  # noqa: E402

BUILDS = {**ARCHITECTURES, **DETECTORS, **SPAGHETTINETS}
# Build inputs carried in an architecture's extra facts, not written as provenance.
BUILD_KEYS = ("postprocess_input_bytes", "postprocess_float_elements", "postprocess_detections")
BUILD_KEYS += ("settle_batch_norm",)
BUILD_KEYS += ("depthwise_written_as_grouped",)


def convert_int8(module, size: int, name: str, work: Path) -> Path:
    """The int8 TFLite of ``module`` via edgedeploy's stages (no compile, no fidelity)."""
    from edgedeploy.converters import torch_to_onnx
    from edgedeploy.converters.artifacts import TFLiteModel, TorchModel
    from edgedeploy.converters.calibration import load_image_set
    from edgedeploy.converters.context import ConvertOptions, StageContext
    from edgedeploy.converters.pipeline import run_stages
    from edgedeploy.converters.progress import StageProgress
    from edgedeploy.images import Preprocessing

    # Random weights amplify float rounding through deep nets (EfficientNet-EdgeTPU-M: 3e-3); the
    # agreement check guards against export bugs, which show as differences of order 1.
    torch_to_onnx.AGREEMENT_TOLERANCE = max(torch_to_onnx.AGREEMENT_TOLERANCE, 0.05)
    prep = Preprocessing(size=(size, size), resize_size=size)
    first = TorchModel(module.eval(), (1, 3, size, size), name, prep)
    options = ConvertOptions(compile=False, calibration_count=4)
    images = load_image_set(prep, None, 4)
    context = StageContext(options=options, workdir=work, images=images)
    produced = run_stages(first, context, StageProgress(), [])
    return produced[TFLiteModel].path


def settle_batch_norm(module, size: int):
    """Random weights with untouched batch-norm statistics can blow activations up to 1e5 and more
    (Inception V3), which the export's agreement check rejects; one training-mode pass on random input
    sets the statistics so activations stay normalised. The graph is unchanged."""
    import torch

    for layer in module.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.momentum = None  # a cumulative average: one pass sets it
    module.train()
    with torch.no_grad():
        module(torch.randn(2, 3, size, size))
    return module.eval()


def describe(path: Path, name: str, provenance: dict) -> dict:
    """Per-op facts of the converted rebuild (the mapping prediction places each op), with the
    published export's post-processing added as CPU facts; ``provenance['partition']`` names the
    compiler whose rules apply and the op versions the published export has where they decide it."""
    from edgedeploy.targets.edgetpu.estimate.op_facts import WorkloadFacts
    from edgedeploy.targets.edgetpu.estimate.workload import uncompiled_facts
    from edgedeploy.targets.edgetpu.predict.rules import DEFAULT_COMPILER, load_rules
    from edgedeploy.tflite import read_model

    graph = read_model(path)
    partition = provenance.get("partition") or {}
    versions = partition.get("op_versions", {})
    graph.ops = [replace(op, version=versions.get(op.opcode, op.version)) for op in graph.ops]
    if provenance.pop("depthwise_written_as_grouped", False):
        graph.ops = [as_tf_convolution(graph, op) for op in graph.ops]
    rules = load_rules(partition.get("compiler", DEFAULT_COMPILER))
    facts = uncompiled_facts(graph, rules, name)
    post = postprocessing_facts(
        len(facts.ops),
        provenance.pop("postprocess_input_bytes", None),
        provenance.pop("postprocess_float_elements", None),
        provenance.pop("postprocess_detections", None),
    )
    facts = WorkloadFacts(facts.name, facts.ops + post, facts.input_bytes, facts.output_bytes)
    provenance.pop("settle_batch_norm", None)
    data = facts.to_dict()
    data["provenance"] = provenance
    return data


def as_tf_convolution(graph, op):
    """onnx2tf writes a depthwise convolution whose input is an ADD as a grouped CONV_2D (groups =
    channels, a depthwise filter) and then marks every CONV_2D of the file version 6 (grouped), which
    the TF 2.5-era compiler does not know. TF's own export of the same layer is a DEPTHWISE_CONV_2D
    (version 3 in int8) and the other convolutions CONV_2D version 3: read them so (same MACs and
    parameter bytes)."""
    if op.opcode != "CONV_2D" or len(op.inputs) < 2:
        return op
    weights, data = graph.tensor(op.inputs[1]), graph.tensor(op.inputs[0])
    grouped = len(weights.shape) == 4 and weights.shape[3] == 1 < data.shape[-1] == weights.shape[0]
    if grouped:
        return replace(op, opcode="DEPTHWISE_CONV_2D", version=3)
    return replace(op, version=3)


def postprocessing_facts(
    first: int, uint8_bytes: int | None, float_elements: list | None, detections: int | None
) -> tuple:
    """The detection post-processing the published files end in and the rebuilds lack, on the CPU.
    SSD (Google's TF1 files): TFLite_Detection_PostProcess reads the quantized boxes and scores.
    EfficientDet-Lite (Model Maker): DEQUANTIZE of boxes and of scores, then the op reads floats.
    ``detections``: the boxes the op keeps (its max_detections x max_classes_per_detection)."""
    from edgedeploy.targets.edgetpu.estimate.op_facts import (
        CUSTOM,
        ELEMENTWISE,
        POSTPROCESS,
        OpFact,
    )

    ops: list = []
    for n in float_elements or ():
        dequantize = OpFact(first + len(ops), "DEQUANTIZE", ELEMENTWISE, 0, 0, n, 4 * n, "cpu")
        ops.append(replace(dequantize, output_values=n))  # float32: four bytes a value
    read = uint8_bytes or 4 * sum(float_elements or ())
    if read:
        post = OpFact(first + len(ops), POSTPROCESS, CUSTOM, 0, 0, read, 0, "cpu")
        floats = None if uint8_bytes else sum(float_elements or ())  # None: a byte a value
        ops.append(replace(post, input_values=floats, detections=detections))
    return tuple(ops)


ORIGINALS = REPO / "tests" / "data" / "edgetpu" / "latency"
# Measured on another chip (a Pixel 4's Edge TPU). Alasdair Allan's SSD MobileNet V1 0.75 file is used:
# his DetectWithImage timing of a pre-resized 300x300 image adds one array copy and the decoding of a
# few boxes to the invoke, small beside the spread of model-only numbers (his Dev Board number for
# Google's SSD MobileNet V2 file is 20.9 ms, Google's own references 14-17 ms).
NOT_ORIGINALS = ("mobilenet_edgetpu_0.75_224_post_training_quant",)


def describe_originals() -> None:
    """Descriptions of the measured model files themselves (``tests/data/edgetpu/latency/models``):
    the uncompiled view (the mapping prediction) and the compiled view (the compiler's partition and
    parameter layout read from the ``_edgetpu.tflite``)."""
    from edgedeploy.targets.edgetpu.estimate.workload import compiled_workload, uncompiled_facts
    from edgedeploy.targets.edgetpu.predict.rules import load_rules
    from edgedeploy.tflite import read_model

    rules = load_rules()
    for entry in json.loads((ORIGINALS / "models.json").read_text(encoding="utf-8")):
        name = entry["name"].split("@")[0]
        if name in NOT_ORIGINALS:
            continue
        files = {f["file"]: f for f in entry["files"]}
        source = next(f for f in files if not f.endswith("_edgetpu.tflite"))
        graph = read_model(ORIGINALS / entry["folder"] / source)
        data = uncompiled_facts(graph, rules, name).to_dict()
        compiled = [f for f in files if f.endswith("_edgetpu.tflite")]
        if compiled:
            w = compiled_workload(
                read_model(ORIGINALS / entry["folder"] / compiled[0]), graph, rules, name
            )
            data["compiled"] = {
                "tpu_op_indices": [o.index for o in w.facts.tpu_ops],
                "on_chip_bytes": w.on_chip_bytes,
                "streamed_bytes": w.streamed_bytes,
                "compiler_cycles": w.compiler_cycles,
            }
        f = files[source]
        data["provenance"] = {
            "original_file": f"{f['repo']}@{f['commit'][:7]}:{f['path']}",
            "measurement_indices": entry["measurement_indices"],
            "differences": "none: the measured file itself",
        }
        (OUT / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: {data['totals']} (original file)", flush=True)


# Too large to convert here: onnx2tf and the TFLite converter grew past 17 GB over VGG's 138 M float
# weights on a shared 24 GB machine (a job must stay under 6 GB). Their plain graphs (3x3 convolutions,
# max pools, fully connected layers) are counted from the PyTorch module instead.
COUNTED = ("vgg16_224", "vgg19_224")


def counted_facts(module, size: int, name: str):
    """Per-op facts of a plain conv / pool / fully-connected network counted from its PyTorch module,
    in the form the int8 converter gives (ReLU and batch norm fused, no dropout, int8 tensors)."""
    import torch

    from edgedeploy.targets.edgetpu.estimate.op_facts import (
        CONV,
        CONV_1X1,
        FC,
        LAYOUT,
        POOL,
        OpFact,
        WorkloadFacts,
    )

    ops: list = []

    def record(layer, inputs, output):
        x = inputs[0]
        i, o = x.numel(), output.numel()
        if isinstance(layer, torch.nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            macs = o * k * layer.in_channels // layer.groups
            params = layer.weight.numel() + 4 * layer.out_channels
            kind = CONV_1X1 if k == 1 else CONV
            ops.append(OpFact(len(ops), "CONV_2D", kind, macs, params, i, o, "tpu"))
        elif isinstance(layer, torch.nn.Linear):
            params = layer.weight.numel() + 4 * layer.out_features
            ops.append(
                OpFact(len(ops), "FULLY_CONNECTED", FC, o * layer.in_features, params, i, o, "tpu")
            )
        elif isinstance(layer, (torch.nn.MaxPool2d, torch.nn.AdaptiveAvgPool2d)) and i != o:
            ops.append(OpFact(len(ops), "MAX_POOL_2D", POOL, 0, 0, i, o, "tpu"))
        elif isinstance(layer, torch.nn.Flatten):
            ops.append(OpFact(len(ops), "RESHAPE", LAYOUT, 0, 0, i, o, "tpu"))

    hooks = [m.register_forward_hook(record) for m in module.modules() if not list(m.children())]
    with torch.no_grad():
        module.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    if not any(
        o.op == "RESHAPE" for o in ops
    ):  # torch.flatten in forward(): the converter's RESHAPE
        first_fc = next(n for n, o in enumerate(ops) if o.op_class == FC)
        size_in = ops[first_fc].input_bytes
        ops.insert(first_fc, OpFact(0, "RESHAPE", LAYOUT, 0, 0, size_in, size_in, "tpu"))
        ops = [OpFact(n, *list(o.__dict__.values())[1:]) for n, o in enumerate(ops)]
    return WorkloadFacts(name, tuple(ops), 3 * size * size, ops[-1].output_bytes)


def provenance_of(name: str) -> dict:
    """The provenance block of a rebuilt architecture's description (``postprocess_input_bytes`` is
    a build input, not provenance)."""
    provenance = BUILDS[name].provenance()
    for key in BUILD_KEYS:
        provenance.pop(key, None)
    if name in COUNTED:
        provenance["converted_with"] = (
            "not converted: counted from the PyTorch module (see COUNTED)"
        )
    return provenance


def refresh_provenance(names: list[str]) -> None:
    """Rewrite the provenance of existing descriptions from ``ARCHITECTURES`` (which measurements an
    architecture stands for, and why) and the boxes their added post-processing op keeps
    (``postprocess_detections``) without converting again: the converted per-op facts stay."""
    from edgedeploy.targets.edgetpu.estimate.op_facts import POSTPROCESS, WorkloadFacts

    for name in names:
        target = OUT / f"{name}.json"
        if not target.exists():
            continue
        facts = WorkloadFacts.from_dict(json.loads(target.read_text(encoding="utf-8")))
        kept = BUILDS[name].provenance().get("postprocess_detections")
        ops = tuple(replace(o, detections=kept) if o.op == POSTPROCESS else o for o in facts.ops)
        data = {**replace(facts, ops=ops).to_dict(), "provenance": provenance_of(name)}
        target.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: provenance rewritten", flush=True)


_CONVERTED: dict[tuple[str, int], Path] = {}  # (source, size) -> int8 file, within one run


def build_one(name: str, scratch: Path, args, failed: list[str]) -> None:
    """Rebuild, convert and describe one architecture (a conversion of the same module at the same
    size made earlier in this run is reused: the EfficientDet-Lite partitions share one graph)."""
    arch = BUILDS[name]
    target = OUT / f"{name}.json"
    if target.exists() and not args.force:
        return
    start = time.perf_counter()
    try:
        import torch

        torch.manual_seed(0)
        if name in COUNTED:
            data = counted_facts(arch.build(), arch.size, name).to_dict()
            data["provenance"] = provenance_of(name)
            target.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            print(f"{name}: {data['totals']} (counted)", flush=True)
            return
        key = (arch.source, arch.size)
        if key not in _CONVERTED:
            module = arch.build()
            if arch.extra.get("settle_batch_norm", True):
                module = settle_batch_norm(module, arch.size)
            work = scratch / name
            work.mkdir(parents=True)
            cwd = os.getcwd()
            os.chdir(work)  # onnx2tf's calibration sample file is written here, not fetched
            try:
                _CONVERTED[key] = convert_int8(module, arch.size, name, work)
            finally:
                os.chdir(cwd)
        path = _CONVERTED[key]
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"{name}.tflite").write_bytes(path.read_bytes())
        data = describe(path, name, arch.provenance())
        target.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"{name}: {data['totals']} in {time.perf_counter() - start:.0f} s", flush=True)
    except MissingBuildDependency as err:
        failed.append(name)
        print(f"{name}: not built: {err}", flush=True)
    except Exception:  # noqa: BLE001 - one architecture's failure must not stop the others
        failed.append(name)
        print(f"{name}: FAILED after {time.perf_counter() - start:.0f} s", flush=True)
        traceback.print_exc()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="architectures to build (default: all missing)")
    parser.add_argument("--keep", type=Path, help="keep the int8 .tflite files in this folder")
    parser.add_argument("--force", action="store_true", help="rebuild even if a description exists")
    parser.add_argument(
        "--originals", action="store_true", help="describe only the measured files in tests/data"
    )
    parser.add_argument(
        "--provenance",
        action="store_true",
        help="only rewrite the provenance of existing descriptions (no conversion)",
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.originals:
        describe_originals()
        return 0
    names = args.names or list(BUILDS)
    if args.provenance:
        refresh_provenance(names)
        return 0
    failed: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix="workloads-"))
    try:
        for name in names:
            build_one(name, scratch, args, failed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"done; failed: {failed or 'none'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
