"""Walks through the latent space, nearest training images and vector arithmetic: the
pictures of the DCGAN paper beyond the chapter (Radford et al. 2015, sections 6.1
and 6.3), written once for every backend.

Everything here is numpy on noise vectors and images; the sample command
(``dcgan.cli.sample_main``) turns noise into images with the backend at hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

ImagesOf = Callable[[np.ndarray], np.ndarray]
"""Noise (N, latent_dim) to NHWC images in [0, 1], drawn by a backend's generator."""

PATHS = ("slerp", "linear")
"""How a walk goes from one noise vector to another."""


def seed_vector(seed: int, latent_dim: int) -> np.ndarray:
    """The noise vector of ``seed``: the first one ``sample --seed SEED`` draws."""
    return np.random.default_rng(seed).standard_normal(latent_dim).astype(np.float32)


def lerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    """The straight line from ``z0`` (t = 0) to ``z1`` (t = 1)."""
    return (1 - t) * z0 + t * z1


def slerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: the direction turns along the great circle from ``z0`` to
    ``z1`` while the length changes linearly between theirs.

    A straight line between two Gaussian noise vectors passes close to the origin, where
    the generator has seen almost no noise (a 100-dimensional N(0, I) vector has length
    about 10); White 2016 ("Sampling Generative Networks") proposed walking on the sphere
    instead, as most later work does. Keeping the length between the endpoints' keeps
    the walk where the generator was trained.
    """
    r0, r1 = float(np.linalg.norm(z0)), float(np.linalg.norm(z1))
    u0, u1 = z0 / r0, z1 / r1
    omega = float(np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0)))
    if omega < 1e-6:
        direction = lerp(u0, u1, t)
    else:
        direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return ((1 - t) * r0 + t * r1) * direction / np.linalg.norm(direction)


def walk(z0: np.ndarray, z1: np.ndarray, steps: int, path: str = "slerp") -> np.ndarray:
    """``steps`` noise vectors from ``z0`` to ``z1`` inclusive, along ``path``."""
    if steps < 2:
        raise ValueError(f"a walk needs at least 2 steps, got {steps}")
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; choose {' or '.join(PATHS)}")
    step = slerp if path == "slerp" else lerp
    return np.stack([step(z0, z1, t) for t in np.linspace(0, 1, steps)]).astype(np.float32)


def interpolation_noise(seed: int, rows: int, steps: int, latent_dim: int = 100,
                        path: str = "slerp") -> np.ndarray:
    """The noise of ``rows`` walks of ``steps`` each, row by row: row ``k`` walks from the
    vector of seed ``seed + 2k`` to that of ``seed + 2k + 1`` (:func:`seed_vector`).
    Shape (rows * steps, latent_dim)."""
    if rows < 1:
        raise ValueError(f"--interpolate needs at least 1 row, got {rows}")
    return np.concatenate([walk(seed_vector(seed + 2 * k, latent_dim),
                                seed_vector(seed + 2 * k + 1, latent_dim), steps, path)
                           for k in range(rows)])


def nearest_images(queries: np.ndarray, images: np.ndarray) -> np.ndarray:
    """For each row of ``queries`` the index of the closest row of ``images`` (Euclidean
    distance; pass pixels flattened, or features). The paper's check against memorisation:
    a sample that is a copy of a training image finds it at distance 0."""
    queries = np.asarray(queries, np.float64).reshape(len(queries), -1)
    images = np.asarray(images, np.float64).reshape(len(images), -1)
    distances = ((queries ** 2).sum(1)[:, None] + (images ** 2).sum(1)[None, :]
                 - 2 * queries @ images.T)
    return distances.argmin(axis=1)


def parse_arithmetic(expression: str, classes: Sequence[str]) -> list[tuple[int, str]]:
    """``"bug - blob + ghost"`` as ``[(+1, "bug"), (-1, "blob"), (+1, "ghost")]``; every
    name must be one of ``classes``."""
    tokens = re.findall(r"[+-]|[^\s+-][^+-]*", expression)
    terms, sign = [], 1
    for token in (t.strip() for t in tokens):
        if token in "+-":
            sign = 1 if token == "+" else -1
            continue
        if token not in classes:
            raise ValueError(f"--arithmetic {expression!r}: {token!r} is not a class; the "
                             f"classes are {', '.join(classes)}")
        terms.append((sign, token))
        sign = 1
    if not terms:
        raise ValueError(f"--arithmetic {expression!r}: give class names joined by + and -, "
                         f"e.g. 'bug - blob + ghost'")
    return terms


def class_means(noise: np.ndarray, predictions: np.ndarray, confidence: np.ndarray,
                names: Sequence[str], classes: Sequence[str],
                per_class: int = 3) -> dict[str, np.ndarray]:
    """For each class in ``names``, the ``per_class`` noise vectors whose samples the
    classifier puts in that class most confidently (the paper averages three)."""
    chosen = {}
    for name in dict.fromkeys(names):
        index = classes.index(name)
        members = np.flatnonzero(predictions == index)
        if len(members) == 0:
            raise ValueError(f"--arithmetic: no sample was classified as {name!r}; the "
                             f"generator does not draw it (see dcgan.quality's coverage)")
        best = members[np.argsort(-confidence[members])[:per_class]]
        chosen[name] = noise[best]
    return chosen


def combine(terms: list[tuple[int, str]], chosen: dict[str, np.ndarray]) -> np.ndarray:
    """The sum of the terms' average noise vectors, with their signs."""
    return sum(sign * chosen[name].mean(axis=0) for sign, name in terms).astype(np.float32)


