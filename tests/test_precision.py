"""``--precision``: fp32 by default on the CPU, mixed bf16 and fp16 through each framework's own
machinery where the backend has it, and a clear error where it has not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import nets_from, random_batch

from dcgan import cli
from dcgan.precision import resolve_precision

# The precisions each backend runs on the CPU besides fp32; the others it refuses.
MIXED_ON_CPU = {"torch": ("bf16", "fp16"), "tensorflow": ("bf16", "fp16"), "jax": ("bf16",),
                "mxnet": ()}


@pytest.fixture
def cpu(backend):
    """The CPU device of ``backend``; the precision is put back to fp32 afterwards, since it is
    the process's (Keras' global policy, PyTorch's TF32 switches)."""
    device = backend.resolve_device("cpu")
    yield device
    backend.use_precision("fp32", device)


def test_auto_is_fp32_on_the_cpu_and_tf32_on_a_gpu():
    assert resolve_precision("auto", on_gpu=False) == "fp32"
    assert resolve_precision("auto", on_gpu=True) == "tf32"
    assert resolve_precision("bf16", on_gpu=False) == "bf16"


def test_tf32_on_the_cpu_and_unknown_names_are_refused_naming_the_option():
    with pytest.raises(ValueError, match="--precision tf32.*use --precision fp32"):
        resolve_precision("tf32", on_gpu=False)
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        resolve_precision("fp8", on_gpu=False)


def test_every_backend_runs_fp32_on_the_cpu_and_refuses_tf32(backend, cpu):
    assert backend.use_precision("auto", cpu) == "fp32"
    with pytest.raises(ValueError, match="--precision tf32"):
        backend.use_precision("tf32", cpu)


def _one_step(backend, device):
    net_D, net_G = nets_from(backend)
    loss = backend.make_loss()
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    step = backend.make_step(net_D, net_G, loss, trainer_D, trainer_G, 100)
    X = random_batch(backend, (8, 3, 64, 64), seed=1)
    Z = random_batch(backend, (8, 100, 1, 1), seed=2)
    losses = tuple(map(float, step(X, Z)))
    return losses, backend.to_canonical(net_G), backend.generate(net_G, Z)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_keeps_float32_weights_and_losses_near_fp32s(backend, cpu, precision):
    if precision not in MIXED_ON_CPU[backend.NAME]:
        with pytest.raises(ValueError, match=f"--precision {precision}: the {backend.NAME} "
                                             "backend cannot run it on the CPU"):
            backend.use_precision(precision, cpu)
        return
    backend.use_precision("fp32", cpu)
    fp32_losses, _, _ = _one_step(backend, cpu)
    assert backend.use_precision(precision, cpu) == precision
    losses, weights, images = _one_step(backend, cpu)
    assert all(a.dtype == np.float32 for a in weights.values())
    assert images.dtype == np.float32
    # 16-bit convolutions move the summed losses of 8 examples a little, not more.
    assert not np.allclose(losses, fp32_losses, rtol=1e-6, atol=0), "nothing ran in 16 bits"
    np.testing.assert_allclose(losses, fp32_losses, rtol=0.05)


def test_a_run_records_its_resolved_precision_or_refuses_clearly(backend, tiny_image_folder,
                                                                  tmp_path, capsys):
    command = backend.main
    args = ["--data-dir", str(tiny_image_folder), "--epochs", "1", "--batch-size", "4",
            "--num-workers", "0", "--eval-every", "0", "--device", "cpu"]
    try:
        assert command([*args, "--out", str(tmp_path / "auto")]) == 0
        config = json.loads((tmp_path / "auto" / "config.json").read_text())
        assert config["precision"] == "fp32"
        if "bf16" in MIXED_ON_CPU[backend.NAME]:
            assert command([*args, "--precision", "bf16", "--out", str(tmp_path / "bf16")]) == 0
            config = json.loads((tmp_path / "bf16" / "config.json").read_text())
            assert config["precision"] == "bf16"
            samples = tmp_path / "samples.png"
            assert cli.sample_main(backend.NAME, ["--weights", str(tmp_path / "bf16"), "--num",
                                                  "4", "--device", "cpu", "--precision", "bf16",
                                                  "--out", str(samples)]) == 0
            assert samples.stat().st_size > 0
        else:
            with pytest.raises(SystemExit) as exit_:
                command([*args, "--precision", "bf16", "--out", str(tmp_path / "bf16")])
            assert exit_.value.code == 2
            assert "--precision bf16" in capsys.readouterr().err
            assert not (tmp_path / "bf16").exists(), "a refused run leaves no folder"
    finally:
        backend.use_precision("fp32", backend.resolve_device("cpu"))


def test_nets_built_before_the_precision_was_chosen_are_refused(backend, cpu):
    if backend.NAME == "torch":
        pytest.skip("PyTorch's autocast decides the precision per call, not when a net is made")
    if "bf16" not in MIXED_ON_CPU[backend.NAME]:
        pytest.skip(f"the {backend.NAME} backend runs only fp32 on the CPU")
    net_D, net_G = nets_from(backend)  # built at fp32
    backend.use_precision("bf16", cpu)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    with pytest.raises(ValueError, match="call use_precision before net_G and net_D"):
        backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100)


def _step_and_state(backend, net_D, net_G, trainer_D, trainer_G, X, Z, steps):
    step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100)
    losses = [tuple(map(float, step(X, Z))) for _ in range(steps)]
    return losses, step


def test_an_fp16_checkpoint_keeps_the_loss_scale_so_a_resumed_run_goes_on_alike(backend, cpu):
    """fp16's loss scale falls from 2^16 over the first steps (docs/performance.md); a
    resumed run that started it afresh would skip its next steps again."""
    if "fp16" not in MIXED_ON_CPU[backend.NAME]:
        pytest.skip(f"{backend.NAME} runs no fp16 on the CPU")
    backend.use_precision("fp16", cpu)
    X = random_batch(backend, (4, 3, 64, 64), seed=1)  # 16-bit steps are slow on a CPU
    Z = random_batch(backend, (4, 100, 1, 1), seed=2)
    net_D, net_G = nets_from(backend)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    _, step = _step_and_state(backend, net_D, net_G, trainer_D, trainer_G, X, Z, steps=2)
    weights = {"net_D": backend.to_canonical(net_D), "net_G": backend.to_canonical(net_G)}
    states = [backend.trainer_state(t) for t in (trainer_D, trainer_G)]
    uninterrupted = [tuple(map(float, step(X, Z))) for _ in range(2)]

    net_D, net_G = nets_from(backend, weights)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    for trainer, state in zip((trainer_D, trainer_G), states):
        backend.load_trainer_state(trainer, state)
    resumed, _ = _step_and_state(backend, net_D, net_G, trainer_D, trainer_G, X, Z, steps=2)
    assert resumed == uninterrupted
