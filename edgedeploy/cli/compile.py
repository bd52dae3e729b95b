"""`edgedeploy compile`: run the real Edge TPU compiler on existing int8 TFLite models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from edgedeploy.report import emit, stderr, to_json

NAME = "compile"
NO_ARGS_IS_HELP = True


def command(
    models: list[Path] = typer.Argument(..., metavar="MODEL.tflite...", show_default=False,
                                        help="Full-int8 TFLite model(s). Several are co-compiled: they share "
                                             "the Edge TPU's on-chip parameter cache."),
    output_dir: Path = typer.Option(None, "--output-dir", "-o", metavar="DIR",
                                    help="Where the compiled models, the compiler's logs and report.json go "
                                         "[default: edgedeploy-out/<model>-edgetpu]."),
    min_runtime: int = typer.Option(None, "--min-runtime", metavar="N",
                                    help="Oldest Edge TPU runtime version the compiled model must load on "
                                         "(compiler 16 defaults to 14; pass 13 for older runtimes)."),
    multiple_subgraphs: bool = typer.Option(False, "--multiple-subgraphs",
                                            help="Allow several Edge TPU regions when an unsupported operator "
                                                 "sits in the middle (not always faster: each CPU hop costs)."),
    segments: int = typer.Option(None, "--segments", metavar="N",
                                 help="Split the model into N segments, to pipeline it over N Edge TPUs."),
    intermediate_tensors: str = typer.Option(None, "--intermediate-tensors", metavar="T1,T2",
                                             help="End the Edge TPU region at these tensors (comma-separated "
                                                  "names); what follows runs on the CPU."),
    search_delegate: bool = typer.Option(False, "--search-delegate",
                                         help="If compiling fails, search back for the largest part of the graph "
                                              "that compiles (compiler 16)."),
    search_step: int = typer.Option(None, "--search-step", metavar="K",
                                    help="Operators dropped per --search-delegate step (compiler default 1)."),
    compiler_timeout: int = typer.Option(None, "--compiler-timeout", metavar="SECONDS",
                                         help="The compiler's own limit per compilation attempt "
                                              "(compiler 16; its default is 180)."),
    compiler: str = typer.Option(None, "--compiler", metavar="PATH",
                                 help="Use this edgetpu_compiler executable instead of searching "
                                      "$EDGEDEPLOY_EDGETPU_COMPILER, PATH and the Docker image."),
    timeout: float = typer.Option(None, "--timeout", metavar="SECONDS",
                                  help="edgedeploy's wall-clock limit: the compiler is stopped after this "
                                       "[default: 600, or 3600 with --search-delegate]."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (the same as report.json)."),
    force: bool = typer.Option(False, "--force", help="Write into an output directory that already holds results."),
) -> int:
    """Compile int8 TFLite models for the Edge TPU with the real edgetpu_compiler.

    The compiler is looked for in this order: --compiler, $EDGEDEPLOY_EDGETPU_COMPILER, edgetpu_compiler
    on PATH, then the project's Docker image (docker/README.md) when a Docker engine answers. Nothing is
    ever installed. The compiler's stdout, stderr and .log are kept in the output directory; a compiled
    model is written only when the compile succeeded. The compiler's per-operator result is shown beside
    edgedeploy's own prediction, with every operator type where they disagree.

    Exit codes: 0 compiled and every operator mapped; 3 compiled, some operators run on the CPU;
    5 no compiler (or not runnable); 6 the compiler failed or timed out.

    Examples:

      edgedeploy compile model_int8.tflite --output-dir out/

      edgedeploy compile detector.tflite classifier.tflite -o out/ --json

      edgedeploy compile big.tflite --segments 2 --min-runtime 13 --compiler /opt/coral/edgetpu_compiler
    """
    from edgedeploy.outputs import atomic_write_text, staged_directory
    from edgedeploy.targets.edgetpu.compiler import check_input_models, compile_models, remove_stale_models
    from edgedeploy.targets.edgetpu.compiler_options import CompileOptions

    options = CompileOptions(
        min_runtime=min_runtime, multiple_subgraphs=multiple_subgraphs, segments=segments,
        intermediate_tensors=tuple(t.strip() for t in intermediate_tensors.split(",")) if intermediate_tensors else (),
        search_delegate=search_delegate, search_step=search_step, compiler_timeout=compiler_timeout,
        compiler=compiler, timeout=timeout)
    options.validate()
    inputs = check_input_models(models)  # before anything is written
    out_dir = (output_dir or Path("edgedeploy-out") / f"{inputs[0].stem}-edgetpu").resolve()
    with staged_directory(out_dir, force) as stage:
        stage = stage.resolve()
        report = compile_models(inputs, stage, options)
        if report.failure is not None:
            remove_stale_models(out_dir, inputs)  # from an earlier run (--force): not this run's result
        report.relocate(stage, out_dir)
        atomic_write_text(stage / "report.json", to_json(report.to_dict()))
    if as_json and report.failure is not None:
        stderr.print(f"[bold red]error:[/bold red] Edge TPU compilation failed: {escape(report.failure.reason)}",
                     markup=True, highlight=False, soft_wrap=True)
    return emit(report, as_json)
