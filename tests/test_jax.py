"""What only the JAX backend has to prove: Flax's explicit padding is PyTorch's integer
padding, the pixels are torchvision's exactly, BatchNorm's mode belongs to the net and
``forward`` gives it back, and the compiled step is compiled once. (That the compiled step
is the eager step, and equals the other backends' step, is tested in test_parity.py.)"""

import logging

import numpy as np
import pytest
from conftest import nets_from, random_batch

from dcgan.shapes import conv_output_size, conv_transpose_output_size
from dcgan.weights import init_weights


@pytest.fixture(scope="module")
def jb(load_backend):
    return load_backend("jax")


@pytest.mark.parametrize("side, strides, padding", [(1, 1, 0), (4, 2, 1), (16, 2, 1)])
def test_a_g_block_has_the_chapters_output_size_for_pytorchs_padding(jb, side, strides, padding):
    block = jb.G_block(5, in_channels=3, strides=strides, padding=padding)
    out = block(random_batch(jb, (2, 3, side, side)))
    expected = conv_transpose_output_size(side, 4, strides, padding)
    assert out.shape == (2, expected, expected, 5)


@pytest.mark.parametrize("side", [16, 64])
def test_a_d_block_has_the_chapters_output_size_for_pytorchs_padding(jb, side):
    out = jb.D_block(5)(random_batch(jb, (2, 3, side, side)))
    expected = conv_output_size(side, 4, 2, 1)
    assert out.shape == (2, expected, expected, 5)


def test_the_pixels_are_torchvisions_to_tensor_and_normalize_exactly(jb):
    from dcgan.jax.data import _to_input

    levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    X = np.asarray(_to_input(levels))
    # torchvision: ToTensor divides by 255, Normalize(0.5, 0.5) subtracts and divides.
    expected = (levels.astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    assert X.dtype == np.float32
    assert np.array_equal(X, expected)
    assert X.min() == -1.0 and X.max() == 1.0


def test_nets_are_made_in_training_mode_and_forward_gives_the_mode_back(jb):
    from dcgan.jax.nets import _in_training_mode

    net_D, net_G = nets_from(jb)
    assert _in_training_mode(net_D) and _in_training_mode(net_G)
    Z = random_batch(jb, (4, 100, 1, 1))
    jb.forward(net_G, Z, training=False)
    assert _in_training_mode(net_G)
    net_G.eval()
    jb.forward(net_G, Z, training=True)
    assert not _in_training_mode(net_G)


def test_running_statistics_move_only_in_training_mode(jb):
    net_D, net_G = nets_from(jb)
    before = jb.to_canonical(net_G)["0.batch_norm.running_mean"]
    Z = random_batch(jb, (4, 100, 1, 1))
    jb.forward(net_G, Z, training=False)
    assert np.array_equal(jb.to_canonical(net_G)["0.batch_norm.running_mean"], before)
    jb.forward(net_G, Z, training=True)
    assert not np.array_equal(jb.to_canonical(net_G)["0.batch_norm.running_mean"], before)


def test_the_compiled_step_is_compiled_once_for_one_batch_size(jb, caplog):
    import jax

    # Small nets keep the compilation short; loaded weights are placed on the device, the
    # optimizers' fresh state is not, which compiled the step twice before make_step
    # placed everything.
    weights = init_weights(0, n_G=8, n_D=8)
    net_D, net_G = jb.net_D(n_D=8), jb.net_G(n_G=8)
    jb.from_canonical(net_D, weights["net_D"])
    jb.from_canonical(net_G, weights["net_G"])
    trainer_D, trainer_G = jb.make_trainers(net_D, net_G, lr=0.005)
    step = jb.make_step(net_D, net_G, jb.make_loss(), trainer_D, trainer_G, 100)
    X, Z = random_batch(jb, (4, 3, 64, 64)), random_batch(jb, (4, 100, 1, 1))
    with caplog.at_level(logging.WARNING), jax.log_compiles(True):
        for _ in range(3):
            step(X, Z)
    compiled = [r for r in caplog.records if "_both_updates" in r.getMessage()
                and "Compiling" in r.getMessage()]
    assert len(compiled) == 1, [r.getMessage() for r in compiled]
