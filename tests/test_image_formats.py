"""Every backend reads every kind of image file to the same pixels: 8- and 16-bit, palette,
grey, transparent and CMYK files, square or not, large or tiny (the chapter's
``Resize((64, 64))`` done once, in ``dcgan.datasets.read_image``)."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from dcgan.datasets import image_folder, labelled_images, read_image
from dcgan.shapes import array_to_nchw


def png_16bit_rgb(array: np.ndarray) -> bytes:
    """A 16-bit RGB PNG written byte by byte (Pillow cannot write one)."""
    h, w, _ = array.shape
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _gradient(w: int, h: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1),
                     (x + y) * 255 // max(w + h - 2, 1)], -1).astype(np.uint8)


def write_every_kind(folder):
    """One file of each mode and of odd sizes, in two class folders; returns the folder."""
    modes, sizes = folder / "modes", folder / "sizes"
    modes.mkdir(parents=True)
    sizes.mkdir()
    rgb = _gradient(64, 64)
    Image.fromarray(rgb).save(modes / "rgb8.png")
    grey16 = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(grey16).save(modes / "grey16.png")  # mode I;16
    (modes / "rgb16.png").write_bytes(png_16bit_rgb(rgb.astype(np.uint16) * 257))
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16).save(modes / "palette.png")
    palette = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16)
    palette.save(modes / "palette_transparent.png", transparency=0)
    Image.fromarray(rgb[..., 0]).save(modes / "grey8.png")
    rgba = np.dstack([rgb, np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))])
    Image.fromarray(rgba, mode="RGBA").save(modes / "rgba.png")
    Image.fromarray(rgba[..., [0, 3]], mode="LA").save(modes / "grey_alpha.png")
    Image.fromarray(rgb).convert("CMYK").save(modes / "cmyk.jpg", quality=95)
    Image.fromarray(rgb[..., 1]).save(modes / "grey.jpg", quality=95)
    for w, h in ((200, 64), (64, 200), (97, 61), (7, 5), (1, 1), (65, 63), (300, 300)):
        Image.fromarray(_gradient(w, h)).save(sizes / f"{w}x{h}.png")
    return folder


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    return write_every_kind(tmp_path_factory.mktemp("every-kind"))


def test_sixteen_bit_grey_keeps_its_high_byte_instead_of_turning_white(every_kind):
    pixels = read_image(every_kind / "modes" / "grey16.png")
    expected = (np.arange(64 * 64).reshape(64, 64) * 16) >> 8
    np.testing.assert_array_equal(pixels[..., 0], expected)
    assert pixels.mean() < 200, "not the clipped white image"


def test_sixteen_bit_rgb_reads_as_its_eight_bit_original(every_kind):
    np.testing.assert_array_equal(read_image(every_kind / "modes" / "rgb16.png"),
                                  read_image(every_kind / "modes" / "rgb8.png"))


def test_transparent_pixels_are_composited_on_white(every_kind):
    pixels = read_image(every_kind / "modes" / "rgba.png").astype(float)
    rgb, alpha = _gradient(64, 64).astype(float), np.arange(64) * 4 / 255
    expected = rgb * alpha[None, :, None] + 255 * (1 - alpha[None, :, None])
    assert np.abs(pixels - expected).max() <= 1
    assert (pixels[:, 0] == 255).all(), "the fully transparent column is white"


def test_a_palette_colour_marked_transparent_is_white(every_kind):
    pixels = read_image(every_kind / "modes" / "palette_transparent.png")
    with Image.open(every_kind / "modes" / "palette_transparent.png") as image:
        marked = np.asarray(image) == 0
    assert marked.any() and (pixels[marked] == 255).all()


def test_cmyk_and_grey_files_become_rgb(every_kind):
    cmyk = read_image(every_kind / "modes" / "cmyk.jpg").astype(int)
    assert cmyk.shape == (64, 64, 3)
    assert np.abs(cmyk - _gradient(64, 64)).mean() < 3
    grey = read_image(every_kind / "modes" / "grey.jpg")
    assert (grey[..., 0] == grey[..., 2]).all()


@pytest.mark.parametrize("name", ["200x64", "64x200", "97x61", "7x5", "1x1", "65x63", "300x300"])
def test_every_size_becomes_64_by_64_as_torchvision_resizes_a_pil_image(every_kind, name):
    path = every_kind / "sizes" / f"{name}.png"
    with Image.open(path) as image:
        expected = np.asarray(image.convert("RGB").resize((64, 64), Image.BILINEAR))
    np.testing.assert_array_equal(read_image(path), expected)


def test_each_pipeline_reads_every_kind_of_file_to_the_same_pixels(backend, every_kind):
    """The cross-backend data test: each backend's own pipeline (order off) gives exactly
    read_image's pixels, scaled to [-1, 1], for every file: so all backends agree."""
    paths, labels = labelled_images(every_kind)
    expected = np.stack([read_image(p) for p in paths]).astype(np.float32) / 127.5 - 1
    got, got_labels = [], []
    for X, y in backend.load_data(every_kind, batch_size=5, num_workers=2, shuffle=False):
        got.append(array_to_nchw(backend.as_numpy(X), backend.LAYOUT))
        got_labels.extend(int(v) for v in np.asarray(backend.as_numpy(y)
                                                     if hasattr(y, "shape") else y))
    images = np.concatenate(got).transpose(0, 2, 3, 1)
    assert images.shape == expected.shape
    worst = np.abs(images - expected).max(axis=(1, 2, 3))
    assert worst.max() <= 1e-6, f"{paths[int(worst.argmax())].name} differs by {worst.max()}"
    assert got_labels == labels


def test_a_folder_of_odd_sizes_is_reported_in_one_warning(every_kind):
    with pytest.warns(UserWarning) as caught:
        image_folder(data_dir=every_kind)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "4 of 17 images are not square" in message
    assert "2 of 17 images are smaller than 32 pixels" in message


def test_square_images_of_a_fair_size_are_not_reported(tiny_image_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image_folder(data_dir=tiny_image_folder)