# ---------------------------------------------------------------------------
# The pictures, from a function that turns (N, latent_dim) noise into NHWC images in [0, 1]

def write_interpolation(images_of: ImagesOf, noise: np.ndarray, rows: int, steps: int,
                        png: Path) -> tuple[Path, Path]:
    """The walks as a PNG grid (a row per walk) and an animated GIF beside it (``.gif``) of
    ``steps`` frames: frame ``t`` shows step ``t`` of every walk, one above the other."""
    from dcgan.plotting import image_grid, save_animation, save_image_grid

    images = images_of(noise)
    save_image_grid(images, png, cols=steps)
    by_row = images.reshape(rows, steps, *images.shape[1:])
    frames = [image_grid(by_row[:, t], cols=1) for t in range(steps)]
    gif = save_animation(frames, Path(png).with_suffix(".gif"), hold_last=4)
    return Path(png), gif


def write_nearest(images_of: ImagesOf, noise: np.ndarray, real_paths: Sequence[Path],
                  png: Path, features: Callable[[np.ndarray], np.ndarray] | None = None,
                  chunk: int = 1000) -> tuple[Path, np.ndarray]:
    """Each sample beside its nearest real image (in pixels, or in ``features`` of images
    in [-1, 1]), pairs side by side in a PNG; returns the path and the chosen indices."""
    from dcgan.plotting import save_image_grid
    from dcgan.quality.reference import read_images

    samples = images_of(noise)
    keys = samples * 2 - 1 if features is None else features(samples * 2 - 1)
    best = np.full(len(samples), np.inf)
    index = np.zeros(len(samples), int)
    for start in range(0, len(real_paths), chunk):
        real = read_images(list(real_paths[start:start + chunk]))
        real_keys = real if features is None else features(real)
        found = nearest_images(keys, real_keys)
        flat_q = keys.reshape(len(keys), -1)
        flat_r = real_keys.reshape(len(real_keys), -1)
        distance = ((flat_q - flat_r[found]) ** 2).sum(axis=1)
        better = distance < best
        best[better], index[better] = distance[better], found[better] + start
    nearest = read_images([real_paths[i] for i in index]) / 2 + 0.5
    pairs = np.stack([samples, nearest], axis=1).reshape(-1, *samples.shape[1:])
    cols = 2 * max(1, round(len(samples) ** 0.5))
    save_image_grid(pairs, png, cols=cols)
    return Path(png), index


def write_arithmetic(images_of: ImagesOf, expression: str, classifier: Any, seed: int,
                     latent_dim: int, png: Path, candidates: int = 512) -> Path:
    """The paper's vector arithmetic on class averages: ``candidates`` seeded samples are
    classified; each term's three most confident noise vectors are averaged; the result
    is drawn from the signed sum and from 8 variations of it (uniform noise of +-0.25 on
    each coordinate, as the paper shows). One figure, a row per term and the result."""
    from matplotlib.figure import Figure

    from dcgan.files import atomic_path

    terms = parse_arithmetic(expression, classifier.classes)
    rng = np.random.default_rng([seed, 71])
    noise = rng.standard_normal((candidates, latent_dim)).astype(np.float32)
    samples = images_of(noise) * 2 - 1
    logits = classifier.logits(samples)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    chosen = class_means(noise, probabilities.argmax(1), probabilities.max(1),
                         [name for _, name in terms], classifier.classes)
    result = combine(terms, chosen)
    variations = result + rng.uniform(-0.25, 0.25, (8, latent_dim)).astype(np.float32)
    rows = [(f"{'+' if sign > 0 else '-'} {name}",
             images_of(np.concatenate([chosen[name], chosen[name].mean(0, keepdims=True)])))
            for sign, name in terms]
    rows.append(("= result", images_of(np.concatenate([result[None], variations]))))
    cols = max(len(images) for _, images in rows)
    fig = Figure(figsize=(1.1 * cols + 1, 1.2 * len(rows)))
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for (label, images), row in zip(rows, axes):
        for ax in row:
            ax.set_axis_off()
        for ax, image in zip(row, images):
            ax.imshow(image)
        row[0].text(-0.15, 0.5, label, transform=row[0].transAxes, ha="right", va="center")
    fig.suptitle(f"{expression}: three samples and their average vector per term; the "
                 f"result and 8 variations", fontsize="small")
    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight")
    return Path(png)
