"""``compare --ray [ADDRESS]``: conversions and checks as Ray tasks on an existing Ray cluster.

A node needs only Ray (``pip install 'ray[default]'`` of the driver's Ray version, same Python minor
version, then ``ray start``): the study ships edgedeploy itself and its conversion requirements to the
workers through Ray's runtime environment (``runtime_env``). Each task gets everything it needs by
value (the model file, weights file and calibration images are shipped as bytes, so a node needs no
shared filesystem), converts into a
temporary cache on its node, checks the int8 model there, and returns the cache entry's files; the
study writes them into its local cache (atomically, as any conversion) before anything is benchmarked.
Benchmarks run where the device is: a target whose spec names a Ray resource (``TargetSpec.ray_resource``;
the Edge TPU's is ``edgetpu``: ``ray start --resources '{"edgetpu": 1}'``) on a node that advertises it
when the cluster has one, every other target (and that one without such a node) on this machine.

ADDRESS is anything ``ray.init`` takes: ``auto`` (the cluster this machine belongs to, the default),
``HOST:PORT`` of a head node this machine is part of, or ``ray://HOST:10001`` (Ray Client) from outside.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgedeploy.compare.cache import ConversionCache
from edgedeploy.compare.workers import MEMORY_PER_JOB, Conversion, ConvertJob
from edgedeploy.errors import EdgedeployError, ExtraMissingError, UsageError
from edgedeploy.extras import install_line, requirements

PROBE_SECONDS = 5.0


class ClusterError(EdgedeployError):
    """The Ray cluster could not be reached or used (exit 1)."""


def _probe(address: str) -> None:
    """Fail in seconds, not after Ray's own minute of retries, when nothing listens at HOST:PORT."""
    if address in ("auto", "local") or ":" not in address:
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS):
            return
    except ValueError:
        raise UsageError(f"--ray {address}: expected HOST:PORT or ray://HOST:PORT") from None
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}",
            "start it with 'ray start --head' or check the address",
        ) from None


def runtime_env() -> dict[str, Any]:
    """What Ray puts on every worker before a task of this study runs there.

    ``py_modules``: this very edgedeploy package (uploaded once per content hash, cached on each node),
    so the nodes run the code of the study that sent the task, whatever they have installed.
    ``pip``: the pinned conversion requirements (edgedeploy/data/requirements/convert.txt), installed
    by Ray into a virtualenv per node that inherits the node's site-packages - what is already there is
    not installed twice. Ray's pip support needs ``virtualenv`` on the node (``ray[default]`` has it).
    """
    import edgedeploy

    package = Path(edgedeploy.__file__).resolve().parent
    return {
        "py_modules": [str(package)],
        "excludes": ["__pycache__", "*.pyc"],
        "pip": {"packages": requirements("convert"), "pip_check": False},
        # Only nodes that get a task build the environment (not, say, the head this study runs on).
        "config": {"eager_install": False},
    }


