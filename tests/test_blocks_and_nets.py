"""The chapter's shape claims, for every backend, with expected shapes from dcgan.shapes."""

import pytest
from conftest import random_batch

from dcgan.config import Config
from dcgan.shapes import (
    conv_output_size,
    conv_transpose_output_size,
    discriminator_layers,
    generator_layers,
    in_layout,
)
from dcgan.weights import canonical_shapes


def shape_of(backend, tensor):
    return backend.as_numpy(tensor).shape


def test_g_block_doubles_height_and_width(backend):
    x = random_batch(backend, (2, 3, 16, 16))
    g_blk = backend.G_block(20)
    size = conv_transpose_output_size(16, kernel_size=4, strides=2, padding=1)
    assert shape_of(backend, g_blk(x)) == in_layout((2, 20, size, size), backend.LAYOUT)
    assert size == 32


def test_g_block_with_stride_1_and_no_padding_maps_1x1_to_4x4(backend):
    x = random_batch(backend, (2, 3, 1, 1))
    g_blk = backend.G_block(20, strides=1, padding=0)
    size = conv_transpose_output_size(1, kernel_size=4, strides=1, padding=0)
    assert shape_of(backend, g_blk(x)) == in_layout((2, 20, size, size), backend.LAYOUT)


def test_d_block_halves_height_and_width(backend):
    x = random_batch(backend, (2, 3, 16, 16))
    d_blk = backend.D_block(20)
    size = conv_output_size(16, kernel_size=4, strides=2, padding=1)
    assert shape_of(backend, d_blk(x)) == in_layout((2, 20, size, size), backend.LAYOUT)
    assert size == 8


def _walk(backend, net, x, expected_layers):
    """Apply the net layer by layer: each convolution's output has the expected shape,
    and any layer after the last convolution (net_G's Tanh) keeps it."""
    shapes = []
    for layer in backend.layers(net):
        x = layer(x)
        shapes.append(shape_of(backend, x))
    expected = [in_layout((1, *layer.output_shape), backend.LAYOUT) for layer in expected_layers]
    assert shapes[:len(expected)] == expected
    assert all(shape == expected[-1] for shape in shapes[len(expected):])
    return x


def test_net_G_maps_noise_to_a_64x64_image_through_the_commented_shapes(backend):
    c = Config()
    net = backend.net_G(c.latent_dim, c.n_G)
    z = random_batch(backend, (1, c.latent_dim, 1, 1))
    out = _walk(backend, net, z, generator_layers(c.latent_dim, c.n_G))
    assert shape_of(backend, out) == in_layout((1, 3, 64, 64), backend.LAYOUT)
    assert shape_of(backend, net(z)) == in_layout((1, 3, 64, 64), backend.LAYOUT)


def test_net_D_maps_a_64x64_image_to_one_logit_through_the_commented_shapes(backend):
    c = Config()
    net = backend.net_D(c.n_D)
    x = random_batch(backend, (1, 3, 64, 64))
    _walk(backend, net, x, discriminator_layers(c.n_D))
    assert shape_of(backend, net(x)) == in_layout((1, 1, 1, 1), backend.LAYOUT)


@pytest.mark.parametrize("net_name", ["net_G", "net_D"])
def test_a_built_net_has_every_canonical_parameter_with_its_shape(backend, net_name):
    net = getattr(backend, net_name)()
    arrays = backend.to_canonical(net)
    assert {k: a.shape for k, a in arrays.items()} == canonical_shapes()[net_name]
