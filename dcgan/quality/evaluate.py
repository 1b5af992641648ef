"""Measuring a generator: samples from canonical weights, the report, its table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dcgan.datasets import default_data_root
from dcgan.quality.reference import QualityReference
from dcgan.shapes import array_to_nchw, noise_shape

QUALITY_FILE = "quality.json"
"""What ``python -m dcgan.quality`` writes into a run folder."""

_DRAW_BATCH = 250


def draw_samples(backend: Any, weights_G: dict[str, np.ndarray], num: int, seed: int = 0,
                 device: Any = None) -> np.ndarray:
    """``num`` images of the generator with canonical ``weights_G``, drawn with ``backend``
    (BatchNorm on running statistics) from seeded numpy noise: NHWC in [-1, 1]. The same
    weights and seed give the same images in every backend, within float tolerance."""
    latent_dim = weights_G["0.conv2d_trans.weight"].shape[0]
    net_G = backend.net_G(latent_dim)
    backend.from_canonical(net_G, weights_G)
    device = device or backend.resolve_device("auto")
    net_G = backend.to_device(net_G, device)
    rng = np.random.default_rng([seed, 31])
    noise = rng.standard_normal(noise_shape(num, latent_dim, "NCHW")).astype(np.float32)
    images = []
    for start in range(0, num, _DRAW_BATCH):
        Z = noise[start:start + _DRAW_BATCH]
        if backend.LAYOUT == "NHWC":
            Z = Z.transpose(0, 2, 3, 1)
        out = backend.generate(net_G, backend.as_tensor(np.ascontiguousarray(Z), device))
        images.append(array_to_nchw(out, backend.LAYOUT).transpose(0, 2, 3, 1))
    return np.concatenate(images)


def evaluate_weights(backend: Any, weights_G: dict[str, np.ndarray], reference: QualityReference,
                     num: int = 2000, seed: int = 0, device: Any = None) -> dict:
    """Every metric of ``num`` samples of the generator (at most as many as the reference
    holds) beside the noise floor: ``{"metrics": ..., "noise_floor": ..., ...}``."""
    if num < 2:
        raise ValueError(f"--num {num}: the metrics need at least 2 samples")
    num = min(num, reference.size)
    samples = draw_samples(backend, weights_G, num, seed, device)
    return {"metrics": reference.measure(samples),
            "noise_floor": reference.noise_floor(num),
            "classifier": None if reference.classifier is None else {
                "held_out_accuracy": reference.classifier.accuracy,
                "classes": reference.classifier.classes},
            "data": str(reference.folder), "seed": seed, "backend": backend.NAME}


def evaluate_net(backend_name: str, net_G: Any, folder: Path, num: int = 500, seed: int = 0,
                 data_root: Path | None = None) -> dict:
    """The report of :func:`evaluate_weights` for a trained ``net_G`` of backend
    ``backend_name`` against the real images of ``folder``: for a notebook, after
    ``train``. The reference classifier is cached in ``data_root`` (default: the data
    root of the datasets)."""
    from dcgan import backend as backends

    backend = backends.load(backend_name)
    reference = QualityReference.of_folder(folder, data_root or default_data_root(), num)
    return evaluate_weights(backend, backend.to_canonical(net_G), reference, num, seed)


def _rows(metrics: dict) -> list[tuple[str, str]]:
    rows = [(f"SWD x1e3, {level}x{level}", f"{value:.1f}")
            for level, value in metrics["swd"].items()]
    rows.append(("SWD x1e3, average", f"{metrics['swd_average']:.1f}"))
    if "fd" in metrics:
        rows += [("FD in the reference classifier's features", f"{metrics['fd']:.1f}"),
                 ("precision (k=3)", f"{metrics['precision']:.3f}"),
                 ("recall (k=3)", f"{metrics['recall']:.3f}"),
                 ("classes covered",
                  f"{metrics['classes_covered']}/{metrics['classes_present']}"),
                 ("KL(sample classes || real classes)", f"{metrics['class_kl']:.3f}")]
    return rows


def format_table(report: dict) -> str:
    """The report as a plain-text table: each metric, the samples' figure, the noise floor."""
    mine, floor = _rows(report["metrics"]), dict(_rows(report["noise_floor"]))
    width = max(len(name) for name, _ in mine)
    lines = [f"{'metric':<{width}}  {'samples':>9}  {'real (noise floor)':>18}"]
    lines += [f"{name:<{width}}  {value:>9}  {floor[name]:>18}" for name, value in mine]
    lines.append(f"{report['metrics']['samples']} samples against as many real images of "
                 f"{report['data']}")
    if report["classifier"]:
        classifier = report["classifier"]
        lines.append(f"reference classifier: held-out accuracy "
                     f"{classifier['held_out_accuracy']:.3f} on {len(classifier['classes'])} "
                     f"classes; FD is not comparable with published (Inception) FIDs")
    if report["metrics"].get("uncovered"):
        lines.append(f"not covered: {', '.join(report['metrics']['uncovered'])}")
    return "\n".join(lines)


def quality_line(metrics: dict, floor: dict | None = None) -> str:
    """One line for a progress log or a notebook: SWD, FD, precision, recall, coverage."""
    def pair(key: str, fmt: str) -> str:
        value = format(metrics[key], fmt)
        return f"{value} (real {format(floor[key], fmt)})" if floor else value

    parts = [f"SWD {pair('swd_average', '.1f')}"]
    if "fd" in metrics:
        parts += [f"FD {pair('fd', '.1f')}", f"precision {pair('precision', '.2f')}",
                  f"recall {pair('recall', '.2f')}",
                  f"classes {metrics['classes_covered']}/{metrics['classes_present']}"]
    return ", ".join(parts)
