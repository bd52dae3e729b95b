"""onnx-simplifier as onnx2tf runs it before it converts, in one child process instead of three.

onnx2tf simplifies its input file in place by starting the ``onnxsim FILE FILE`` command three times in
a row (a child process each, because onnxsim is native code that can crash). Each start pays a Python
start-up and the imports of onnx and onnxsim: ~2.4 s of a MobileNetV2 conversion here. This runs the
same three passes with the same settings (the ``onnxsim`` command's defaults, which are what onnx2tf
uses) in one child process, then onnx2tf is told not to simplify again, so the file it reads - and
the ONNX that convert publishes - is byte for byte what onnx2tf's own passes make.

Like onnx2tf, a failed pass is logged (to the stage's log, where the child's output goes) and the
conversion goes on with the file as it is. onnx2tf also simplifies once more after correcting the
shapes of Einsum and OneHot ops; a model with those is left to onnx2tf entirely.

Child usage: ``python -m edgedeploy.converters.onnx_simplify FILE [PASSES]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PASSES = 3  # onnx2tf: "To fully optimize the model, run onnxsim three times in a row."
ONNX2TF_SIMPLIFIES_AGAIN = {"Einsum", "OneHot"}


def needs_onnx2tf(path: Path) -> bool:
    """True when onnx2tf's own simplification must run (it simplifies such models a second time)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return any(node.op_type in ONNX2TF_SIMPLIFIES_AGAIN for node in model.graph.node)


def simplify_in_place(path: Path) -> bool:
    """Run the passes in a child process (output to our descriptors 1 and 2). True when all succeeded;
    either way onnx2tf must not simplify again (it would not have retried a failed pass either)."""
    done = subprocess.run([sys.executable, "-m", __name__, str(path), str(PASSES)], check=False,
                          stdin=subprocess.DEVNULL)
    return done.returncode == 0


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
        onnx.save(copy.deepcopy(model), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=location)


def _child(path: Path, passes: int) -> int:
    import onnx
    from onnxsim import simplify
    from onnxsim.onnx_simplifier import DEFAULT_TENSOR_SIZE_THRESHOLDHOLD

    for number in range(1, passes + 1):
        model = onnx.load(str(path))
        # Exactly the arguments the onnxsim command passes with no options given.
        simplified, check_ok = simplify(
            model, check_n=0, perform_optimization=True, skip_fuse_bn=False, overwrite_input_shapes={},
            test_input_shapes={}, skipped_optimizers=[], skip_constant_folding=False, skip_shape_inference=False,
            input_data=None, dynamic_input_shape=False, custom_lib=None, include_subgraph=False, unused_output=None,
            tensor_size_threshold=DEFAULT_TENSOR_SIZE_THRESHOLDHOLD, mutable_initializer=False)
        _save(simplified, path)
        if not check_ok:
            print(f"onnxsim pass {number}: check failed; the model is kept as simplified so far", file=sys.stderr)
            return 1
        print(f"onnxsim pass {number} of {passes}: done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else PASSES))
