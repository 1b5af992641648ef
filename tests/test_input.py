"""``--input memory``: the images decoded once, held as uint8 where the nets run, and each
batch made there, giving the same batches as the chapter's file pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dcgan.config import Config
from dcgan.datasets.memory import resolve_input
from dcgan.devices import device_label


def _where(tensor) -> str:
    """The device a framework's tensor lives on, as ``dcgan.devices`` names it."""
    for attribute in ("ctx", "device"):  # MXNet, then PyTorch and TensorFlow
        if hasattr(tensor, attribute) and not callable(getattr(tensor, attribute)):
            return device_label(getattr(tensor, attribute))
    return device_label(next(iter(tensor.devices())))  # JAX


def _epoch(batches, backend, epoch=1, skip=0):
    batches.set_epoch(epoch, skip)
    return [(backend.as_numpy(X), np.asarray(labels)) for X, labels in batches]


def test_auto_holds_the_images_in_memory_on_a_gpu_and_reads_files_on_the_cpu():
    assert resolve_input("auto", on_gpu=True) == "memory"
    assert resolve_input("auto", on_gpu=False) == "pipeline"
    assert resolve_input("pipeline", on_gpu=True) == "pipeline"
    with pytest.raises(ValueError, match="unknown input 'disk'"):
        resolve_input("disk", on_gpu=False)


@pytest.mark.parametrize("epoch, skip", [(1, 0), (3, 1)])
def test_images_held_in_memory_give_the_pipelines_batches_bit_for_bit(backend, tmp_path,
                                                                     epoch, skip):
    from dcgan.datasets import sprites

    folder = sprites(tmp_path, count=10)
    cpu = backend.resolve_device("cpu")
    files = _epoch(backend.load_data(folder, 4, seed=3), backend, epoch, skip)
    held = _epoch(backend.load_data(folder, 4, seed=3, in_memory=True, device=cpu), backend,
                  epoch, skip)
    assert len(held) == len(files) == 3 - skip
    for (X_files, labels_files), (X_held, labels_held) in zip(files, held):
        assert X_held.dtype == np.float32
        np.testing.assert_array_equal(X_held, X_files)
        np.testing.assert_array_equal(labels_held, labels_files)


def test_each_pass_over_the_held_images_is_the_next_epochs_shuffle(backend, tiny_image_folder):
    batches = backend.load_data(tiny_image_folder, 4, seed=1, in_memory=True,
                                device=backend.resolve_device("cpu"))
    first, second = (np.concatenate([backend.as_numpy(X) for X, _ in batches]) for _ in range(2))
    assert batches.epoch == 3
    assert not np.array_equal(first, second)
    by_content = sorted(first.reshape(8, -1).tolist())
    assert sorted(second.reshape(8, -1).tolist()) == by_content


@pytest.mark.parametrize("where", ["cpu", "gpu"])
def test_the_held_batches_are_made_on_the_chosen_device(backend, tiny_image_folder, where):
    if where == "gpu" and backend.resolve_device("auto") == backend.resolve_device("cpu"):
        pytest.skip(f"{backend.NAME} sees no GPU here; the CPU is tested beside this")
    device = backend.resolve_device(where)
    X, _ = next(iter(backend.load_data(tiny_image_folder, 4, in_memory=True, device=device)))
    assert _where(X) == device_label(device)


def test_a_run_held_in_memory_trains_as_the_file_pipeline_does(backend, tiny_image_folder,
                                                              tmp_path):
    runs = {}
    for choice in ("memory", "auto"):
        out = tmp_path / choice
        assert backend.main(["--data-dir", str(tiny_image_folder), "--epochs", "1",
                             "--batch-size", "4", "--num-workers", "0", "--device", "cpu",
                             "--eval-every", "0", "--input", choice, "--out", str(out)]) == 0
        runs[choice] = ([json.loads(line) for line in (out / "metrics.jsonl").read_text()
                         .splitlines()], Config.from_json((out / "config.json").read_text()))
    (memory_rows, memory_config), (auto_rows, auto_config) = runs["memory"], runs["auto"]
    assert memory_config.input == "memory" and auto_config.input == "pipeline"
    assert [(r["loss_D"], r["loss_G"]) for r in memory_rows] == \
        [(r["loss_D"], r["loss_G"]) for r in auto_rows]
