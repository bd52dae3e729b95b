"""Run a photo through the model beside this file: python infer.py photo.jpg [--cpu] [--json]

Prints the five largest values of every output (the class scores first, with their labels).

Written by edgedeploy convert. Needs numpy, pillow and ai-edge-litert (or tflite-runtime). Everything
about the model's input and output (preprocessing, quantization, labels) comes from the sidecar JSON.
The compiled *_edgetpu.tflite runs on a Coral Edge TPU when one and its runtime (libedgetpu) are present;
otherwise the int8 model runs on the CPU.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

SIDECAR = "__SIDECAR__"
# The accelerators a compiled twin of the model may be for, written in by edgedeploy from its targets:
# [{"compiled_suffix": ..., "libraries": {platform.system(): delegate library}, "name": ...}].
DELEGATES = json.loads("__DELEGATES__")


def litert():
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        from tflite_runtime import interpreter
    return interpreter


@contextlib.contextmanager
def runtime_log_filtered():
    """The runtime's C++ log goes straight to file descriptor 2 ("INFO: Created TensorFlow Lite XNNPACK
    delegate for CPU." on every run): hold it in a file meanwhile and pass on all but its INFO lines,
    so a warning or an error the runtime writes is still seen."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                held.seek(0)
                for line in held.read().decode("utf-8", errors="replace").splitlines():
                    if line.strip() and not line.startswith("INFO: "):
                        print(line, file=sys.stderr)
    finally:
        os.close(saved)


def load_interpreter(folder: Path, spec: dict, cpu_only: bool):
    """(interpreter, what runs): a compiled twin with its accelerator's delegate if possible, else the CPU."""
    runtime = litert()
    for accelerator in [] if cpu_only else DELEGATES:
        compiled = folder / (Path(spec["model"]).stem + accelerator["compiled_suffix"])
        if not compiled.is_file():
            continue
        libraries = accelerator["libraries"]
        try:
            delegate = runtime.load_delegate(libraries.get(platform.system(), libraries["Linux"]))
            model = runtime.Interpreter(str(compiled), experimental_delegates=[delegate])
            return model, f"{compiled.name} on the {accelerator['name']}"
        except (ValueError, OSError, RuntimeError) as exc:
            print(
                f"note: {accelerator['name']} not usable ({str(exc).strip() or type(exc).__name__}); "
                "running on the CPU",
                file=sys.stderr,
            )
    return cpu_interpreter(runtime, folder / spec["model"])


def cpu_interpreter(runtime, path: Path):
    """XNNPACK where it can prepare the graph, else LiteRT's built-in kernels (it refuses some graphs,
    e.g. a RESIZE_BILINEAR it cannot delegate: the model still runs, only slower). Same logic as
    edgedeploy's own interpreter factory; this file stands alone, so it carries its own copy."""
    try:
        model = runtime.Interpreter(str(path))
        model.allocate_tensors()
        return model, f"{path.name} on the CPU"
    except (ValueError, RuntimeError) as exc:
        # LiteRT joins two messages without a separator ("node #63Node number 72"): put one back
        reason = re.sub(r"(?<=\S)(?=Node number \d)", "; ", " ".join(str(exc).split()))
        reason = reason or type(exc).__name__
        if "xnnpack" not in reason.lower():
            raise
    builtin = runtime.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    model = runtime.Interpreter(str(path), experimental_op_resolver_type=builtin)
    print(
        f"note: XNNPACK could not prepare the graph ({reason}); LiteRT's built-in kernels run it",
        file=sys.stderr,
    )
    return model, f"{path.name} on the CPU (LiteRT's built-in kernels)"


