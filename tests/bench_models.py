"""A real float32 TFLite model built in a few milliseconds with the TFLite flatbuffer schema (no
TensorFlow import): y = x + x on a 1x8x8x3 float tensor. The interpreter loads and runs it."""

from __future__ import annotations

from pathlib import Path

# The shortest bench plan that still measures: for tests of what bench reports, not of its numbers.
QUICK_BENCH = ("--min-runs", "3", "--min-time", "0", "--warmup-time", "0", "--repeats", "1")


def float_add_model(path: Path) -> Path:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    def tensor(name: str):
        t = schema.TensorT()
        t.name, t.shape, t.type, t.buffer = (
            name.encode(),
            [1, 8, 8, 3],
            schema.TensorType.FLOAT32,
            0,
        )
        return t

    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.ADD
    code.version = 1
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 0], [1]
    op.builtinOptionsType, op.builtinOptions = (
        schema.BuiltinOptions.AddOptions,
        schema.AddOptionsT(),
    )
    graph = schema.SubGraphT()
    graph.tensors, graph.operators, graph.inputs, graph.outputs = (
        [tensor("x"), tensor("y")],
        [op],
        [0],
        [1],
    )
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = (
        3,
        [code],
        [graph],
        [schema.BufferT()],
    )
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    return path
