"""Reading one image file as the nets' input pixels, the same way for every backend.

The chapter reads its images with each framework's own decoder and resizes
them with each framework's own ``Resize``. Those disagree: torchvision's
PIL path clips 16-bit images to white, TensorFlow and OpenCV drop an alpha
channel instead of compositing it, and the three resizes differ (only PIL's
antialiases when it shrinks). So the file formats and the chapter's
``Resize((64, 64))`` are done here, once, with Pillow, and each backend's
pipeline applies the chapter's ``ToTensor`` and ``Normalize(0.5, 0.5)`` in
its own framework: they all read the same pixels, bit for bit.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

IMAGE_SIZE = 64
"""The chapter's ``Resize((64, 64))``: every image becomes 64x64, squashed if it is not square."""

BACKGROUND = (255, 255, 255)
"""Transparent pixels are composited on white, the background of the chapter's sprites."""

SQUASH_RATIO = 1.25
"""Images whose long side is more than this times the short side are reported as squashed."""
UPSCALE_RATIO = 2.0
"""Images that must grow more than this on a side are reported as upscaled (blurred)."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow image as 8-bit RGB.

    * 16-bit grey (modes ``I;16*``; ``I`` as Pillow opens some 16-bit files)
      keeps its high byte, as Pillow does itself for 16-bit RGB PNGs.
      ``convert("RGB")`` alone would clip every value above 255 to white.
    * Transparency (RGBA, LA, a palette or grey image with a transparent
      colour) is composited on :data:`BACKGROUND`.
    * Palette, grey, CMYK and the rest: Pillow's own conversion.
    """
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.int64)
        image = Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(flat, rgba).convert("RGB")
    return image.convert("RGB")


def read_image(path: str | Path, size: int = IMAGE_SIZE) -> np.ndarray:
    """The image file at ``path`` as (size, size, 3) uint8 RGB: :func:`to_rgb`, then the
    chapter's ``Resize((size, size))`` as torchvision does it on a PIL image (bilinear,
    antialiased when shrinking)."""
    if isinstance(path, bytes):  # tf.numpy_function hands over bytes
        path = path.decode()
    with Image.open(path) as image:
        rgb = to_rgb(image)
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.array(rgb, dtype=np.uint8)  # writable, as torch.from_numpy wants


def decode_images(paths: Sequence[str | Path], num_workers: int = 0) -> np.ndarray:
    """The files as one uint8 array (N, 64, 64, 3), each read by :func:`read_image`,
    ``num_workers`` threads at a time (0: one after another)."""
    if num_workers:
        with ThreadPoolExecutor(num_workers) as pool:
            return np.stack(list(pool.map(read_image, paths)))
    return np.stack([read_image(path) for path in paths])


@dataclass(frozen=True)
class SizeReport:
    """How many images of a folder the chapter's resize squashes or strongly upscales."""

    total: int
    squashed: list[tuple[Path, tuple[int, int]]]
    upscaled: list[tuple[Path, tuple[int, int]]]

    def message(self, folder: Path, size: int = IMAGE_SIZE) -> str | None:
        """One warning line for a user, or None when nothing is worth saying."""
        parts = []
        if self.squashed:
            path, (w, h) = self.squashed[0]
            parts.append(f"{len(self.squashed)} of {self.total} images are not square (e.g. "
                         f"{path.name}, {w}x{h}) and are squashed to {size}x{size}; crop "
                         f"them first to keep their shape")
        if self.upscaled:
            path, (w, h) = self.upscaled[0]
            parts.append(f"{len(self.upscaled)} of {self.total} images are smaller than "
                         f"{size / UPSCALE_RATIO:.0f} pixels on a side (e.g. {path.name}, "
                         f"{w}x{h}) and are upscaled, so they look blurred")
        return f"{folder}: " + "; ".join(parts) if parts else None


def size_report(sizes: Iterable[tuple[Path, tuple[int, int]]],
                size: int = IMAGE_SIZE) -> SizeReport:
    """Which of ``(path, (width, height))`` the resize to ``size`` squashes or upscales."""
    sizes = list(sizes)
    squashed = [(p, s) for p, s in sizes if max(s) > SQUASH_RATIO * min(s)]
    upscaled = [(p, s) for p, s in sizes if size > UPSCALE_RATIO * min(s)]
    return SizeReport(len(sizes), squashed, upscaled)


def warn_about_sizes(folder: Path, sizes: Iterable[tuple[Path, tuple[int, int]]],
                     size: int = IMAGE_SIZE) -> SizeReport:
    """Warn once (a ``UserWarning``) if the resize squashes or strongly upscales images."""
    report = size_report(sizes, size)
    message = report.message(folder, size)
    if message:
        warnings.warn(message, stacklevel=3)
    return report
