"""Distances between two sets of feature vectors, and what a classifier's predictions say
about the classes of generated images."""

from __future__ import annotations

import numpy as np

PR_NEIGHBOURS = 3
"""Kynkäänniemi et al. 2019 use k = 3."""


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b``:
    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``.

    Heusel et al. 2017 ("GANs Trained by a Two Time-Scale Update Rule Converge
    to a Local Nash Equilibrium") define FID with Inception features; here the
    features are the reference classifier's, so the number is *not*
    comparable with published FIDs. The matrix square roots come from
    symmetric eigendecompositions (numpy only).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mean = float(((a.mean(0) - b.mean(0)) ** 2).sum())
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_of_root = np.sqrt(np.clip(cross, 0, None)).sum()
    return mean + float(np.trace(cov_a) + np.trace(cov_b) - 2 * trace_of_root)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.clip((a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T, 0, None)


def _radii(features: np.ndarray, k: int) -> np.ndarray:
    """Each row's squared distance to its k-th nearest other row (the farthest other row
    when there are fewer than k others, as in a run on a handful of images)."""
    distances = _squared_distances(features, features)
    k = min(k, len(features) - 1)
    return np.sort(distances, axis=1)[:, k]  # column 0 is the row itself


def _covered(points: np.ndarray, manifold: np.ndarray, k: int) -> float:
    """The share of ``points`` inside at least one k-NN ball of the ``manifold`` rows."""
    radii = _radii(manifold, k)
    return float((_squared_distances(points, manifold) <= radii[None, :]).any(axis=1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray,
                     k: int = PR_NEIGHBOURS) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen and Aila,
    "Improved Precision and Recall Metric for Assessing Generative Models", NeurIPS 2019):
    precision is the share of generated samples that fall within the k-nearest-neighbour
    balls of the real features (are they realistic?), recall the share of real samples
    within the balls of the generated ones (is the variety there?)."""
    return _covered(fake, real, k), _covered(real, fake, k)


def class_histogram(predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """The share of each class among ``predictions`` (class indices)."""
    counts = np.bincount(np.asarray(predictions, int), minlength=num_classes)
    return counts / max(len(predictions), 1)


def covered_classes(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Which classes the generated samples cover: a class counts when at least half of its
    real share of the samples is predicted as it. Both arguments are class histograms."""
    return (fake >= real / 2) & (real > 0)


def kl_divergence(fake: np.ndarray, real: np.ndarray, floor: float = 1e-6) -> float:
    """KL(fake || real) of two class histograms, in nats; empty classes get ``floor``."""
    p = np.clip(fake, floor, None)
    q = np.clip(real, floor, None)
    p, q = p / p.sum(), q / q.sum()
    return float((p * np.log(p / q)).sum())
