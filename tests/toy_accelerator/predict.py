"""The toy NPU's mapping check: an op maps when its type is in ``rules.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgedeploy.errors import ExitCode
from edgedeploy.tflite import read_model

RULES = json.loads((Path(__file__).parent / "rules.json").read_text())


@dataclass
class ToyCheck:
    path: str
    mapped: list[str]
    refused: list[str]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OPS_ON_CPU if self.refused else ExitCode.OK

    def to_dict(self) -> dict:
        return {"path": self.path, "mapped": self.mapped, "refused": self.refused}

    def render(self, console) -> None:
        console.print(
            f"toy NPU: {len(self.mapped)} of {len(self.mapped) + len(self.refused)} ops map"
        )


def check(path: Path, strict: bool = False) -> ToyCheck:
    graph = read_model(path)
    ops = [op.opcode for op in graph.ops]
    mapped = [op for op in ops if op in RULES["maps"]]
    return ToyCheck(str(path), mapped, [op for op in ops if op not in RULES["maps"]])
