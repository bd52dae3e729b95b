"""What to do about each way an Edge TPU compile fails: the one table, keyed by the failure code that
the compiler-output parser and the compile stage give (docs/edgetpu.md, the compiler's fatal messages).

``compile`` (its "what to do" line), ``check`` on a compiler log (the finding's fix) and ``convert`` all
read it here, so the same failure never gets two different pieces of advice.
"""

from __future__ import annotations

FAILURE_ADVICE = {
    "not-quantized": "the compiler needs a full-int8 model: 'edgedeploy convert --target edgetpu' makes one",
    "invalid-model": "the compiler could not read the model; check that it loads in the TFLite interpreter "
    "and that its op versions are not newer than the compiler knows",
    "dynamic-tensors": "export with a fixed batch of 1 and static shapes; 'edgedeploy check' on the .tflite "
    "names the op with a dynamic shape",
    "large-activations": "lower the input resolution, or split the model: --segments N (-n) or "
    "--intermediate-tensors (-i)",
    "internal-error": "retry with --search-delegate (-d) to find the largest part that compiles, and check the "
    "model's ops with 'edgedeploy check'",
    "timeout": "raise --timeout (and --compiler-timeout, the compiler's own per-attempt timer), or split the "
    "model with --segments",
    "argument-error": "correct the option the compiler's message names (ours: --intermediate-tensors takes one list "
    "per input model; also --segments, --min-runtime, --search-step, --compiler-timeout)",
    "compilation-failed": "see the compiler's message; 'edgedeploy check' on the input .tflite shows the ops "
    "it is likely to refuse",
    "killed-by-signal": "the compiler crashed or was killed (SIGKILL often means the kernel ran out of memory: "
    "see dmesg); retry with fewer models at once, or --segments to split a large one",
    "bad-output-model": "the compiler's output file is damaged (a full disk or a crashed compiler); free space "
    "and compile again",
    "empty-output": "check that this program really is edgetpu_compiler ('--version' should name it)",
    "unrecognised-output": "check that this program really is edgetpu_compiler ('--version' should name it)",
}


def advice_for(code: str | None) -> str | None:
    """The advice for a failure code, or None when there is none to give."""
    return FAILURE_ADVICE.get(code) if code else None
