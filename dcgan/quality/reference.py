"""What generated images are compared with: the real images of a run's image folder, its
reference classifier, and the noise floor of every metric."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dcgan.datasets import DatasetError, class_names, decode_images, labelled_images
from dcgan.quality.classifier import RECIPE, ReferenceClassifier, cache_key, train_classifier
from dcgan.quality.metrics import (
    class_histogram,
    covered_classes,
    frechet_distance,
    kl_divergence,
    precision_recall,
)
from dcgan.quality.swd import swd_by_level

CLASSIFIER_CACHE = "reference-classifiers"
"""The folder of the data root where trained reference classifiers are kept."""


def read_images(paths: list[Path]) -> np.ndarray:
    """Image files as NHWC float32 in [-1, 1], read as every backend's pipeline reads them."""
    return decode_images(paths).astype(np.float32) / 127.5 - 1


def classifier_folder(folder: Path) -> Path:
    """The folder whose classes the reference classifier learns: for a ``--classes`` view
    (links to some class folders of a dataset) the whole dataset, so that the features and
    the classes are those of the full data; otherwise ``folder`` itself."""
    parents = {(Path(folder) / name).resolve().parent for name in class_names(folder)}
    if len(parents) == 1:
        (parent,) = parents
        if parent != Path(folder).resolve() and len(class_names(parent)) > len(class_names(folder)):
            return parent
    return Path(folder)


def reference_classifier(folder: Path, data_root: Path,
                         recipe: dict | None = None) -> ReferenceClassifier | None:
    """The reference classifier of an image folder: trained once (see
    ``dcgan.quality.classifier``) and cached in ``data_root`` under a key of the folder's
    files and the recipe. None when the data has fewer than two classes."""
    recipe = recipe or RECIPE
    source = classifier_folder(folder)
    classes = class_names(source)
    if len(classes) < 2:
        return None
    paths, labels = labelled_images(source)
    key = cache_key(paths, source, recipe)
    cache = Path(data_root) / CLASSIFIER_CACHE / f"{source.name}-{key}.npz"
    if cache.is_file():
        return ReferenceClassifier.load(cache)
    print(f"training the reference classifier of {source} ({len(paths)} images, "
          f"{len(classes)} classes); it is cached in {cache.parent}", file=sys.stderr)
    classifier = train_classifier(read_images(paths), np.asarray(labels), classes, recipe)
    classifier.save(cache)
    return classifier


@dataclass
class QualityReference:
    """Two disjoint, seeded halves of a folder's real images (``reference``, against which
    samples are measured, and ``held_out``, which gives the noise floor), and the
    reference classifier with the real images' features and class histogram."""

    folder: Path
    reference: np.ndarray
    held_out: np.ndarray
    classifier: ReferenceClassifier | None
    real_labels: np.ndarray | None = None
    _features: dict = field(default_factory=dict, repr=False)
    _floors: dict = field(default_factory=dict, repr=False)
    _swd_reference: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of_folder(cls, folder: Path, data_root: Path, size: int = 2000,
                  seed: int = 0) -> "QualityReference":
        """The reference of ``folder``: at most ``size`` real images on each side (fewer
        when the folder holds fewer than twice that)."""
        paths, labels = labelled_images(folder)
        if len(paths) < 2:
            raise DatasetError(f"{folder} holds {len(paths)} image; the quality metrics need "
                               f"at least two real images to compare with")
        n = min(size, len(paths) // 2)
        order = np.random.default_rng([seed, 41]).permutation(len(paths))
        chosen = [paths[i] for i in order[:2 * n]]
        images = read_images(chosen)
        classifier = reference_classifier(folder, data_root)
        real_labels = None
        if classifier is not None:  # labels in the classifier's class numbering
            names = class_names(folder)
            index = {c: classifier.classes.index(c) for c in names}
            real_labels = np.array([index[names[labels[i]]] for i in order[:2 * n]])
        return cls(Path(folder), images[:n], images[n:], classifier, real_labels)

    @property
    def size(self) -> int:
        """How many real images each side holds: the most samples a measurement uses."""
        return len(self.reference)

    def _reference_features(self, n: int) -> np.ndarray:
        if n not in self._features:
            self._features[n] = self.classifier.features(self.reference[:n])
        return self._features[n]

    def measure(self, samples: np.ndarray, seed: int = 0) -> dict:
        """Every metric of NHWC ``samples`` in [-1, 1] against the reference images (as many
        of them as there are samples, at most :attr:`size`)."""
        n = min(len(samples), self.size)
        if n < 2:
            raise ValueError(f"the quality metrics need at least 2 samples, got {len(samples)}")
        samples, reference = samples[:n], self.reference[:n]
        swd = swd_by_level(samples.transpose(0, 3, 1, 2), reference.transpose(0, 3, 1, 2), seed,
                           cache_b=self._swd_reference.setdefault((n, seed), {}))
        result: dict = {"samples": n, "swd": {str(k): v for k, v in swd.items()},
                        "swd_average": float(np.mean(list(swd.values())))}
        if self.classifier is not None:
            real_features = self._reference_features(n)
            fake_features, fake_logits = self.classifier.features_and_logits(samples)
            precision, recall = precision_recall(real_features, fake_features)
            classes = len(self.classifier.classes)
            real_hist = class_histogram(self.real_labels, classes)
            fake_hist = class_histogram(fake_logits.argmax(axis=1), classes)
            covered = covered_classes(fake_hist, real_hist)
            result.update(fd=frechet_distance(real_features, fake_features),
                          precision=precision, recall=recall,
                          classes_covered=int(covered.sum()),
                          classes_present=int((real_hist > 0).sum()),
                          uncovered=[c for c, ok, real in zip(self.classifier.classes, covered,
                                                              real_hist) if real > 0 and not ok],
                          class_kl=kl_divergence(fake_hist, real_hist))
        return result

    def noise_floor(self, n: int, seed: int = 0) -> dict:
        """:meth:`measure` of ``n`` held-out real images: what real data scores."""
        n = min(n, self.size)
        if n not in self._floors:
            self._floors[n] = self.measure(self.held_out[:n], seed)
        return self._floors[n]


def is_finite_report(report: dict) -> bool:
    """Whether every number of a measurement is finite (a diverged generator gives NaN)."""
    numbers = [v for v in report.values() if isinstance(v, float)] + list(report["swd"].values())
    return all(math.isfinite(v) for v in numbers)
