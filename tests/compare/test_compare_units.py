"""`edgedeploy compare` parts that need no conversion: specs, the study plan, the cache key and its
atomic entries, the time-left estimate and the --eval class mapping. The recommendation rules are in
test_compare_recommend.py, bad input and what the study writes in test_compare_command_report.py."""

from __future__ import annotations

import json

import pytest

from edgedeploy.compare.accuracy import SORTED_FOLDERS, load_eval_set, top1_accuracy
from edgedeploy.compare.cache import ConversionCache, cache_key, key_inputs
from edgedeploy.compare.plan import build_plan
from edgedeploy.compare.progress import Timing, describe_remaining, estimate_remaining
from edgedeploy.compare.specs import parse_resolutions, parse_spec, parse_weights
from edgedeploy.converters.context import ConvertOptions
from edgedeploy.errors import InputError, UsageError
from edgedeploy.outputs import STAGING_PREFIX

# --- specs and plan -------------------------------------------------------------------------------


def test_spec_with_alphas_and_plain_name():
    spec = parse_spec("mobilenet_v3_small:0.2,0.5")
    assert (spec.builtin, spec.alphas, spec.is_file) == ("mobilenet_v3_small", (0.2, 0.5), False)
    assert parse_spec("mobilenet_edgetpu").alphas == (1.0,)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("mobilenet_v3_smal", "did you mean mobilenet_v3_small"),
        ("mobilenet_v3_small:abc", "'abc' is not a number"),
        ("mobilenet_v3_small:", "names no value"),
        ("mobilenet_edgetpu_v2_s:0.5", "offered 1"),
        ("mobilenet_v2:3", "choose a width multiplier in (0, 2]"),
    ],
)
def test_bad_specs_are_usage_errors(text, fragment):
    with pytest.raises(UsageError) as caught:
        parse_spec(text)
    assert fragment in str(caught.value)


def test_model_file_specs(tmp_path):
    model = tmp_path / "net.onnx"
    model.write_bytes(b"x")
    spec = parse_spec(str(model))
    assert spec.is_file and spec.path == model and spec.builtin is None
    with pytest.raises(InputError, match="no such file|not found"):
        parse_spec(str(tmp_path / "missing.onnx"))


def test_resolutions():
    assert parse_resolutions("96, 224,96") == (96, 224)
    assert parse_resolutions(None) == (None,)
    with pytest.raises(UsageError, match="out of range"):
        parse_resolutions("16")
    with pytest.raises(UsageError, match="not a number"):
        parse_resolutions("96,big")


def test_plan_is_model_x_alpha_x_resolution_in_the_order_given(tmp_path):
    model = tmp_path / "net.onnx"
    model.write_bytes(b"x")
    specs = [
        parse_spec("mobilenet_v2:0.5,1.0"),
        parse_spec(str(model)),
        parse_spec("mobilenet_v2:0.5"),
    ]
    items = build_plan(specs, (96, 224), [], pretrained=False)
    assert [i.label for i in items] == [
        "mobilenet_v2_0.5_96",
        "mobilenet_v2_0.5_224",
        "mobilenet_v2_1.0_96",
        "mobilenet_v2_1.0_224",
        "net",
    ]  # a file is one item; repeats fold
    assert items[-1].resolution is None and items[-1].weights_kind == "in the model file"
    assert items[0].weights_kind == "random"


@pytest.mark.parametrize("file_first", [False, True])
def test_a_file_named_like_a_built_in_row_gets_its_folder_in_the_label(tmp_path, file_first):
    # Found by mypy (issue 22): a file whose stem is a built-in row's label crashed the plan
    # (AttributeError) after the built-in, and silently replaced the built-in row before it.
    folder = tmp_path / "mine"
    folder.mkdir()
    model = folder / "mobilenet_v2_1.0_224.onnx"
    model.write_bytes(b"x")
    specs = [parse_spec("mobilenet_v2"), parse_spec(str(model))]
    items = build_plan(specs[::-1] if file_first else specs, (224,), [], pretrained=False)
    by_label = {i.label: i for i in items}
    assert sorted(by_label) == ["mine/mobilenet_v2_1.0_224", "mobilenet_v2_1.0_224"]
    assert by_label["mobilenet_v2_1.0_224"].spec.builtin == "mobilenet_v2"
    assert by_label["mine/mobilenet_v2_1.0_224"].spec.path == model


def test_plan_weights(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"w")
    one = build_plan([parse_spec("mobilenet_v2")], (None,), parse_weights([str(weights)]), False)
    assert one[0].weights == weights and one[0].resolution == 224
    two = [parse_spec("mobilenet_v2:0.5,1.0")]
    with pytest.raises(UsageError, match="ambiguous"):
        build_plan(two, (None,), parse_weights([str(weights)]), False)
    named = build_plan(two, (None,), parse_weights([f"mobilenet_v2:1.0={weights}"]), False)
    assert [i.weights for i in named] == [None, weights]
    with pytest.raises(UsageError, match="no model of the study matches"):
        build_plan(two, (None,), parse_weights([f"mobilenet_edgetpu={weights}"]), False)
    with pytest.raises(UsageError, match="file not found"):
        parse_weights([str(tmp_path / "none.pth")])
    with pytest.raises(UsageError, match="no published pretrained weights"):
        build_plan([parse_spec("mobilenet_v3_small:0.2")], (None,), [], pretrained=True)


# --- cache ----------------------------------------------------------------------------------------


def _key(item, options=None, tools=None):
    return cache_key(
        item,
        key_inputs(item, options or ConvertOptions(compile=False), tools or {"tensorflow": "2.19"}),
    )


