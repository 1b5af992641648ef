"""Every command puts the net and its inputs on the same device: the one ``resolve_device``
chose (the GPU where there is one; on a machine without one, the CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from dcgan.loop import fixed_noise
from dcgan.quality import draw_samples
from dcgan.weights import init_weights


def test_a_net_moved_to_the_device_draws_from_noise_made_there(backend):
    device = backend.resolve_device("auto")
    net_G = backend.to_device(backend.net_G(), device)
    Z = backend.as_tensor(fixed_noise(0, 100, backend.LAYOUT), device)
    images = backend.generate(net_G, Z)
    assert images.shape[0] == len(fixed_noise(0, 100, backend.LAYOUT))
    assert np.isfinite(images).all()


def test_the_quality_samples_are_drawn_on_the_chosen_device(backend):
    images = draw_samples(backend, init_weights(1)["net_G"], 8,
                          device=backend.resolve_device("auto"))
    assert images.shape == (8, 64, 64, 3)


def test_torch_moves_every_parameter_and_buffer(load_backend):
    torch_backend = load_backend("torch")
    import torch

    device = torch_backend.resolve_device("auto")
    net = torch_backend.to_device(torch_backend.net_G(), device)
    places = {t.device for t in [*net.parameters(), *net.buffers()]}
    assert places == {torch.device(device)}


def test_the_sample_command_draws_on_a_gpu_where_there_is_one(backend, tmp_path):
    if backend.resolve_device("auto") == backend.resolve_device("cpu"):
        pytest.skip(f"{backend.NAME} sees no GPU here; the CPU path is tested above")
    from dcgan.weights import save_weights

    save_weights(tmp_path / "weights.safetensors", init_weights(1))
    main = __import__(f"dcgan.{backend.NAME}.sample", fromlist=["main"]).main
    assert main(["--weights", str(tmp_path), "--num", "4", "--device", "gpu",
                 "--out", str(tmp_path / "g.png")]) == 0
