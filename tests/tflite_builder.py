"""Write small TFLite flatbuffers by hand (schema object API), for rules tests that need one exact op.

    b = GraphBuilder()
    x = b.tensor("x", [1, 8, 8, 4])                       # int8 activation
    w = b.tensor("w", [4, 1, 1, 4], data=np.ones(...))   # constant
    y = b.op("CONV_2D", [x, w], [1, 8, 8, 4], options=("Conv2DOptions", {"strideW": 1, "strideH": 1}))
    path = b.save(tmp_path / "m.tflite", inputs=[x], outputs=[y])

Tensors are int8 with scale 0.1 unless told otherwise. No TensorFlow needed.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

_DTYPES = {
    "int8": (schema.TensorType.INT8, np.int8),
    "uint8": (schema.TensorType.UINT8, np.uint8),
    "int32": (schema.TensorType.INT32, np.int32),
    "float32": (schema.TensorType.FLOAT32, np.float32),
    "int16": (schema.TensorType.INT16, np.int16),
}


class GraphBuilder:
    def __init__(self):
        self.model = schema.ModelT()
        self.model.version = 3
        self.model.buffers = [schema.BufferT()]  # buffer 0: the empty sentinel
        self.model.operatorCodes = []
        self.graph = schema.SubGraphT()
        self.graph.tensors, self.graph.operators = [], []
        self._codes: dict[tuple, int] = {}

    def tensor(
        self,
        name: str,
        shape,
        dtype: str = "int8",
        data=None,
        signature=None,
        quantized: bool = True,
        variable: bool = False,
    ) -> int:
        t = schema.TensorT()
        t.name, t.shape, t.type = name, list(shape), _DTYPES[dtype][0]
        t.isVariable = variable
        if signature is not None:
            t.shapeSignature = list(signature)
        if quantized and dtype in ("int8", "uint8", "int16"):
            q = schema.QuantizationParametersT()
            q.scale, q.zeroPoint = [0.1], [0]
            t.quantization = q
        buffer = schema.BufferT()
        if data is not None:
            # A uint8 array, not bytes: the schema packs an array in one copy and bytes one Python
            # call per byte (seconds for a few MB of weights). The file is the same byte for byte.
            raw = np.ascontiguousarray(np.asarray(data, dtype=_DTYPES[dtype][1]))
            buffer.data = raw.reshape(-1).view(np.uint8)
        self.model.buffers.append(buffer)
        t.buffer = len(self.model.buffers) - 1
        self.graph.tensors.append(t)
        return len(self.graph.tensors) - 1

    def _code(self, opcode: str, version: int, custom: bool) -> int:
        key = (opcode, version, custom)
        if key not in self._codes:
            code = schema.OperatorCodeT()
            if custom:
                code.builtinCode, code.deprecatedBuiltinCode, code.customCode = (
                    schema.BuiltinOperator.CUSTOM,
                    32,
                    opcode,
                )
            else:
                value = getattr(schema.BuiltinOperator, opcode)
                code.builtinCode, code.deprecatedBuiltinCode = value, min(value, 127)
            code.version = version
            self.model.operatorCodes.append(code)
            self._codes[key] = len(self.model.operatorCodes) - 1
        return self._codes[key]

    def op(
        self,
        opcode: str,
        inputs: list[int],
        out_shape=None,
        *,
        dtype: str = "int8",
        version: int = 1,
        options: tuple[str, dict] | None = None,
        outputs: list[int] | None = None,
        custom: bool = False,
        custom_options: bytes | None = None,
    ) -> int:
        """Add an op; creates its output tensor from ``out_shape`` unless ``outputs`` are given. Returns the first output."""
        if outputs is None:
            outputs = [
                self.tensor(f"{opcode.lower()}_{len(self.graph.operators)}", out_shape, dtype)
            ]
        op = schema.OperatorT()
        op.opcodeIndex = self._code(opcode, version, custom)
        op.inputs, op.outputs = list(inputs), list(outputs)
        if options is not None:
            name, fields = options
            native = getattr(schema, name + "T")()
            for key, value in fields.items():
                setattr(native, key, value)
            op.builtinOptionsType = getattr(schema.BuiltinOptions, name)
            op.builtinOptions = native
        if custom_options is not None:
            op.customOptions = list(custom_options)
        self.graph.operators.append(op)
        return outputs[0]

    def save(self, path: Path, inputs: list[int], outputs: list[int]) -> Path:
        self.graph.inputs, self.graph.outputs = list(inputs), list(outputs)
        self.model.subgraphs = [self.graph]
        builder = flatbuffers.Builder(1024)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        path.write_bytes(bytes(builder.Output()))
        return path
