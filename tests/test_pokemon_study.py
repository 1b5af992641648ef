"""The real-Pokemon study script (docs/pokemon_study.py): its subset of the frames and the
table quoted in docs/pokemon-study.md. Reading the GIFs is tested in test_gifs.py; the
training runs are the chapter's train command, tested elsewhere."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from dcgan.datasets import labelled_images


@pytest.fixture(scope="module")
def study(doc_script):
    return doc_script("pokemon_study")


@pytest.fixture
def frames(tmp_path):
    folder = tmp_path / "pokeapi-bw-front-back-s64"
    for view, count in (("front", 6), ("back", 4)):
        (folder / view).mkdir(parents=True)
        for k in range(count):
            Image.new("RGB", (64, 64), (k * 20, 0, 0)).save(folder / view / f"{k}-000.png")
    return folder


def test_a_subset_is_a_seeded_choice_that_keeps_the_class_folders(study, frames, tmp_path):
    first = study.subset(frames, 5, tmp_path / "a")
    again = study.subset(frames, 5, tmp_path / "b")
    names = sorted(p.relative_to(first).as_posix() for p in labelled_images(first)[0])
    assert len(names) == 5
    assert names == sorted(p.relative_to(again).as_posix() for p in labelled_images(again)[0])
    assert sorted(p.name for p in first.iterdir()) == ["back", "front"]


def test_asking_for_every_frame_uses_the_folder_itself(study, frames, tmp_path):
    assert study.subset(frames, 10, tmp_path) == frames


def _quality(swd: float, epoch: int) -> dict:
    floor = {"swd_average": 20.0, "fd": 30.0, "precision": 0.9, "recall": 0.85}
    return {"epoch": epoch, "examples_per_sec": 50.0, "quality": {
        "swd_average": swd, "fd": 400.0, "precision": 0.5, "recall": 0.25,
        "classes_covered": 2, "classes_present": 2, "noise_floor": floor}}


def test_the_table_reports_the_last_measured_epoch_beside_its_floor(study, tmp_path):
    run = tmp_path / "torch"
    run.mkdir()
    lines = [_quality(300.0, 1), {"epoch": 2, "examples_per_sec": 50.0}, _quality(150.0, 3)]
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(m) for m in lines) + "\n")
    assert [q["epoch"] for q in study.epoch_quality(run)] == [1, 3]
    assert study.table({"torch": run}).splitlines()[-1] == \
        "| torch | 3 | 150 (20) | 400 (30) | 0.50 (0.90) | 0.25 (0.85) | 2/2 | 50 |"


def test_one_view_has_no_classifier_so_only_its_swd_is_reported(study, tmp_path):
    run = tmp_path / "torch"
    run.mkdir()
    line = {"epoch": 5, "examples_per_sec": 40.0, "quality": {
        "swd_average": 180.0, "noise_floor": {"swd_average": 26.0}}}
    (run / "metrics.jsonl").write_text(json.dumps(line) + "\n")
    assert study.table({"torch": run}).splitlines()[-1] == \
        "| torch | 5 | 180 (26) | n/a | n/a | n/a | n/a | 40 |"