def test_cache_key_follows_every_input(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    model = tmp_path / "net.onnx"
    model.write_bytes(b"graph")
    plan = build_plan([parse_spec("mobilenet_v2:0.5,1.0")], (96, 224), [], False)
    base = _key(plan[0])
    assert base == _key(plan[0]) and base.startswith("mobilenet_v2_0.5_96-")
    assert len({_key(item) for item in plan}) == 4  # alpha and resolution
    assert _key(plan[0], ConvertOptions(compile=False, per_tensor=True)) != base
    assert _key(plan[0], tools={"tensorflow": "2.20"}) != base
    weighted = build_plan(
        [parse_spec("mobilenet_v2:0.5")], (96,), parse_weights([str(weights)]), False
    )[0]
    before = _key(weighted)
    weights.write_bytes(b"two")  # same file name, other bytes
    assert _key(weighted) != before != base
    item = build_plan([parse_spec(str(model))], (None,), [], False)[0]
    before = _key(item)
    model.write_bytes(b"graph v2")
    assert _key(item) != before


def test_cache_entry_appears_only_when_complete(tmp_path):
    cache = ConversionCache(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        with cache.filling("k1", {"x": 1}) as work:
            work.mkdir()
            (work / "report.json").write_text("{}")
            raise KeyboardInterrupt
    assert not cache.entry("k1").exists() and list(cache.root.iterdir()) == []
    with cache.filling("k2", {"x": 2}) as work:
        work.mkdir()
        (work / "m_int8.tflite").write_bytes(b"i")
        (work / "m_float32.tflite").write_bytes(b"f")
        (work / "report.json").write_text(
            json.dumps(
                {"outputs": {"int8_tflite": "m_int8.tflite", "float32_tflite": "m_float32.tflite"}}
            )
        )
    assert cache.lookup("k2")["outputs"]["int8_tflite"] == "m_int8.tflite"
    assert json.loads((cache.entry("k2") / "compare-key.json").read_text()) == {"x": 2}
    (cache.entry("k2") / "m_int8.tflite").unlink()
    assert cache.lookup("k2") is None  # files deleted by hand: not a hit
    (cache.root / f"{STAGING_PREFIX}left").mkdir()
    assert cache.remove_partials() == [f"{STAGING_PREFIX}left"] and [
        p.name for p in cache.root.iterdir()
    ] == ["k2"]


# --- progress estimate ----------------------------------------------------------------------------


def test_time_left_estimate_from_finished_items():
    assert estimate_remaining(Timing(), to_convert=3, left=3) is None
    assert (
        estimate_remaining(Timing(convert=[], other=[4.0]), to_convert=2, left=2) is None
    )  # no conversion yet
    assert (
        estimate_remaining(Timing(convert=[60.0, 40.0], other=[5.0, 7.0]), to_convert=1, left=3)
        == 50 + 3 * 6
    )
    assert (
        estimate_remaining(Timing(convert=[], other=[2.0]), to_convert=0, left=4) == 8.0
    )  # all cached
    assert estimate_remaining(Timing(), to_convert=0, left=0) == 0.0
    assert "estimate" in describe_remaining(30) and describe_remaining(600).startswith("~10 min")
    assert "after the first model" in describe_remaining(None)


# --- eval set -------------------------------------------------------------------------------------


def _eval_dir(tmp_path, photo_dir, classes):
    photos = sorted(photo_dir.glob("*.jpg"))
    for index, name in enumerate(classes):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / photos[index].name).write_bytes(photos[index].read_bytes())
    return tmp_path


def test_eval_classes_are_sorted_folder_names_by_default(tmp_path, photo_dir):
    root = _eval_dir(tmp_path, photo_dir, ["zebra", "apple", "mango"])
    found = load_eval_set(root)
    assert found.classes == {"apple": 0, "mango": 1, "zebra": 2} and found.mapping == SORTED_FOLDERS
    assert sorted(label for _, label in found.images) == [0, 1, 2]


def test_eval_classes_from_a_labels_file(tmp_path, photo_dir, imagenet_labels):
    labels = imagenet_labels
    lines = labels.read_text().splitlines()
    root = _eval_dir(tmp_path, photo_dir, ["tench", "Goldfish", "hot dog"])
    found = load_eval_set(root, labels)
    assert found.classes == {
        "Goldfish": 2,
        "hot dog": next(i for i, line in enumerate(lines) if line.startswith("hotdog")),
        "tench": 1,
    }
    shifted, note = found.labels_for(outputs=len(lines) - 1)  # 1000-output model, 1001-line file
    assert (
        sorted(shifted) == sorted(label - 1 for _, label in found.images) and "background" in note
    )
    assert found.labels_for(outputs=len(lines))[1] is None
    (root / "not a class").mkdir()
    with pytest.raises(UsageError, match="'not a class' is not a line of --labels"):
        load_eval_set(root, labels)


def test_eval_bad_folders(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        load_eval_set(tmp_path / "nope")
    with pytest.raises(InputError, match="no sub-folders"):
        load_eval_set(tmp_path)
    (tmp_path / "cls").mkdir()
    with pytest.raises(InputError, match="no images"):
        load_eval_set(tmp_path)


def test_top1_needs_enough_outputs():
    import numpy as np

    outputs = [np.array([0.1, 0.9, 0.0]), np.array([0.8, 0.1, 0.1])]
    assert top1_accuracy(outputs, [1, 1]) == 0.5
    with pytest.raises(UsageError, match="3 outputs but --eval needs class index 5"):
        top1_accuracy(outputs, [5, 0])
