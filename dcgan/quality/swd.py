"""Sliced Wasserstein distance on Laplacian-pyramid patches.

Karras, Aila, Laine and Lehtinen, "Progressive Growing of GANs for Improved
Quality, Stability, and Variation" (ICLR 2018), section 5 and appendix D:
build a Laplacian pyramid of every image, take random 7x7 neighbourhoods
from each level, normalise each level's descriptors per colour channel, and
compare the two sets of descriptors by the sliced Wasserstein distance over
512 random directions (4 repeats of 128). The distance is reported x 10^3, as
in the paper. Small distances at the fine levels mean the patches (edges,
texture) look alike; at the coarse levels, the large-scale structure.

It needs no pretrained network, so it works on any image folder.
"""

from __future__ import annotations

import numpy as np

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 16
"""The paper takes 128 neighbourhoods per image from 16,384 images (2M descriptors); we take
16 from each of the at most few thousand images of a run (32,000 from 2,000), which keeps
the cost to seconds on two cores. Fewer descriptors raise the distance a little for real
and generated images alike: read a figure against the noise floor measured the same way."""
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16
"""The coarsest level of the pyramid (the paper's 16x16)."""

_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0], dtype=np.float32) / 16


def _blur(images: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """The paper's 5x5 binomial filter (separable), mirrored at the edges; NCHW."""
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    rows = sum(t * padded[:, :, :, k:k + images.shape[3]] for k, t in enumerate(_TAPS))
    return gain * sum(t * rows[:, :, k:k + images.shape[2], :] for k, t in enumerate(_TAPS))


def _down(images: np.ndarray) -> np.ndarray:
    return _blur(images)[:, :, ::2, ::2]


def _up(images: np.ndarray) -> np.ndarray:
    n, c, h, w = images.shape
    spread = np.zeros((n, c, 2 * h, 2 * w), dtype=images.dtype)
    spread[:, :, ::2, ::2] = images
    return _blur(spread, gain=4.0)


def laplacian_pyramid(images: np.ndarray, min_resolution: int = MIN_RESOLUTION) -> list[np.ndarray]:
    """The Laplacian pyramid of NCHW ``images``, finest level first, down to
    ``min_resolution`` (the last level is the blurred, downsampled image itself)."""
    pyramid = [np.asarray(images, dtype=np.float32)]
    while pyramid[-1].shape[2] > min_resolution:
        smaller = _down(pyramid[-1])
        pyramid[-1] = pyramid[-1] - _up(smaller)
        pyramid.append(smaller)
    return pyramid


def _patch_corners(rng: np.random.Generator, n: int, h: int, w: int, per_image: int,
                   size: int) -> tuple[np.ndarray, np.ndarray]:
    ys = rng.integers(0, h - size + 1, (n, per_image))
    xs = rng.integers(0, w - size + 1, (n, per_image))
    return ys, xs


def patch_descriptors(level: np.ndarray, rng: np.random.Generator,
                      per_image: int = NHOODS_PER_IMAGE, size: int = NHOOD_SIZE) -> np.ndarray:
    """``per_image`` random ``size`` x ``size`` neighbourhoods of every image of one pyramid
    level (NCHW), as rows ``(N * per_image, C * size * size)`` normalised per channel."""
    n, c, h, w = level.shape
    ys, xs = _patch_corners(rng, n, h, w, per_image, size)
    offsets = np.arange(size)
    rows = (ys[..., None] + offsets)[:, :, :, None]   # (n, k, size, 1)
    cols = (xs[..., None] + offsets)[:, :, None, :]   # (n, k, 1, size)
    images = np.arange(n)[:, None, None, None]
    patches = level.transpose(0, 2, 3, 1)[images, rows, cols]  # (n, k, size, size, c)
    patches = patches.reshape(-1, size, size, c)
    patches = patches - patches.mean(axis=(0, 1, 2))
    patches = patches / (patches.std(axis=(0, 1, 2)) + 1e-8)
    return patches.transpose(0, 3, 1, 2).reshape(len(patches), -1)


def _directions(rng: np.random.Generator, dim: int, repeats: int,
                directions: int) -> list[np.ndarray]:
    """``repeats`` sets of ``directions`` random unit vectors, as (dim, directions) columns."""
    drawn = []
    for _ in range(repeats):
        dirs = rng.standard_normal((dim, directions)).astype(np.float32)
        drawn.append(dirs / np.sqrt((dirs ** 2).sum(axis=0, keepdims=True)))
    return drawn


def _sorted_projections(x: np.ndarray, directions: list[np.ndarray]) -> list[np.ndarray]:
    return [np.sort(dirs.T @ x.T, axis=1) for dirs in directions]  # sorting rows is faster


def _distance(sorted_a: list[np.ndarray], sorted_b: list[np.ndarray]) -> float:
    return float(np.mean([float(np.abs(a - b).mean()) for a, b in zip(sorted_a, sorted_b)]))


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                       repeats: int = DIR_REPEATS, directions: int = DIRS_PER_REPEAT) -> float:
    """The sliced Wasserstein distance between two equal-sized sets of row vectors: the
    mean, over ``repeats`` x ``directions`` random unit directions, of the mean absolute
    difference between the sorted projections."""
    if len(a) != len(b):
        raise ValueError(f"the two sets must be the same size, got {len(a)} and {len(b)}")
    dirs = _directions(rng, a.shape[1], repeats, directions)
    return _distance(_sorted_projections(a, dirs), _sorted_projections(b, dirs))


def swd_by_level(images_a: np.ndarray, images_b: np.ndarray, seed: int = 0,
                 per_image: int = NHOODS_PER_IMAGE,
                 cache_b: dict | None = None) -> dict[int, float]:
    """SWD x 10^3 between two equal-sized NCHW image sets at every pyramid level, keyed by
    the level's resolution (64, 32, 16 for the chapter's images).

    ``cache_b``, a dict the caller keeps for one ``images_b`` and ``seed``, holds
    ``images_b``'s sorted projections after the first call, so that measuring
    several sets against the same reference images repeats none of its work. The
    numbers are the same with or without it: every random draw is still made."""
    if len(images_a) != len(images_b):
        raise ValueError(f"compare equal-sized sets: {len(images_a)} and {len(images_b)} images")
    rng = np.random.default_rng([seed, 7])
    cache = {} if cache_b is None else cache_b
    levels_b = None
    result = {}
    for index, level_a in enumerate(laplacian_pyramid(images_a)):
        a = patch_descriptors(level_a, rng, per_image)
        if index in cache:  # draw b's corners anyway, so the directions stay the same
            _patch_corners(rng, len(images_b), *level_a.shape[2:], per_image, NHOOD_SIZE)
        else:
            levels_b = levels_b if levels_b is not None else laplacian_pyramid(images_b)
            b = patch_descriptors(levels_b[index], rng, per_image)
        dirs = _directions(rng, a.shape[1], DIR_REPEATS, DIRS_PER_REPEAT)
        if index not in cache:
            cache[index] = _sorted_projections(b, dirs)
        result[level_a.shape[2]] = 1e3 * _distance(_sorted_projections(a, dirs), cache[index])
    return result
