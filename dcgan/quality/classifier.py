"""The reference classifier: features in which generated images are compared with real
ones, the same whichever frameworks are installed.

It is plain numpy, so every environment computes the same features: a fixed,
seeded bank of random 5x5 filters on the image at 32x32 (each filter's
positive and negative part, averaged over 4x4 cells), standardised, then a
small multilayer perceptron (hidden layers 256 and 128, ReLU) trained with
Adam on the real images' class labels with a fixed seed and recipe
(:data:`RECIPE`). The 128 activations of its last hidden layer are the
"reference classifier's features" in which the Fréchet distance and
precision/recall are measured; its predictions give class coverage.

A classifier is trained once per image folder and recipe and cached in the
data root (:func:`reference_classifier`), under a key of the folder's file
list and the recipe, so a number means the same thing in every run on that
data. Random convolutional features with a trained head are a known, cheap
baseline (Jarrett et al. 2009, "What is the best multi-stage architecture for
object recognition?"); the held-out accuracy printed with every result says
how well it separates the classes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dcgan.files import atomic_path

RECIPE = {"version": 2, "input": 32, "filters": 32, "kernel": 5, "cell": 4, "hidden": [256, 128],
          "epochs": 30, "batch": 128, "lr": 1e-3, "holdout": 0.1, "seed": 0, "std_floor": 0.03}
"""How the reference classifier is built and trained; part of its cache key."""

_BATCH = 256


@dataclass
class ReferenceClassifier:
    """A trained reference classifier: the fixed filters, the standardisation, the MLP."""

    classes: list[str]
    filters: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    accuracy: float

    def conv_features(self, images: np.ndarray) -> np.ndarray:
        """The standardised random-filter features of NHWC images in [-1, 1]."""
        return (_conv_features(images, self.filters) - self.mean) / self.std

    def features(self, images: np.ndarray) -> np.ndarray:
        """The penultimate activations (N, 128) of NHWC images in [-1, 1] (64x64)."""
        return _forward(self.conv_features(images), self.weights, self.biases)[-2]

    def features_and_logits(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`features` and :meth:`logits` of the same images, from one pass."""
        outputs = _forward(self.conv_features(images), self.weights, self.biases)
        return outputs[-2], outputs[-1]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The predicted class index of each NHWC image."""
        return self.logits(images).argmax(axis=1)

    def logits(self, images: np.ndarray) -> np.ndarray:
        """The class scores of NHWC images in [-1, 1]."""
        return _forward(self.conv_features(images), self.weights, self.biases)[-1]

    def save(self, path: Path) -> Path:
        """Write the classifier as one ``.npz`` file, whole or not at all."""
        arrays = {"filters": self.filters, "mean": self.mean, "std": self.std,
                  **{f"w{i}": w for i, w in enumerate(self.weights)},
                  **{f"b{i}": b for i, b in enumerate(self.biases)}}
        meta = json.dumps({"classes": self.classes, "accuracy": self.accuracy})
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, meta=np.frombuffer(meta.encode(), np.uint8), **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "ReferenceClassifier":
        """Read a classifier written by :meth:`save`."""
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            layers = len([k for k in data.files if k.startswith("w")])
            return cls(meta["classes"], data["filters"], data["mean"], data["std"],
                       [data[f"w{i}"] for i in range(layers)],
                       [data[f"b{i}"] for i in range(layers)], meta["accuracy"])


def _filter_bank(recipe: dict) -> np.ndarray:
    rng = np.random.default_rng([recipe["seed"], 1])
    k = recipe["kernel"]
    filters = rng.standard_normal((k * k * 3, recipe["filters"])).astype(np.float32)
    filters -= filters.mean(axis=0)
    return filters / np.linalg.norm(filters, axis=0)


def _conv_features(images: np.ndarray, filters: np.ndarray, cell: int = 4) -> np.ndarray:
    """Filters on the 2x-downsampled images (same padding), both signs rectified, averaged
    over ``cell`` x ``cell`` cells and flattened: (N, (32/cell)^2 * 2 * filters)."""
    out = []
    k = int(round((filters.shape[0] / 3) ** 0.5))
    for start in range(0, len(images), _BATCH):
        x = np.asarray(images[start:start + _BATCH], np.float32)
        n, h, w, c = x.shape
        x = x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
        x = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)))
        windows = sliding_window_view(x, (k, k), axis=(1, 2))  # n, H, W, c, k, k
        windows = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, h // 2, w // 2, -1)
        response = windows @ filters
        both = np.concatenate([np.maximum(response, 0), np.maximum(-response, 0)], axis=-1)
        hh, ww = both.shape[1] // cell, both.shape[2] // cell
        pooled = both.reshape(n, hh, cell, ww, cell, -1).mean(axis=(2, 4))
        out.append(pooled.reshape(n, -1))
    return np.concatenate(out)


def _forward(x: np.ndarray, weights: Sequence[np.ndarray],
             biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Every layer's output of the MLP: ReLU hidden layers, linear last layer."""
    outputs = [x]
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = outputs[-1] @ w + b
        outputs.append(z if i == len(weights) - 1 else np.maximum(z, 0))
    return outputs


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_classifier(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                     recipe: dict | None = None) -> ReferenceClassifier:
    """Train a reference classifier on NHWC images in [-1, 1] and their class indices.

    A seeded share (``recipe["holdout"]``) of the images is held out; the
    classifier's accuracy on it is recorded. Deterministic for the same data
    and recipe.
    """
    recipe = recipe or RECIPE
    labels = np.asarray(labels, int)
    rng = np.random.default_rng([recipe["seed"], 2])
    order = rng.permutation(len(images))
    n_hold = max(1, int(round(len(images) * recipe["holdout"]))) if len(images) > 1 else 0
    held, train = order[:n_hold], order[n_hold:]
    filters = _filter_bank(recipe)
    raw = _conv_features(images, filters, recipe["cell"])
    mean, std = raw[train].mean(axis=0), feature_spread(raw[train], recipe["std_floor"])
    x = (raw - mean) / std
    sizes = [x.shape[1], *recipe["hidden"], len(classes)]
    weights = [(rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
               for a, b in zip(sizes, sizes[1:])]
    biases = [np.zeros(b, np.float32) for b in sizes[1:]]
    _fit(x[train], labels[train], weights, biases, recipe, rng)
    accuracy = float((_forward(x[held], weights, biases)[-1].argmax(1) == labels[held]).mean()) \
        if n_hold else float("nan")
    return ReferenceClassifier(list(classes), filters, mean.astype(np.float32),
                               std.astype(np.float32), weights, biases, accuracy)


def feature_spread(features: np.ndarray, floor: float) -> np.ndarray:
    """Each feature's standard deviation over the real images (plus 1e-6), but at least
    ``floor`` times the median feature's: the unit in which the features are standardised.

    On data with a plain shared ground (Pokemon on white, Fashion-MNIST on black) the
    zero-mean filters answer 0 on every real image wherever the ground is, so those
    features have no spread at all. Divided by 1e-6, a sample whose ground was a shade
    off lay billions of units away (an FD of 3e9 against a floor of 70), and FD,
    precision, recall and the classes measured the ground alone. With the floor such a
    feature weighs as much as 1/``floor`` ordinary ones. The recipe's 0.03 lies below the
    smallest spread on the sprites (0.039 of the median), so their classifier, and every
    figure measured on them, is what it was without the floor.
    """
    spread = features.std(axis=0) + 1e-6
    return np.maximum(spread, floor * float(np.median(spread)))


def _fit(x: np.ndarray, y: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray],
         recipe: dict, rng: np.random.Generator) -> None:
    """Adam on the softmax cross-entropy, in place; manual backpropagation."""
    params = [*weights, *biases]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    beta1, beta2, lr, t = 0.9, 0.999, recipe["lr"], 0
    for _ in range(recipe["epochs"]):
        for start in range(0, len(x), recipe["batch"]):
            index = slice(start, start + recipe["batch"])
            outputs = _forward(x[index], weights, biases)
            delta = _softmax(outputs[-1])
            delta[np.arange(len(delta)), y[index]] -= 1
            delta /= len(delta)
            grads_w, grads_b = [], []
            for i in reversed(range(len(weights))):
                grads_w.insert(0, outputs[i].T @ delta)
                grads_b.insert(0, delta.sum(axis=0))
                if i:
                    delta = (delta @ weights[i].T) * (outputs[i] > 0)
            t += 1
            for p, g, m, v in zip(params, [*grads_w, *grads_b], moments, squares):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= (lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + 1e-8)
                      ).astype(p.dtype)
        shuffle = rng.permutation(len(x))
        x, y = x[shuffle], y[shuffle]


def cache_key(paths: Sequence[Path], folder: Path, recipe: dict | None = None) -> str:
    """A key of an image folder's files (relative names and sizes) and the recipe."""
    digest = hashlib.sha1(json.dumps(recipe or RECIPE, sort_keys=True).encode())
    for path in paths:
        digest.update(f"{Path(path).relative_to(folder).as_posix()}:{Path(path).stat().st_size}\n"
                      .encode())
    return digest.hexdigest()[:16]
