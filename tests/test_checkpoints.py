"""Runs survive interruption: a resumed run is the uninterrupted run, in every backend."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dcgan import backend as backends
from dcgan.checkpoints import CHECKPOINT_FILE, CheckpointError, load_checkpoint
from dcgan.config import Config
from dcgan.runs import METRICS_FILE, RunFolder, read_metrics
from dcgan.weights import init_weights, load_weights, save_weights


def _train(backend, folder, out, epochs, resume=False):
    """Train in this process into run folder ``out``, from scratch or from its checkpoint."""
    if resume:
        run, checkpoint = RunFolder.resume(out, backend.NAME, backend.LAYOUT, epochs)
        config = run.config
    else:
        config = Config(num_epochs=epochs, batch_size=4, seed=3, dataset="sprites",
                        num_workers=0, out=str(out))
        run, checkpoint = RunFolder.create(backend.NAME, backend.LAYOUT, config), None
    data_iter = backend.load_data(folder, config.batch_size, 0, seed=config.seed)
    net_D, net_G = backend.net_D(), backend.net_G()
    backend.train(net_D, net_G, data_iter, epochs, config.lr, config.latent_dim,
                  backend.resolve_device("cpu"), config=config, run=run, resume=checkpoint)
    return {"net_D": backend.to_canonical(net_D), "net_G": backend.to_canonical(net_G)}


def _losses(run_path):
    return [(row["epoch"], row["loss_D"], row["loss_G"]) for row in read_metrics(run_path)]


def _assert_same_weights(a, b):
    for net in a:
        for name in a[net]:
            np.testing.assert_array_equal(a[net][name], b[net][name], err_msg=f"{net} {name}")


def test_one_epoch_plus_a_resumed_epoch_is_two_uninterrupted_epochs(backend, tiny_image_folder,
                                                                     tmp_path):
    uninterrupted = _train(backend, tiny_image_folder, tmp_path / "two", epochs=2)
    _train(backend, tiny_image_folder, tmp_path / "one", epochs=1)
    assert load_checkpoint(tmp_path / "one" / CHECKPOINT_FILE, backend.NAME).position.epoch == 2
    resumed = _train(backend, tiny_image_folder, tmp_path / "one", epochs=2, resume=True)

    _assert_same_weights(uninterrupted, resumed)  # bit for bit, BatchNorm statistics included
    assert _losses(tmp_path / "one") == _losses(tmp_path / "two")
    assert len(_losses(tmp_path / "two")) == 2


def test_a_checkpoint_holds_both_nets_both_optimizers_the_position_and_the_config(
        backend, tiny_image_folder, tmp_path):
    _train(backend, tiny_image_folder, tmp_path / "run", epochs=1)
    checkpoint = load_checkpoint(tmp_path / "run" / CHECKPOINT_FILE)

    assert checkpoint.backend == backend.NAME
    assert checkpoint.config.seed == 3 and checkpoint.config.batch_size == 4
    assert (checkpoint.position.epoch, checkpoint.position.step) == (2, 0)
    assert [m.epoch for m in checkpoint.history] == [1]
    assert any("running_var" in name for name in checkpoint.nets["net_D"])
    for trainer in ("trainer_D", "trainer_G"):
        assert checkpoint.trainers[trainer], f"{trainer} state is missing"
        assert any(np.abs(a).max() > 0 for a in checkpoint.trainers[trainer].values())


def test_a_truncated_checkpoint_is_a_clear_error(backend, tiny_image_folder, tmp_path):
    _train(backend, tiny_image_folder, tmp_path / "run", epochs=1)
    path = tmp_path / "run" / CHECKPOINT_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or in another format"):
        load_checkpoint(path)


def test_a_foreign_file_is_not_taken_for_a_checkpoint(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint at all\n" * 10)
    with pytest.raises(CheckpointError, match="not a dcgan checkpoint"):
        load_checkpoint(text)
    weights = save_weights(tmp_path / "weights.safetensors", init_weights(0))
    with pytest.raises(CheckpointError, match="--init-from, not --resume"):
        load_checkpoint(weights)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_a_checkpoint_resumes_only_in_the_backend_that_wrote_it(backend, tiny_image_folder,
                                                                tmp_path):
    _train(backend, tiny_image_folder, tmp_path / "run", epochs=1)
    other = next(name for name in backends.BACKENDS if name != backend.NAME)
    with pytest.raises(CheckpointError, match=f"written by the {backend.NAME} backend"):
        load_checkpoint(tmp_path / "run" / CHECKPOINT_FILE, other)


def test_resuming_rewrites_metrics_from_the_checkpoint(backend, tiny_image_folder, tmp_path):
    _train(backend, tiny_image_folder, tmp_path / "run", epochs=1)
    with open(tmp_path / "run" / METRICS_FILE, "a") as f:  # an epoch that ended after it
        f.write(json.dumps({"epoch": 2, "loss_D": 9.0, "loss_G": 9.0}) + "\n")
    RunFolder.resume(tmp_path / "run", backend.NAME, backend.LAYOUT, 2)
    assert [row["epoch"] for row in read_metrics(tmp_path / "run")] == [1]


def _command(backend_name, *args):
    return [sys.executable, "-m", f"dcgan.{backend_name}.train", *args]


def _train_args(folder, out, epochs):
    return ["--data-dir", str(folder), "--batch-size", "4", "--num-workers", "0",
            "--seed", "3", "--epochs", str(epochs), "--out", str(out)]


def test_ctrl_c_checkpoints_and_exits_130_and_the_resumed_run_is_the_uninterrupted_one(
        backend, tmp_path):
    from dcgan.datasets import sprites

    folder = sprites(tmp_path / "data", count=16)  # 4 steps an epoch
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    epochs = 4
    full = subprocess.run(_command(backend.NAME, *_train_args(folder, tmp_path / "full", epochs)),
                          capture_output=True, text=True, env=env, timeout=600)
    assert full.returncode == 0, full.stderr[-2000:]

    run = tmp_path / "stopped"
    process = subprocess.Popen(_command(backend.NAME, *_train_args(folder, run, epochs)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not (run / METRICS_FILE).exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the run wrote no epoch in 300 s"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # during epoch 2 of 4
    _, stderr = process.communicate(timeout=300)

    assert process.returncode == 130, stderr[-2000:]
    assert f"--resume {run}" in stderr
    position = load_checkpoint(run / CHECKPOINT_FILE, backend.NAME).position
    assert (position.epoch, position.step) < (epochs + 1, 0), "the run ended before Ctrl-C"

    resumed = subprocess.run(_command(backend.NAME, "--resume", str(run)),
                             capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _assert_same_weights(load_weights(tmp_path / "full" / "weights.safetensors"),
                         load_weights(run / "weights.safetensors"))
    assert _losses(run) == _losses(tmp_path / "full")


def test_resume_without_a_checkpoint_is_a_usage_error(backend, tmp_path):
    result = subprocess.run(_command(backend.NAME, "--resume", str(tmp_path)),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and CHECKPOINT_FILE in result.stderr
