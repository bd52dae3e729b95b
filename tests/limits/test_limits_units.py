"""`edgedeploy limits` without a model: the scan plan's parsing and checks, how the limits and cliffs are
read off the points, and the large-activation evidence recomputed from Google's compiled files."""

from __future__ import annotations

import pytest

from edgedeploy.errors import UsageError
from edgedeploy.limits import cliffs as find
from edgedeploy.limits.plan import Size, parse_alphas, parse_resolutions, points
from edgedeploy.limits.scan import Point
from edgedeploy.targets.point_facts import Concern, PointFacts


def test_resolution_range_is_ten_sizes_on_multiples_of_32_with_the_ends_kept():
    sizes = parse_resolutions("96..1024")
    assert len(sizes) == 10 and sizes[0] == 96 and sizes[-1] == 1024
    assert all(s % 32 == 0 for s in sizes) and list(sizes) == sorted(set(sizes))
    assert parse_resolutions("96..224:64") == (96, 160, 224)
    assert parse_resolutions("224,96,224") == (96, 224)


@pytest.mark.parametrize(
    "text, says",
    [
        ("224..96", "empty"),
        ("16", "out of range"),
        ("16..64", "out of range"),
        ("96..2048", "out of range"),
        ("96..224:0", "positive"),
        ("abc", "number"),
        (",", "no size"),
    ],
)
def test_bad_resolutions_are_usage_errors(text, says):
    with pytest.raises(UsageError, match=says):
        parse_resolutions(text)


def test_alphas():
    assert parse_alphas("1.0,0.5") == (0.5, 1.0)
    assert parse_alphas("0.5..1.5:0.25") == (0.5, 0.75, 1.0, 1.25, 1.5)
    for bad in ("0.5..1.5", "1.5..0.5:0.25", "x"):
        with pytest.raises(UsageError):
            parse_alphas(bad)


def test_a_grid_has_a_ceiling():
    with pytest.raises(UsageError, match="at most"):
        points(tuple(i / 100 for i in range(1, 101)), tuple((s, s) for s in range(32, 1024, 64)))


def _point(alpha, size, mapping="ok", parameters="ok", activations="ok") -> Point:
    facts = PointFacts(
        total_ops=10,
        tpu_ops=10,
        risky_ops=0,
        cpu_ops=0,
        macs_total=1,
        macs_tpu=1,
        param_bytes=1,
        on_chip_bytes=1,
        streamed_bytes=0,
        largest_activation_bytes=size,
        largest_activation_shape=[],
        mapping=Concern(mapping, "op 3 SOFTMAX"),
        parameters=Concern(parameters, "op 9 FC"),
        activations=Concern(activations, "op 1 CONV_2D"),
    )
    return Point(Size(alpha, size, size), facts)


def test_limit_is_the_last_size_of_the_unbroken_run_and_the_cliffs_say_where_each_concern_turns():
    grid = [
        _point(0.5, 96),
        _point(0.5, 160),
        _point(0.5, 224, activations="risky"),
        _point(0.5, 288),
        _point(1.0, 96, parameters="streams"),
        _point(1.0, 160, parameters="streams"),
        _point(1.0, 224, parameters="streams", activations="risky"),
        _point(1.0, 288, parameters="streams"),
    ]
    limits = {found.alpha: found for found in find.limits(grid)}
    assert limits[0.5].limit.size.height == 160 and limits[0.5].past.size.height == 224
    assert limits[0.5].fits_again == [288]
    assert limits[1.0].limit is None and limits[1.0].past.size.height == 96
    cliffs = [
        (c.concern, c.axis, c.alpha, c.last_ok, c.first, c.verdict) for c in find.cliffs(grid)
    ]
    assert ("activations", "resolution", 0.5, 160, 224, "risky") in cliffs
    assert ("activations", "resolution", 1.0, 160, 224, "risky") in cliffs
    assert ("parameters", "alpha", None, 0.5, 1.0, "streams") in cliffs  # at every size: one cliff
    assert not [c for c in cliffs if c[0] == "mapping"]
    limit, past = find.headline(grid, find.limits(grid))
    assert (limit.size.alpha, limit.size.height, past.size.alpha, past.size.height) == (
        0.5,
        160,
        0.5,
        224,
    )


def test_a_concern_bad_everywhere_is_one_cliff_and_the_past_point_is_the_next_alpha_when_sizes_run_out():
    grid = [_point(0.5, 96, mapping="risky"), _point(1.0, 96, mapping="risky")]
    found = find.cliffs(grid)
    assert [(c.concern, c.axis) for c in found] == [("mapping", "everywhere")]
    fits = [_point(0.5, 96), _point(1.0, 96, parameters="risky")]
    limit, past = find.headline(fits, find.limits(fits))
    assert (limit.size.alpha, past.size.alpha) == (0.5, 1.0)


def test_activation_evidence_is_what_googles_compiled_files_hold(test_data):
    """Every 'observed' size in rules/large-activations.json is recomputed from the compiled file."""
    from edgedeploy.targets.edgetpu.inspect.compiled import recover
    from edgedeploy.targets.edgetpu.predict.activations import load_evidence
    from edgedeploy.tflite import read_model

    evidence = load_evidence()
    observed = [r for r in evidence.compiled if r["how"] == "observed"]
    assert observed and evidence.largest_compiled["largest_activation_bytes"] == 11107248
    for record in observed:
        compiled = next(test_data.glob(f"edgetpu/**/{record['model']}_edgetpu.tflite"))
        source = read_model(compiled.with_name(f"{record['model']}.tflite"))
        mapped = recover(read_model(compiled), source).mapped
        tensors = {
            t
            for i in mapped
            for t in (*source.ops[i].inputs, *source.ops[i].outputs)
            if t >= 0 and not source.tensors[t].is_constant
        }
        largest = max(tensors, key=lambda t: source.tensors[t].elements)
        assert source.tensors[largest].elements == record["largest_activation_bytes"], record[
            "model"
        ]
        assert list(source.tensors[largest].shape) == record["shape"]
    # the failures and successes of the same model overlap: no size threshold, hence 'risky', never 'fails'
    assert evidence.smallest_failed["largest_activation_bytes"] < max(
        r["largest_activation_bytes"]
        for r in evidence.compiled
        if r["model"] == evidence.smallest_failed["model"]
    )
