"""The chapter's output-size arithmetic, which every shape test relies on."""

import pytest

from dcgan.shapes import (
    conv_output_size,
    conv_transpose_output_size,
    discriminator_layers,
    generator_layers,
    in_layout,
)


@pytest.mark.parametrize("size", [4, 8, 16, 32])
def test_transposed_conv_with_k4_s2_p1_doubles_the_size(size):
    assert conv_transpose_output_size(size, kernel_size=4, strides=2, padding=1) == 2 * size


def test_transposed_conv_with_s1_p0_maps_1_to_4():
    assert conv_transpose_output_size(1, kernel_size=4, strides=1, padding=0) == 4


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_conv_with_k4_s2_p1_halves_the_size(size):
    assert conv_output_size(size, kernel_size=4, strides=2, padding=1) == size // 2


def test_generator_goes_from_a_latent_vector_to_a_64x64_rgb_image():
    layers = generator_layers(latent_dim=100, n_G=64)
    assert [layer.output_shape for layer in layers] == [
        (512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]
    assert [layer.block for layer in layers] == [True, True, True, True, False]


def test_discriminator_goes_from_a_64x64_image_to_one_logit():
    layers = discriminator_layers(n_D=64)
    assert [layer.output_shape for layer in layers] == [
        (64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4), (1, 1, 1)]


def test_nhwc_layout_moves_channels_last():
    assert in_layout((2, 3, 16, 8), "NHWC") == (2, 16, 8, 3)
    assert in_layout((2, 3, 16, 8), "NCHW") == (2, 3, 16, 8)
