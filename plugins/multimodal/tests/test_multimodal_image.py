"""multimodal.image on real files: PNG, JPEG and .npy images, mode checks and conversion,
corrupt files located while the others go on, resize/crop to 224x224 in [0, 1]."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autoglm.testing import run_node
from autoglm_multimodal.errors import ItemsFailed
from autoglm_multimodal.items import write_items
from autoglm_multimodal.nodes.image import ImageNode


def _manifest(tmp_path: Path, files: dict[str, Path]) -> str:
    rows = [{"id": k, "split": "train", "image": str(v)} for k, v in files.items()]
    return str(write_items(tmp_path / "items.jsonl", rows))


@pytest.fixture
def images(tmp_path) -> dict[str, Path]:
    y, x = np.mgrid[0:40, 0:60]
    rgb = np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)  # smooth: JPEG-friendly
    files = {"png": tmp_path / "a.png", "jpeg": tmp_path / "b.jpg", "npy": tmp_path / "c.npy"}
    Image.fromarray(rgb).save(files["png"])
    Image.fromarray(rgb).save(files["jpeg"], quality=95)
    np.save(files["npy"], rgb)
    files["palette"] = tmp_path / "d.png"
    Image.fromarray(rgb).convert("P").save(files["palette"])
    files["grey"] = tmp_path / "e.png"
    Image.fromarray(rgb[..., 0]).save(files["grey"])
    return files


def test_png_jpeg_npy_and_converted_modes_resize_to_224_in_unit_range(tmp_path, images):
    config = {"normalize": "none"}
    out = run_node(ImageNode, config, {"items": _manifest(tmp_path, images)}, home=tmp_path)
    assert (out.ok, out.failed, out.shape) == (5, 0, [5, 3, 224, 224])
    batch = np.load(Path(out.folder) / "features.npy")
    assert batch.min() >= 0 and batch.max() <= 1
    assert np.abs(batch[0] - batch[2]).max() < 1e-5  # the PNG and the .npy of one picture
    assert np.abs(batch[0] - batch[1]).mean() < 0.05  # JPEG: lossy, close
    assert np.allclose(batch[4][0], batch[4][1])  # grey converted to RGB: equal channels


def test_strict_mode_names_the_file_and_the_mode(tmp_path, images):
    config = {"convert": False, "normalize": "none", "size": 8}
    out = run_node(ImageNode, config, {"items": _manifest(tmp_path, images)}, home=tmp_path)
    assert out.ok == 3
    assert out.problems == [
        f"{images['palette']}: image mode P, expected RGB (set convert: true) (item 'palette')",
        f"{images['grey']}: image mode L, expected RGB (set convert: true) (item 'grey')",
    ]
    with pytest.raises(ItemsFailed, match="image mode P, expected RGB"):
        run_node(
            ImageNode,
            config | {"on_error": "fail"},
            {"items": _manifest(tmp_path, images)},
            home=tmp_path,
        )


def test_corrupt_and_odd_files_are_located_and_the_others_go_on(tmp_path, images):
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(images["png"].read_bytes()[:100])
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 3, 4, 5)))
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    hot = tmp_path / "hot.npy"
    np.save(hot, np.full((4, 4), 3.5))
    files = {"good": images["png"], "truncated": truncated, "text": text, "cube": cube}
    files |= {"pickled": pickled, "hot": hot}
    out = run_node(ImageNode, {"size": 16}, {"items": _manifest(tmp_path, files)}, home=tmp_path)
    assert (out.ok, out.failed) == (1, 5)
    problems = {
        json.loads(line)["item"]: json.loads(line)["problem"]
        for line in Path(out.problems_file).read_text().splitlines()
    }
    assert "not a readable image" in problems["truncated"]
    assert "not a readable image" in problems["text"]
    assert "shape [2, 3, 4, 5] is no image" in problems["cube"]
    assert "not a readable .npy image" in problems["pickled"]  # never unpickled
    assert "within [0, 1]" in problems["hot"]


def test_fit_normalisation_centres_training_pixels_and_crop_sizes(tmp_path, images):
    config = {"mode": "L", "size": 32, "crop": 24, "normalize": "fit"}
    out = run_node(ImageNode, config, {"items": _manifest(tmp_path, images)}, home=tmp_path)
    batch = np.load(Path(out.folder) / "features.npy")
    assert batch.shape == (5, 1, 24, 24)
    assert abs(float(batch.mean())) < 1e-4 and abs(float(batch.std()) - 1) < 1e-3


def test_keep_aspect_needs_a_crop_to_batch_images_of_other_shapes(tmp_path, images):
    wide = tmp_path / "wide.png"
    Image.fromarray(np.zeros((10, 80, 3), np.uint8)).save(wide)
    files = {"a": images["png"], "b": images["jpeg"], "wide": wide}
    config = {"size": 20, "keep_aspect": True, "normalize": "none"}
    out = run_node(ImageNode, config, {"items": _manifest(tmp_path, files)}, home=tmp_path)
    assert out.ok == 2 and out.shape == [3, 3, 20, 30]
    assert "resized to [3, 20, 160], the others to [3, 20, 30]" in out.problems[0]
    cropped = run_node(
        ImageNode, config | {"crop": 16}, {"items": _manifest(tmp_path, files)}, home=tmp_path
    )
    assert cropped.ok == 3 and cropped.shape == [3, 3, 16, 16]
