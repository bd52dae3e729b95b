"""The calibration notes say what is true: a folder the user passed is named as the thing that has few
images (not "pass --calibration DIR"), and a count equal to the images found is not "more than there are"."""

from __future__ import annotations

import numpy as np

from edgedeploy.converters.calibration import ImageSet, calibration_notes, split_counts


def _image_set(found: int, requested: int | None, folder: str | None) -> ImageSet:
    used, held = split_counts(found, requested)
    one = np.zeros((1, 4, 4, 3), np.float32)
    return ImageSet(
        [one] * used,
        [one] * held,
        [],
        [],
        folder or "photos shipped with edgedeploy",
        found=found,
        user_folder=folder is not None,
    )


def _warnings(found: int, requested: int | None, folder: str | None) -> list[str]:
    notes = calibration_notes(_image_set(found, requested, folder), requested)
    return [n for n in notes if n.startswith("warning:")]


def test_a_passed_folder_of_130_photos_is_the_folder_having_few():
    (warning,) = _warnings(130, None, "my_photos")
    assert "my_photos has 130 images, few" in warning and "calibrated on 98" in warning
    assert "pass --calibration" not in warning  # it was passed
    assert (
        "--calibration-count 100 calibrates on 100 and holds 30 back" in warning
    )  # true: 100 + 30


def test_a_small_passed_folder_says_add_images_to_it():
    (warning,) = _warnings(40, None, "my_photos")
    assert "my_photos has 40 image(s), few" in warning and "add images to it" in warning


def test_every_image_asked_for_is_not_more_than_there_are():
    notes = calibration_notes(_image_set(200, 200, "my_photos"), 200)
    assert not any("asked for more" in n for n in notes)
    assert not any(n.startswith("warning:") for n in notes)  # 168 calibrate: not few either
    assert any("--calibration-count 200 is every image there is" in n for n in notes)
    assert any("held 32 back" in n for n in notes)


def test_more_asked_than_found_and_no_folder_passed_still_say_so():
    warnings = _warnings(8, 200, None)
    assert any("asked for more images than there are (8 found)" in w for w in warnings)
    assert any("pass --calibration DIR" in w for w in warnings)
