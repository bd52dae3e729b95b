"""The package layering a reader can draw as a stack, checked on every import statement (function-level
imports included): cli -> commands -> targets/converters -> tflite/models -> shared modules -> errors.
No package imports one above it, there are no cycles (between packages, and inside targets/ between a
target's sub-packages and the modules beside them), and no command imports an accelerator by name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import edgedeploy

PACKAGE = Path(edgedeploy.__file__).parent
# Lower number = lower layer. A unit may import only units of a lower layer or its own layer (then the
# cycle check keeps the same-layer edges acyclic).
LAYERS = {
    "errors": 0,
    "machine": 1,
    "files": 1,
    "outputs": 1,
    "worker": 1,
    "exiting": 1,
    "extras": 1,
    "report": 1,
    "images": 1,
    "thresholds": 1,
    "onnx_cut": 1,
    "onnx_reader": 1,
    "tflite": 2,
    "models": 2,
    "targets": 3,
    "targets.cpu": 3,
    "targets.edgetpu": 3,
    "converters": 3,
    "deploy": 3,
    "bench": 4,
    "verify": 4,
    "compare": 5,
    "limits": 5,
    "cli": 6,
    "__main__": 7,
    "edgedeploy": 1,
}
ACCELERATORS = {"targets.cpu", "targets.edgetpu"}
COMMANDS = {"cli", "bench", "compare", "converters", "verify", "deploy", "limits"}


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "edgedeploy"
    if parts[1] == "targets" and len(parts) > 2 and parts[2] in ("edgetpu", "cpu"):
        return f"targets.{parts[2]}"
    return parts[1]


def _module_name(path: Path) -> str:
    """``edgedeploy.x.y`` for ``edgedeploy/x/y.py`` (a package's ``__init__`` is the package)."""
    parts = ("edgedeploy", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def _imported(path: Path) -> list[str]:
    """Every module ``path`` imports (``from a import b`` names ``a``), at any depth of the file."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def _edges() -> dict[str, set[tuple[str, str]]]:
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        source = _unit(module)
        for name in _imported(path):
            if name.startswith("edgedeploy") and _unit(name) != source:
                edges[source].add((_unit(name), str(path.relative_to(PACKAGE))))
    return edges


def test_every_unit_has_a_layer():
    units = {
        _unit(
            ".".join(("edgedeploy", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
                ".__init__"
            )
        )
        for p in PACKAGE.rglob("*.py")
    }
    assert units <= set(LAYERS), f"give these a layer: {sorted(units - set(LAYERS))}"


def test_no_package_imports_one_above_it():
    upward = [
        f"{where}: {source} -> {target}"
        for source, found in _edges().items()
        for target, where in found
        if LAYERS[target] > LAYERS[source]
    ]
    assert not upward


def test_no_cycles_between_packages():
    graph = {source: {target for target, _ in found} for source, found in _edges().items()}
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in visiting:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        if node in done:
            return
        visiting.add(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    assert not cycles


def test_no_command_imports_an_accelerator_by_name():
    named = [
        f"{where}: {source} -> {target}"
        for source, found in _edges().items()
        if source in COMMANDS
        for target, where in found
        if target in ACCELERATORS
    ]
    assert not named


def _target_unit(module: str) -> str | None:
    """Inside targets/: one unit per module of targets/ and per sub-package or module of a target."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "targets":
        return None
    if parts[2] in ACCELERATOR_PACKAGES and len(parts) > 3:
        return ".".join(parts[1:4])  # targets.edgetpu.predict, targets.edgetpu.check, ...
    return ".".join(parts[1:3])


ACCELERATOR_PACKAGES = {"cpu", "edgetpu"}


def test_no_cycles_inside_targets():
    graph: dict[str, set[str]] = defaultdict(set)
    for path in (PACKAGE / "targets").rglob("*.py"):
        module = _module_name(path)
        source = _target_unit(module)
        for name in _imported(path):
            target = _target_unit(name) if name.startswith("edgedeploy.targets") else None
            if source and target and target != source:
                graph[source].add(target)
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])

    for node in sorted(graph):
        visit(node, [])
    assert not cycles


# What a function-level import may defer: a third-party library that costs start-up time (`edgedeploy
# models`, `--help` and every refusal answer before any of these is loaded), directly or through the
# edgedeploy modules it imports at their top.
HEAVY = {
    "ai_edge_litert",
    "matplotlib",
    "numpy",
    "onnx",
    "onnx2tf",
    "onnxruntime",
    "onnxsim",
    "PIL",
    "ray",
    "scipy",
    "tensorflow",
    "tf_keras",
    "timm",
    "torch",
    "torchvision",
}


def _top_level_imports(path: Path) -> list[str]:
    """The modules ``path`` imports when it is imported: statements outside functions and classes'
    methods, ``if TYPE_CHECKING:`` blocks left out."""
    names: list[str] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
                names.extend(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                walk(node.body)
                for handler in node.handlers:
                    walk(handler.body)
            elif isinstance(node, ast.ClassDef):
                walk(node.body)

    walk(ast.parse(path.read_text()).body)
    return names


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _loads_heavy(module: str, modules: dict[str, Path], seen: set[str]) -> bool:
    if module.split(".")[0] in HEAVY:
        return True
    if module in seen or module not in modules:
        return False
    seen.add(module)
    parents = [".".join(module.split(".")[:i]) for i in range(2, module.count(".") + 1)]
    return any(
        _loads_heavy(name, modules, seen)
        for name in (*parents, *_top_level_imports(modules[module]))
    )


def test_function_level_imports_only_defer_heavy_libraries():
    """An edgedeploy module imported inside a function must load a heavy library when it is imported;
    any other belongs at the top of the file, where a reader sees what the module depends on."""
    modules = _modules()
    light = []
    for path in modules.values():
        if path.name == "infer_template.py":  # the script convert writes, not imported here
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("edgedeploy"):
                    if not _loads_heavy(sub.module, modules, set()):
                        light.append(f"{path.relative_to(PACKAGE)}:{sub.lineno} {sub.module}")
    assert not sorted(set(light))


def test_the_heavy_import_rule_sees_a_light_module():
    modules = _modules()
    assert _loads_heavy("edgedeploy.converters.pipeline", modules, set())
    assert not _loads_heavy("edgedeploy.errors", modules, set())