def preprocess(photo: Path, spec: dict) -> np.ndarray:
    """Short side resized, centre crop, channel order, then normalized and quantized as the sidecar says."""
    prep, inp = spec["preprocessing"], spec["input"]
    height, width = prep["crop"]["size"]
    gray = prep["channel_order"] == "GRAY"  # a 1-channel model: ITU-R 601-2 luma, as convert used
    rgb = Image.open(photo).convert("L" if gray else "RGB")
    scale = prep["resize"]["short_side"] / min(rgb.size)
    resample = getattr(Image.Resampling, prep["resize"]["interpolation"].upper())
    rgb = rgb.resize(
        (max(width, round(rgb.width * scale)), max(height, round(rgb.height * scale))), resample
    )
    left, top = (rgb.width - width) // 2, (rgb.height - height) // 2
    pixels = np.asarray(rgb.crop((left, top, left + width, top + height)), dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if prep["channel_order"] == "BGR":
        pixels = pixels[..., ::-1]
    if inp["raw_pixels"]:  # the normalization is inside the model: the pixels are the input
        data = pixels
    else:
        norm = prep["normalize"]
        real = (pixels.astype(np.float32) - np.float32(norm["mean"])) / np.float32(norm["std"])
        if inp["scale"] is None:
            data = real.astype(inp["dtype"])
        else:
            info = np.iinfo(inp["dtype"])
            data = np.clip(
                np.round(real / inp["scale"] + inp["zero_point"]), info.min, info.max
            ).astype(inp["dtype"])
    data = data[None]
    return data.transpose(0, 3, 1, 2) if inp["layout"] == "NCHW" else data


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(4)  # bad input, as edgedeploy itself exits for it


def check(interpreter, spec: dict) -> None:
    """The sidecar must describe this model: one line naming the first field that differs."""
    outputs = interpreter.get_output_details()
    if len(outputs) != len(spec["outputs"]):
        fail(f"{SIDECAR}: 'outputs' lists {len(spec['outputs'])} but the model has {len(outputs)}")
    pairs = [("input", spec["input"], interpreter.get_input_details()[0])] + [
        (f"outputs[{i}]", stated, actual)
        for i, (stated, actual) in enumerate(zip(spec["outputs"], outputs))
    ]
    for where, stated, actual in pairs:
        scale, zero_point = actual["quantization"]
        found = {
            "name": actual["name"],
            "shape": [int(d) for d in actual["shape"]],
            "dtype": np.dtype(actual["dtype"]).name,
            "scale": float(scale) or None,
            "zero_point": int(zero_point) if scale else None,
        }
        for key, value in found.items():
            mine = stated[key]
            both_scales = key == "scale" and None not in (mine, value)
            if not (np.isclose(mine, value, rtol=1e-6, atol=0) if both_scales else mine == value):
                fail(f"{SIDECAR}: '{where}.{key}' is {mine!r} but the model has {value!r}")


def classify(photo: Path, cpu_only: bool = False) -> dict:
    folder = Path(__file__).resolve().parent
    spec = json.loads((folder / SIDECAR).read_text())
    data = preprocess(photo, spec)  # a photo that cannot be read fails before the model is loaded
    with runtime_log_filtered():
        interpreter, where = load_interpreter(folder, spec, cpu_only)
        interpreter.allocate_tensors()
    check(interpreter, spec)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], data)
    with runtime_log_filtered():
        interpreter.invoke()
    names = (spec.get("labels") or {}).get("names") or []
    outputs = [
        read_output(interpreter, details, stated, names if index == 0 else [])
        for index, (details, stated) in enumerate(
            zip(interpreter.get_output_details(), spec["outputs"])
        )
    ]
    first = outputs[0]  # the class scores of a classifier: its fields stay where they always were
    return {
        "model": where,
        "output": first["name"],
        "activation": first["activation"],
        "top5": first["top5"],
        "outputs": outputs,
    }


def read_output(interpreter, details: dict, output: dict, names: list) -> dict:
    """One output, dequantized as the sidecar says: its five largest values and where they are (the
    class and its label, for class scores)."""
    raw = interpreter.get_tensor(details["index"]).astype(np.float32).reshape(-1)
    scores = (raw - output["zero_point"]) * output["scale"] if output["scale"] is not None else raw
    top = np.argsort(-scores, kind="stable")[:5]
    return {
        "name": output["name"],
        "shape": output["shape"],
        "activation": output.get("activation"),
        "top5": [
            {
                "class": int(i),
                "score": float(scores[i]),
                "label": names[i] if i < len(names) else None,
            }
            for i in top
        ],
    }


def print_top5(output: dict) -> None:
    kind = "probability" if output["activation"] == "softmax" else "score"
    for rank, entry in enumerate(output["top5"], 1):
        print(
            f"{rank}. class {entry['class']:<5} {kind} {entry['score']:9.4f}  {entry['label'] or ''}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="run the int8 model on the CPU even if an Edge TPU is present",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    try:
        result = classify(args.photo, args.cpu)
    except (OSError, ValueError) as exc:  # an unreadable photo, a missing or damaged file
        fail(str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.photo.name}: {result['model']}")
        several = len(result["outputs"]) > 1
        for index, output in enumerate(result["outputs"]):
            if several:  # each output under its own heading; one output reads as it always did
                shape = "x".join(str(d) for d in output["shape"])
                print(f"output {index} {output['name']} ({shape}):")
            print_top5(output)
    sys.stdout.flush()  # here, not at exit: a reader that went away (| head) is handled below


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        # The reader of our output stopped reading (python infer.py photo.jpg | head -1): what it did
        # not read is not an error. Point stdout at /dev/null so the exit flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
