"""The statistics function and the measuring loop's stopping rules, on an injected clock (exact)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgedeploy.bench.harness import MeasurePlan, measure, measure_fixed_rate, warm_up
from edgedeploy.bench.stats import repeat_spread, summarize
from edgedeploy.errors import UsageError

MS = 1_000_000  # ns


class FakeTime:
    """A clock that only moves when the code under test invokes, feeds or sleeps."""

    def __init__(self, invoke_ms: float = 10.0, feed_ms: float = 0.0):
        self.now, self.invoke_ns, self.feed_ns = 0, int(invoke_ms * MS), int(feed_ms * MS)
        self.invokes = self.feeds = 0
        self.slept: list[float] = []

    def clock(self) -> int:
        return self.now

    def invoke(self) -> None:
        self.invokes += 1
        self.now += self.invoke_ns

    def feed(self) -> None:
        self.feeds += 1
        self.now += self.feed_ns

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += int(seconds * 1e9)


def test_summarize_known_samples():
    stats = summarize([1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS])
    assert stats.count == 5 and stats.min_ms == 1 and stats.max_ms == 5
    assert stats.mean_ms == pytest.approx(3) and stats.p50_ms == pytest.approx(3)
    assert stats.std_ms == pytest.approx(math.sqrt(2.5))  # sample std, n - 1
    assert stats.p90_ms == pytest.approx(4.6) and stats.p99_ms == pytest.approx(
        4.96
    )  # linear interpolation
    assert stats.fps == pytest.approx(1000 / 3)


def test_summarize_one_sample_and_none():
    assert summarize([2 * MS]).std_ms == 0.0
    with pytest.raises(ValueError):
        summarize([])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=300))
def test_summarize_is_ordered_and_consistent(samples):
    s = summarize(samples)
    assert s.min_ms <= s.p50_ms <= s.p90_ms <= s.p99_ms <= s.max_ms
    assert s.min_ms - 1e-9 <= s.mean_ms <= s.max_ms + 1e-9
    assert s.fps * s.mean_ms == pytest.approx(1000)
    assert s.p50_ms == pytest.approx(float(np.median(samples)) / 1e6)


def test_repeat_spread_levels():
    steady = repeat_spread([summarize([10 * MS]), summarize([int(10.1 * MS)])])
    assert steady.relative == pytest.approx(0.1 / 10.05, rel=1e-6) and steady.level == "steady"
    noisy = repeat_spread([summarize([10 * MS]), summarize([13 * MS])])
    assert noisy.level == "very noisy"
    assert repeat_spread([summarize([10 * MS])]).level.startswith("unknown")


def test_min_time_rules_when_runs_are_met_early():
    fake = FakeTime(invoke_ms=10)
    result = measure(fake.invoke, MeasurePlan(min_runs=5, min_time_s=0.2), clock=fake.clock)
    assert len(result.samples_ns) == 20 and set(result.samples_ns) == {10 * MS}
    assert not result.capped and result.wall_ns == 200 * MS


def test_min_runs_rule_when_time_is_met_early():
    fake = FakeTime(invoke_ms=10)
    result = measure(fake.invoke, MeasurePlan(min_runs=30, min_time_s=0.1), clock=fake.clock)
    assert len(result.samples_ns) == 30 and not result.capped


def test_max_time_caps_and_says_so():
    fake = FakeTime(invoke_ms=10)
    result = measure(
        fake.invoke, MeasurePlan(min_runs=1000, min_time_s=0.1, max_time_s=0.5), clock=fake.clock
    )
    assert len(result.samples_ns) == 50 and result.capped


def test_feeding_inputs_is_outside_the_timed_region():
    fake = FakeTime(invoke_ms=10, feed_ms=5)
    result = measure(
        fake.invoke, MeasurePlan(min_runs=10, min_time_s=0), feed=fake.feed, clock=fake.clock
    )
    assert fake.feeds == fake.invokes == 10
    assert set(result.samples_ns) == {10 * MS}


def test_warm_up_needs_both_runs_and_time():
    fake = FakeTime(invoke_ms=10)
    assert (
        len(warm_up(fake.invoke, MeasurePlan(warmup_runs=1, warmup_time_s=0.05), clock=fake.clock))
        == 5
    )
    fake = FakeTime(invoke_ms=10)
    assert (
        len(warm_up(fake.invoke, MeasurePlan(warmup_runs=8, warmup_time_s=0.0), clock=fake.clock))
        == 8
    )


def test_fixed_rate_sleeps_between_frames_and_keeps_the_rate():
    fake = FakeTime(invoke_ms=10)
    plan = MeasurePlan(min_runs=50, min_time_s=0.0, fps=50)
    result = measure_fixed_rate(fake.invoke, plan, clock=fake.clock, sleep=fake.sleep)
    assert len(result.samples_ns) == 50 and result.dropped_frames == 0
    assert result.achieved_fps == pytest.approx(50)
    assert len(fake.slept) == 49 and all(s == pytest.approx(0.010) for s in fake.slept)


def test_fixed_rate_overrun_drops_frames_and_reports_achieved_fps():
    fake = FakeTime(invoke_ms=30)  # slower than the 20 ms frame period
    result = measure_fixed_rate(
        fake.invoke,
        MeasurePlan(min_runs=40, min_time_s=0.0, fps=50),
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert not fake.slept  # never idle: every inference starts on a frame that is already waiting
    assert result.achieved_fps == pytest.approx(1000 / 30, rel=0.02)
    frames_due = result.wall_ns / (20 * MS)
    assert len(result.samples_ns) + result.dropped_frames == pytest.approx(frames_due, abs=1)
    assert result.dropped_frames >= 15


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fps": 0}, "--fps"),
        ({"fps": -5}, "--fps"),
        ({"fps": float("nan")}, "--fps"),
        ({"fps": float("inf")}, "--fps"),
        ({"min_runs": 0}, "--min-runs"),
        ({"max_time_s": 0.5, "min_time_s": 1.0}, "--max-time"),
        ({"repeats": 0}, "--repeats"),
        ({"warmup_runs": 0}, "--warmup-runs"),
        ({"min_time_s": -1}, "--min-time"),
    ],
)
def test_plan_validation(change, message):
    with pytest.raises(UsageError, match=message):
        MeasurePlan(**change).validate()
