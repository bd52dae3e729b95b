"""compare --eval refuses a model whose output count does not fit the classes, naming both counts,
with exit 4 and before any conversion (it used to score a 10-output model on 3 folders as "20%")."""

from __future__ import annotations

import shutil

import pytest
from tiny_models import export_onnx, tiny_cnn

from edgedeploy.compare.accuracy import check_output_count, load_eval_set
from edgedeploy.errors import ExitCode, InputError


@pytest.fixture
def three_classes(photo_dir, tmp_path):
    root = tmp_path / "eval"
    photos = sorted(p for p in photo_dir.iterdir() if p.suffix == ".jpg")[:3]
    for name, photo in zip(("cat", "dog", "owl"), photos):
        (root / name).mkdir(parents=True)
        shutil.copy(photo, root / name / photo.name)
    return root


@pytest.fixture(scope="module")
def ten_outputs(tmp_path_factory):
    return export_onnx(tiny_cnn(), tmp_path_factory.mktemp("tiny") / "tiny.onnx")  # 10 outputs


def _labels(tmp_path, lines: list[str]):
    path = tmp_path / f"labels{len(lines)}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ten_outputs_against_three_class_folders_is_refused_before_converting(
    cli, ten_outputs, three_classes, tmp_path
):
    out = tmp_path / "study"
    result = cli("compare", ten_outputs, "--eval", three_classes, "-o", out)
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "10 outputs" in result.err and "3 class folders" in result.err
    assert "--labels" in result.err  # what to do about it
    assert not out.exists()  # refused before any output (and so before any conversion)


def test_a_labels_file_of_another_length_is_refused(cli, ten_outputs, three_classes, tmp_path):
    labels = _labels(tmp_path, ["cat", "dog", "owl"])
    result = cli("compare", ten_outputs, "--eval", three_classes, "--labels", labels)
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "10 outputs" in result.err and "3 lines" in result.err


def test_a_builtin_counts_as_its_1000_classes(cli, three_classes, tmp_path):
    result = cli("compare", "mobilenet_v2", "--pretrained", "--eval", three_classes)
    assert result.code == ExitCode.UNREADABLE_INPUT, result
    assert "1000 outputs" in result.err and "3 class folders" in result.err


def test_counts_that_fit_pass(three_classes, tmp_path):
    plain = load_eval_set(three_classes)
    check_output_count(plain, 3, "m")  # three folders, three outputs
    ten = load_eval_set(three_classes, _labels(tmp_path, ["cat", "dog", "owl", *"abcdefg"]))
    check_output_count(ten, 10, "m")
    tf_style = _labels(tmp_path, ["background", "cat", "dog", "owl"])  # 1001-line style files
    check_output_count(load_eval_set(three_classes, tf_style), 3, "m")
    with pytest.raises(InputError, match="has 4 outputs but .* 3 class folders"):
        check_output_count(plain, 4, "m")
