"""``sprites``: a synthetic, offline stand-in for the chapter's Pokemon dataset.

Small creature-like sprites drawn procedurally and deterministically, so that
the command line, the notebooks and the tests run without a network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dcgan.datasets.errors import DatasetError
from dcgan.datasets.staging import staged_folder

SPRITES_VERSION = 1
"""Part of the cache folder's name: raise it whenever the drawing changes."""
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
    if count < 1:
        raise DatasetError(f"the sprites dataset needs at least one image, got count={count}")
    folder = Path(root) / (f"sprites-v{SPRITES_VERSION}-n{count}-s{size}-seed{seed}"
                           + ("" if face else "-faceless"))
    if folder.is_dir():
        return folder
    with staged_folder(folder) as staging:
        for name in SPRITE_CLASSES[:count]:  # no empty class folder: ImageFolder refuses one
            (staging / name).mkdir()
        for i in range(count):
            rng = np.random.default_rng([seed, i])
            kind = SPRITE_CLASSES[i % len(SPRITE_CLASSES)]
            draw_sprite(rng, kind, size, face).save(staging / kind / f"{i:06d}.png")
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