def _files_of(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def _materialize(files: dict[str, bytes], directory: Path) -> Path:
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return directory


@dataclasses.dataclass
class RemoteJob:
    """A ConvertJob with its input files carried by value."""

    job: ConvertJob
    model: dict[str, bytes] | None
    weights: dict[str, bytes] | None
    calibration: dict[str, bytes] | None


def pack(job: ConvertJob) -> RemoteJob:
    item, options = job.item, job.options
    return RemoteJob(
        job,
        _files_of(item.spec.path) if item.spec.path is not None else None,
        _files_of(item.weights) if item.weights else None,
        _files_of(Path(options.calibration_dir)) if options.calibration_dir else None,
    )


def run_remote(remote: RemoteJob) -> Conversion:
    """On a Ray node: the inputs as local files, convert and check into a temporary cache, and return
    the entry's files."""
    from edgedeploy.compare.workers import convert_and_check

    job = remote.job
    with tempfile.TemporaryDirectory(prefix="edgedeploy-ray-") as scratch:
        root = Path(scratch)
        item, options = job.item, job.options
        if remote.model is not None and item.spec.path is not None:
            path = _materialize(remote.model, root / "model") / item.spec.path.name
            item = dataclasses.replace(item, spec=dataclasses.replace(item.spec, path=path))
        if remote.weights is not None and item.weights is not None:
            item = dataclasses.replace(
                item, weights=_materialize(remote.weights, root / "weights") / item.weights.name
            )
        if remote.calibration is not None:
            options = dataclasses.replace(
                options, calibration_dir=_materialize(remote.calibration, root / "calibration")
            )
        local = dataclasses.replace(job, item=item, options=options, cache_root=root / "cache")
        result = convert_and_check(local, where=f"ray node {socket.gethostname()}")
        if result.error is None and result.entry:
            result.files = _files_of(Path(result.entry))
        return result


def bring_home(result: Conversion, job: ConvertJob, cache: ConversionCache) -> Conversion:
    """Write a remote conversion's files into the local cache; the result then points there."""
    if result.error is not None or not result.files:
        return result
    try:
        with cache.filling(job.key, job.inputs) as work:
            work.mkdir(parents=True)
            _materialize({k: v for k, v in result.files.items() if k != "compare-key.json"}, work)
    except OSError as exc:
        return dataclasses.replace(
            result, files={}, error=f"could not write the conversion into {cache.root}: {exc}"
        )
    report = cache.lookup(job.key)
    if report is None:
        return dataclasses.replace(
            result, files={}, error="the conversion came back from the Ray node incomplete"
        )
    return dataclasses.replace(result, files={}, report=report, entry=str(cache.entry(job.key)))


class RayCluster:
    def __init__(self, address: str):
        try:
            import ray
        except ImportError:
            raise ExtraMissingError(
                "--ray needs Ray, which is not installed here", install_line("ray")
            ) from None
        _probe(address)
        try:
            ray.init(
                address=address,
                runtime_env=runtime_env(),
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ClusterError(
                f"cannot connect to the Ray cluster at {address}: {first}",
                "start it with 'ray start --head' or check the address",
            ) from None
        self.ray, self.address = ray, address
        self.resources = ray.cluster_resources()
        self._convert = ray.remote(num_cpus=1, memory=MEMORY_PER_JOB, max_retries=0)(run_remote)

    @property
    def describe(self) -> str:
        cpus = int(self.resources.get("CPU", 0))
        nodes = len([n for n in self.ray.nodes() if n.get("Alive")])
        return f"Ray tasks on the cluster at {self.address} ({nodes} node(s), {cpus} CPUs)"

    def convert(
        self, jobs: list[ConvertJob], cache: ConversionCache, on_done: Callable[[Conversion], None]
    ) -> dict[str, Conversion]:
        ray = self.ray
        pending = {self._convert.remote(pack(job)): job for job in jobs}
        done: dict[str, Conversion] = {}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    result = bring_home(ray.get(ready[0]), job, cache)
                except ray.exceptions.RayError as exc:
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                    result = Conversion(job.item.label, error=f"the Ray task failed: {first}")
                done[job.item.label] = result
                on_done(result)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return done

    def device_resource(self, target: str) -> str | None:
        """The Ray resource ``target``'s spec names, when some node of this cluster advertises it."""
        from edgedeploy.targets.registry import get_target

        resource = get_target(target).ray_resource
        return resource if resource and self.resources.get(resource) else None

    def bench_where(self, target: str) -> str:
        resource = self.device_resource(target)
        return f"a Ray node with the '{resource}' resource" if resource else "this machine"

    def bench_runner(self, local: Callable) -> Callable:
        """Bench on this machine, except a target on a node that advertises its device's resource."""

        def bench(int8_file: Path, target: str, progress: Callable[[str], None]) -> Any:
            resource = self.device_resource(target)
            if resource is None:
                return local(int8_file, target, progress)
            remote = self.ray.remote(num_cpus=0, resources={resource: 1}, max_retries=0)(
                _bench_remote
            )
            progress(f"measuring on {target} on a Ray node")
            stem = Path(int8_file).stem.removesuffix(
                "_int8"
            )  # the model and its siblings (report, compiled twin)
            siblings = {
                p.name: p.read_bytes()
                for p in Path(int8_file).parent.iterdir()
                if p.is_file() and (p.name == "report.json" or p.name.startswith(stem))
            }
            try:  # the node's BenchResult comes back as the object itself (Ray pickles it)
                return self.ray.get(remote.remote(local, Path(int8_file).name, siblings, target))
            except self.ray.exceptions.RayError as exc:
                raise EdgedeployError(
                    f"the Ray bench task on {target} failed: {str(exc).strip().splitlines()[-1]}"
                ) from None

        return bench

    def close(self) -> None:
        self.ray.shutdown()


def _bench_remote(
    local: Callable, name: str, files: dict[str, bytes], target: str
) -> Any:  # the BenchResult
    with tempfile.TemporaryDirectory(prefix="edgedeploy-ray-bench-") as scratch:
        directory = _materialize(files, Path(scratch))
        return local(directory / name, target, lambda message: None)
