"""Where a study's conversions run: in the study's own process, one row after the other (``--jobs 1``,
or when at most one model needs converting); in ``--jobs N`` worker processes; or as tasks on a Ray
cluster (``--ray``). With workers or Ray every conversion (and its check) finishes before the first
benchmark starts, so a benchmark never shares the machine with a conversion; benchmarks always run in
the study's process, one after the other (or, for a device on a Ray node, there: see ``ray_cluster``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edgedeploy.compare.plan import StudyItem
from edgedeploy.compare.workers import Conversion, ConvertJob, convert_in_pool, default_jobs
from edgedeploy.errors import UsageError

if TYPE_CHECKING:
    from edgedeploy.compare.stages import Study

BENCH_POLICY = "one at a time in the study's process, never while a conversion is running"


@dataclass
class Backend:
    workers: int  # conversion worker processes on this machine (1: the study's own process)
    cluster: Any = None  # a RayCluster

    @classmethod
    def choose(cls, jobs: int | None, ray_address: str | None) -> "Backend":
        """Checked before any work or output: a bad --jobs or an unreachable cluster fails in one line."""
        if jobs is not None and jobs < 1:
            raise UsageError(f"--jobs {jobs}: must be 1 or more")
        if ray_address is not None:
            if jobs is not None:
                raise UsageError(
                    "--jobs and --ray exclude each other (Ray schedules the conversions itself)"
                )
            from edgedeploy.compare.ray_cluster import RayCluster

            return cls(workers=1, cluster=RayCluster(ray_address))
        return cls(workers=jobs if jobs is not None else default_jobs())

    def describe(self, targets: tuple[str, ...]) -> dict[str, Any]:
        if self.cluster is not None:
            conversions = self.cluster.describe
            where = {t: self.cluster.bench_where(t) for t in targets}
        else:
            conversions = (
                f"{self.workers} worker processes on this machine"
                if self.workers > 1
                else "in the study's process, one model after the other"
            )
            where = {t: "this machine" for t in targets}
        return {"conversions": conversions, "benchmarks": BENCH_POLICY, "bench_where": where}

    def bench_runner(self, local: Any) -> Any:
        return self.cluster.bench_runner(local) if self.cluster is not None else local

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()

    def convert_first(
        self, items: list[StudyItem], cached: list[bool], study: Study, display: Any
    ) -> dict[str, Conversion]:
        """Convert (and check) every uncached item away from this process before any row is benched;
        {} when conversions run here, row by row, as they always did."""
        todo = [item for item, hit in zip(items, cached) if not hit]
        workers = min(self.workers, len(todo))
        if not todo or (self.cluster is None and workers < 2):
            return {}
        jobs = [
            ConvertJob(item, *study.key(item), study.options, study.cache.root, study.mapped_target)
            for item in todo
        ]
        display.start_conversions(
            len(jobs), self.cluster.describe if self.cluster else f"{workers} worker processes"
        )

        def finished(result: Conversion) -> None:
            display.conversion_done(result.label, result.seconds, result.error)

        if self.cluster is not None:
            return self.cluster.convert(jobs, study.cache, finished)
        return convert_in_pool(jobs, workers, finished)
