"""``--eval-every``: the quality metrics during training, written into the run folder."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from dcgan.quality.evaluate import quality_line
from dcgan.quality.reference import QualityReference
from dcgan.shapes import Layout, array_to_nchw, noise_shape

CHEAP_SAMPLES = 256
"""Samples measured after an ordinary evaluated epoch: a few seconds on two cores."""
FULL_SAMPLES = 500
"""Samples measured after the last epoch (at most as many as the reference holds). With the
cheap epochs this keeps the cost under a tenth of the README's first run; for the
standalone figures use ``python -m dcgan.quality`` (2,000 by default)."""
_DRAW_BATCH = 250


class QualityProbe:
    """Measures a run's samples every ``every`` epochs on :data:`CHEAP_SAMPLES` samples and
    after the last epoch on :data:`FULL_SAMPLES`, from the same noise (keyed by the run's
    ``seed``) every time, so the epochs are comparable. The metrics' own random draws do
    not depend on the run's seed, so two runs are measured alike."""

    def __init__(self, reference: QualityReference, every: int, num_epochs: int,
                 latent_dim: int, layout: Layout, seed: int = 0) -> None:
        self.reference = reference
        self.every = every
        self.num_epochs = num_epochs
        self.layout = layout
        self.seed = seed
        size = min(FULL_SAMPLES, reference.size)
        self.noise = np.random.default_rng([seed, 51]).standard_normal(
            noise_shape(size, latent_dim, layout)).astype(np.float32)

    def due(self, epoch: int) -> bool:
        """Whether ``epoch`` is measured: every ``every``-th, and the last."""
        return self.every > 0 and (epoch % self.every == 0 or epoch == self.num_epochs)

    def measure(self, epoch: int, draw: Callable[[np.ndarray], np.ndarray]) -> dict:
        """The metrics of the generator after ``epoch``; ``draw`` gives images (backend
        layout, [-1, 1]) from numpy noise. The result holds the noise floor at the same
        sample size and the seconds the measurement took."""
        began = time.perf_counter()
        n = len(self.noise) if epoch == self.num_epochs else min(CHEAP_SAMPLES, len(self.noise))
        noise = self.noise[:n]
        images = np.concatenate([draw(noise[i:i + _DRAW_BATCH])
                                 for i in range(0, n, _DRAW_BATCH)])
        samples = array_to_nchw(images, self.layout).transpose(0, 2, 3, 1)
        result = self.reference.measure(samples)
        result["noise_floor"] = self.reference.noise_floor(n)
        result["seconds"] = time.perf_counter() - began
        return result


def epoch_quality_line(epoch: int, quality: dict) -> str:
    """``quality after epoch 3 (256 samples, 2.1 s): SWD ..., FD ...`` for the log."""
    return (f"quality after epoch {epoch} ({quality['samples']} samples, "
            f"{quality['seconds']:.1f} s): {quality_line(quality, quality['noise_floor'])}")
