"""``sprites`` and ``frame-like-sprites``: synthetic, offline stand-ins for the chapter's
Pokemon dataset.

Small creature-like sprites drawn procedurally and deterministically, so that
the command line, the notebooks and the tests run without a network. The
``sprites`` are flat creatures with one face on a light ground; the
``frame-like-sprites`` are the same body shapes drawn as the real Pokemon
frames look (on white, at many sizes, shaded and outlined), the first data on
which a DCGAN here learns varied creatures (docs/demo-study.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from dcgan.datasets.errors import DatasetError
from dcgan.datasets.staging import staged_folder

SPRITES_VERSION = 1
"""Part of the sprites' cache folder's name: raise it whenever their drawing changes."""
FRAME_LIKE_SPRITES_VERSION = 1
"""Part of the frame-like sprites' cache folder's name: raise it whenever their drawing
changes."""
SPRITE_CLASSES = ("blob", "bug", "bird", "ghost")
"""The body shapes, one class folder each."""


def sprites(root: Path, count: int = 2000, size: int = 64, seed: int = 0,
            face: bool = True) -> Path:
    """An image folder of ``count`` procedurally drawn sprites, made once under ``root``.

    Sprite ``i`` depends only on ``seed`` and ``i``, so the set is the same on
    every machine. The classes are body shapes (:data:`SPRITE_CLASSES`).
    ``face=False`` draws the same creatures without their eyes and mouth
    (:func:`draw_sprite`), in a folder of its own.
    """
    folder = Path(root) / (f"sprites-v{SPRITES_VERSION}-n{count}-s{size}-seed{seed}"
                           + ("" if face else "-faceless"))
    return _drawn_folder("sprites", folder, count, seed,
                         lambda rng, kind: draw_sprite(rng, kind, size, face))


def frame_like_sprites(root: Path, count: int = 2000, size: int = 64, seed: int = 0) -> Path:
    """An image folder of ``count`` sprites drawn as the Pokemon frames look
    (:func:`draw_frame_like_sprite`), made once under ``root``.

    Sprite ``i`` depends only on ``seed`` and ``i``, and is of the same body shape
    (:data:`SPRITE_CLASSES`, one class folder each) as sprite ``i`` of :func:`sprites`.
    """
    folder = Path(root) / (f"frame-like-sprites-v{FRAME_LIKE_SPRITES_VERSION}-n{count}"
                           f"-s{size}-seed{seed}")
    return _drawn_folder("frame-like-sprites", folder, count, seed,
                         lambda rng, kind: draw_frame_like_sprite(rng, kind, size))


def _drawn_folder(dataset: str, folder: Path, count: int, seed: int,
                  draw: Callable[[np.random.Generator, str], Image.Image]) -> Path:
    """``folder`` of the dataset ``dataset``, made once: ``count`` sprites, sprite ``i`` of
    the body shape ``i`` names, drawn with a generator seeded by ``seed`` and ``i``."""
    if count < 1:
        raise DatasetError(f"the {dataset} dataset needs at least one image, got "
                           f"count={count}; pass --num-images 1 or more")
    if folder.is_dir():
        return folder
    with staged_folder(folder) as staging:
        for name in SPRITE_CLASSES[:count]:  # no empty class folder: ImageFolder refuses one
            (staging / name).mkdir()
        for i in range(count):
            kind = SPRITE_CLASSES[i % len(SPRITE_CLASSES)]
            draw(np.random.default_rng([seed, i]), kind).save(staging / kind / f"{i:06d}.png")
    return folder


def _color(rng: np.random.Generator, low: int, high: int) -> tuple[int, int, int]:
    r, g, b = rng.integers(low, high, size=3)
    return int(r), int(g), int(b)


def draw_sprite(rng: np.random.Generator, kind: str, size: int = 64,
                face: bool = True) -> Image.Image:
    """One RGB sprite: a coloured creature of body shape ``kind`` on a plain light background.

    ``face=False`` leaves out the eyes and the mouth (the last things drawn), which every
    creature shares; the body is the same drawing (docs/demo-study.md measures the
    difference)."""
    scale = size / 64
    image = Image.new("RGB", (size, size), _color(rng, 190, 256))
    draw = ImageDraw.Draw(image)
    body, dark = _color(rng, 30, 220), _color(rng, 0, 70)
    cx, cy = size / 2 + rng.uniform(-4, 4) * scale, size / 2 + rng.uniform(-3, 5) * scale
    w, h = rng.uniform(14, 22) * scale, rng.uniform(12, 20) * scale
    if kind == "bug":
        for side in (-1, 1):
            for k in range(3):
                y = cy - h / 2 + (k + 1) * h / 4
                draw.line([(cx, y), (cx + side * (w + 8 * scale), y + (k - 1) * 5 * scale)],
                          fill=dark, width=max(1, round(2 * scale)))
    elif kind == "bird":
        for side in (-1, 1):
            draw.polygon([(cx, cy), (cx + side * (w + 10 * scale), cy - h * 0.8),
                          (cx + side * w * 0.6, cy + h * 0.3)], fill=_color(rng, 30, 220))
    if kind == "ghost":
        draw.rectangle([cx - w, cy - h * 0.2, cx + w, cy + h], fill=body)
        draw.ellipse([cx - w, cy - h * 1.2, cx + w, cy + h * 0.8], fill=body)
    else:
        draw.ellipse([cx - w, cy - h, cx + w, cy + h], fill=body, outline=dark)
    if kind == "blob":
        for side in (-1, 1):
            draw.polygon([(cx + side * w * 0.3, cy - h * 0.8), (cx + side * w * 0.9, cy - h * 1.5),
                          (cx + side * w * 0.8, cy - h * 0.5)], fill=body, outline=dark)
    if not face:
        return image
    eye_y, eye_dx, eye_r = cy - h * 0.25, w * 0.4, max(1.5, rng.uniform(2, 4) * scale)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse([ex - eye_r * 1.6, eye_y - eye_r * 1.6, ex + eye_r * 1.6, eye_y + eye_r * 1.6],
                     fill=(255, 255, 255))
        draw.ellipse([ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r], fill=dark)
    mouth_y = cy + h * 0.35
    draw.arc([cx - w * 0.35, mouth_y - h * 0.2, cx + w * 0.35, mouth_y + h * 0.2], 20, 160,
             fill=dark, width=max(1, round(scale)))
    return image


def _mixed(colour: tuple[int, ...], other: tuple[int, ...], t: float) -> tuple[int, ...]:
    return tuple(round(a + (b - a) * t) for a, b in zip(colour, other))


def draw_frame_like_sprite(rng: np.random.Generator, kind: str, size: int = 64) -> Image.Image:
    """One RGB sprite of body shape ``kind`` drawn as the Pokemon frames look: on white, at
    its own size (0.55 to 1.05 of :func:`draw_sprite`'s), a body in any colour with a shaded lower
    right, a highlight, a dark outline of its own hue, ears, wings, a belly in a second
    colour, small eyes with a glint; drawn at twice the size and halved, so that its edges
    are soft as the frames' resampled edges are. The body shapes are the sprites' own."""
    up = 2
    n = size * up
    unit = n / 64
    s = unit * rng.uniform(0.55, 1.05)
    image = Image.new("RGB", (n, n), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    body, part = _color(rng, 0, 256), _color(rng, 0, 256)
    line = _mixed(body, (0, 0, 0), 0.75)
    shade, light = _mixed(body, (0, 0, 0), 0.35), _mixed(body, (255, 255, 255), 0.45)
    lw = max(1, round(1.5 * unit))
    cx, cy = n / 2 + rng.uniform(-6, 6) * unit, n / 2 + rng.uniform(-4, 6) * unit
    w, h = rng.uniform(13, 21) * s, rng.uniform(11, 19) * s
    if kind == "bug":
        for side in (-1, 1):
            for k in range(3):
                y = cy - h / 2 + (k + 1) * h / 4
                draw.line([(cx, y), (cx + side * (w + 9 * s), y + (k - 1) * 6 * s)],
                          fill=line, width=2 * lw)
            draw.line([(cx + side * w * 0.3, cy - h * 0.8),
                       (cx + side * w * 0.8, cy - h * 1.6)], fill=line, width=lw)
    elif kind == "bird":
        for side in (-1, 1):
            draw.polygon([(cx, cy), (cx + side * (w + 11 * s), cy - h * 0.9),
                          (cx + side * w * 0.6, cy + h * 0.35)], fill=part, outline=line,
                         width=lw)
    elif kind == "ghost":
        for k in range(4):
            x0 = cx - w + k * w / 2
            draw.polygon([(x0, cy), (x0 + w / 2, cy), (x0 + w / 4, cy + h * 1.15)],
                         fill=shade, outline=line, width=lw)
        draw.rectangle([cx - w, cy - h * 0.2, cx + w, cy + h * 0.6], fill=shade)
    x0, y0, x1, y1 = ([cx - w, cy - h * 1.2, cx + w, cy + h * 0.8] if kind == "ghost"
                      else [cx - w, cy - h, cx + w, cy + h])
    draw.ellipse([x0, y0, x1, y1], fill=shade, outline=line, width=lw)
    inset = lw * 1.5
    draw.ellipse([x0 + inset, y0 + inset, x1 - (x1 - x0) * 0.18, y1 - (y1 - y0) * 0.22],
                 fill=body)
    draw.ellipse([x0 + (x1 - x0) * 0.2, y0 + (y1 - y0) * 0.12, x0 + (x1 - x0) * 0.42,
                  y0 + (y1 - y0) * 0.3], fill=light)
    if rng.random() < 0.6:
        draw.ellipse([cx - w * 0.45, cy + h * 0.05, cx + w * 0.45, cy + h * 0.75],
                     fill=_mixed(part, (255, 255, 255), 0.5))
    if kind == "blob":
        for side in (-1, 1):
            draw.polygon([(cx + side * w * 0.3, cy - h * 0.8),
                          (cx + side * w * 0.95, cy - h * 1.6),
                          (cx + side * w * 0.8, cy - h * 0.45)], fill=part, outline=line,
                         width=lw)
    elif kind == "bird":
        draw.polygon([(cx - 3 * s, cy - h * 0.05), (cx + 3 * s, cy - h * 0.05),
                      (cx, cy + h * 0.3)], fill=(240, 170, 30), outline=line, width=lw)
    eye_y, eye_dx, eye_r = cy - h * 0.35, w * 0.38, rng.uniform(1.5, 3.5) * s
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse([ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r], fill=(20, 20, 20))
        draw.ellipse([ex - eye_r * 0.2, eye_y - eye_r * 0.8, ex + eye_r * 0.4,
                      eye_y - eye_r * 0.2], fill=(255, 255, 255))
    return image.reduce(up)
