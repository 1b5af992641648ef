"""What only the TensorFlow backend has to prove: its padding modes are PyTorch's integer
padding, its loss has the chapter's scale, and its updates run BatchNorm in training mode.
(That its compiled step is its eager step is tested for every backend in test_parity.py.)"""

import numpy as np
import pytest
from conftest import nets_from, random_batch

from dcgan.shapes import array_in_layout


@pytest.fixture(scope="module")
def tfb(load_backend):
    return load_backend("tensorflow")


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def test_same_padding_of_a_stride_2_conv_pads_one_pixel_on_each_side(tfb, tf):
    import keras

    x = random_batch(tfb, (2, 3, 16, 16), seed=0)
    same = keras.layers.Conv2D(5, 4, 2, padding="same", use_bias=False)
    valid = keras.layers.Conv2D(5, 4, 2, padding="valid", use_bias=False)
    same(x), valid(x)
    valid.kernel.assign(same.kernel)
    # PyTorch's padding=1: zeros added on every side, then a plain convolution.
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    np.testing.assert_allclose(same(x).numpy(), valid(padded).numpy(), atol=1e-6)


def test_same_padding_of_a_stride_2_transposed_conv_crops_one_pixel_on_each_side(tfb, tf):
    import keras

    x = random_batch(tfb, (2, 3, 16, 16), seed=1)
    same = keras.layers.Conv2DTranspose(5, 4, 2, padding="same", use_bias=False)
    valid = keras.layers.Conv2DTranspose(5, 4, 2, padding="valid", use_bias=False)
    same(x), valid(x)
    valid.kernel.assign(same.kernel)
    # PyTorch's padding=1 for a transposed convolution: the full output, cropped by 1.
    full = valid(x).numpy()
    assert full.shape[1] == 34
    np.testing.assert_allclose(same(x).numpy(), full[:, 1:-1, 1:-1, :], atol=1e-6)


@pytest.mark.parametrize("block", ["G_block", "D_block"])
@pytest.mark.several_frameworks
def test_blocks_compute_what_the_pytorch_blocks_compute(tfb, load_backend, block):
    torch_backend = load_backend("torch")
    weights = {"conv": np.random.default_rng(0).normal(0, 0.1, (3, 8, 4, 4)).astype(np.float32)}
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 16, 16)).astype(np.float32)
    outputs = []
    for b in (tfb, torch_backend):
        blk = getattr(b, block)(8)
        y = blk(b.as_tensor(array_in_layout(x, b.LAYOUT)))  # builds the Keras block
        conv = blk.conv2d_trans if block == "G_block" else blk.conv2d
        kernel = weights["conv"] if block == "G_block" else weights["conv"].transpose(1, 0, 2, 3)
        if b.NAME == "tensorflow":
            conv.kernel.assign(kernel.transpose(2, 3, 1, 0))
            y = blk(b.as_tensor(array_in_layout(x, b.LAYOUT)), training=True)
        else:
            import torch

            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(kernel))
                y = blk(b.as_tensor(x))
        out = b.as_numpy(y)
        outputs.append(out.transpose(0, 3, 1, 2) if b.LAYOUT == "NHWC" else out)
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-4)


def test_the_loss_is_the_sum_over_the_batch_as_the_chapter_computes_it(tfb, tf):
    import keras

    logits = np.array([-2.0, -0.5, 0.0, 0.7, 3.0], np.float32)
    labels = np.array([1, 0, 1, 1, 0], np.float32)
    per_example = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    ours = tfb.make_loss()(labels.reshape(-1, 1), logits.reshape(-1, 1))
    # The chapter's TF tab: squeezed (N,) logits, Reduction.SUM, times batch_size.
    chapter = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")(
        labels, logits) * len(logits)
    np.testing.assert_allclose(float(ours), per_example.sum(), rtol=1e-6)
    np.testing.assert_allclose(float(chapter), per_example.sum(), rtol=1e-6)


def test_the_updates_run_batchnorm_in_training_mode(tfb):
    net_D, net_G = nets_from(tfb)
    trainer_D, _ = tfb.make_trainers(net_D, net_G, lr=0.005)
    before = tfb.to_canonical(net_D)["0.batch_norm.running_mean"]
    tfb.update_D(random_batch(tfb, (4, 3, 64, 64), seed=5),
                 random_batch(tfb, (4, 100, 1, 1), seed=6), net_D, net_G, tfb.make_loss(),
                 trainer_D)
    after = tfb.to_canonical(net_D)["0.batch_norm.running_mean"]
    assert np.abs(after - before).max() > 0, "inference-mode BatchNorm never updates its statistics"
