"""onnx-simplifier as onnx2tf runs it before it converts, in one child process instead of three.

onnx2tf simplifies its input file in place by starting the ``onnxsim FILE FILE`` command three times in
a row (a child process each, because onnxsim is native code that can crash). Each start pays a Python
start-up and the imports of onnx and onnxsim: ~2.4 s of a MobileNetV2 conversion here. This runs the
same three passes with the same settings (the ``onnxsim`` command's defaults, which are what onnx2tf
uses) in one child process, then onnx2tf is told not to simplify again, so the file it reads - and
the ONNX that convert publishes - is byte for byte what onnx2tf's own passes make.

Like onnx2tf, a failed pass is logged (to the stage's log, where the child's output goes) and the
conversion goes on with the file as it is. When the child cannot run at all, or the model has Einsum or
OneHot ops (onnx2tf simplifies those once more after correcting their shapes), onnx2tf simplifies as
it always did.

Child usage: ``python -m edgedeploy.converters.onnx_simplify FILE [PASSES]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edgedeploy.onnx_reader import load_onnx

PASSES = 3  # onnx2tf: "To fully optimize the model, run onnxsim three times in a row."
ONNX2TF_SIMPLIFIES_AGAIN = {"Einsum", "OneHot"}


def needs_onnx2tf(path: Path) -> bool:
    """True when onnx2tf's own simplification must run (it simplifies such models a second time)."""

    model = load_onnx(path, external_data=False)
    return any(node.op_type in ONNX2TF_SIMPLIFIES_AGAIN for node in model.graph.node)


PASS_FAILED = (
    3  # the child's exit code when a pass failed (and the file is as the last good pass left it)
)


def simplify_in_place(path: Path) -> bool:
    """Run the passes in a child process (output to our descriptors 1 and 2). True when they ran, even
    if one failed: onnx2tf must not simplify again (it does not retry a failed pass either). False when
    the child could not run at all (onnx2tf then simplifies as it always did)."""
    import os

    import edgedeploy

    # The child finds this very edgedeploy even when it was not installed (a source tree on sys.path).
    source = str(Path(edgedeploy.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__, str(path), str(PASSES)],
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return False
    return done.returncode in (0, PASS_FAILED)


def _save(model, path: Path) -> None:
    """As the ``onnxsim`` command saves (one file, or external data for a model over 2 GB), but atomically."""
    import copy
    import os

    import onnx

    partial = path.with_name(path.name + ".partial")
    try:
        onnx.save(model, str(partial))  # then renamed: a crash mid-write leaves the last good file
        os.replace(partial, path)
    except ValueError:
        location = path.name + ".data"
        if os.path.exists(location):
            os.remove(location)
        onnx.save(
            copy.deepcopy(model),
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=location,
        )


def _child(path: Path, passes: int) -> int:
    from onnxsim import simplify
    from onnxsim.onnx_simplifier import DEFAULT_TENSOR_SIZE_THRESHOLDHOLD

    for number in range(1, passes + 1):
        try:
            model = load_onnx(
                path
            )  # the project's one ONNX loader (external data beside the file included)
            # Exactly the arguments the onnxsim command passes with no options given.
            simplified, check_ok = simplify(
                model,
                check_n=0,
                perform_optimization=True,
                skip_fuse_bn=False,
                overwrite_input_shapes={},
                test_input_shapes={},
                skipped_optimizers=[],
                skip_constant_folding=False,
                skip_shape_inference=False,
                input_data=None,
                dynamic_input_shape=False,
                custom_lib=None,
                include_subgraph=False,
                unused_output=None,
                tensor_size_threshold=DEFAULT_TENSOR_SIZE_THRESHOLDHOLD,
                mutable_initializer=False,
            )
            _save(simplified, path)
        except Exception as exc:  # noqa: BLE001 - as onnx2tf: say so, and convert the model as it is
            print(f"onnxsim pass {number} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return PASS_FAILED
        if not check_ok:
            print(
                f"onnxsim pass {number}: check failed; the model is kept as simplified so far",
                file=sys.stderr,
            )
            return PASS_FAILED
        print(f"onnxsim pass {number} of {passes}: done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else PASSES))
