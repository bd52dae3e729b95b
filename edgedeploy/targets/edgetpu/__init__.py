"""The Google Coral Edge TPU target: operator rules as versioned data (``rules/``), the mapping predictor
(``check.check_model``: per-op prediction, partition, pattern findings, recovery from compiled models,
ONNX lint), the compiler-output parser (``compiler_log``) and the compile stage (``compiler*``, ``compile_*``).
Nothing heavy is imported here; import from the modules.
"""
