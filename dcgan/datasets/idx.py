"""Fashion-MNIST, the chapter's second exercise: IDX files turned into an image folder."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from dcgan.datasets.download import download
from dcgan.datasets.errors import DatasetError
from dcgan.datasets.staging import staged_folder


@dataclass(frozen=True)
class IdxDataset:
    """An MNIST-style dataset: gzipped IDX image and label files under one base URL, with
    their published MD5 digests, and the names of its classes."""

    name: str
    base_url: str
    images: tuple[str, str]
    labels: tuple[str, str]
    classes: tuple[str, ...]


FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    images=("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    labels=("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    # The published names, made folder-safe ("T-shirt/top", "Ankle boot").
    classes=("T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle-boot"),
)
"""The training set of Fashion-MNIST, with its published MD5s."""


def read_idx(path: Path) -> np.ndarray:
    """The array in a (gzipped) IDX file: unsigned bytes, dimensions from the header."""
    opener = gzip.open if Path(path).suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DatasetError(f"{path} cannot be read ({err}); delete it and run again to "
                           f"download it anew") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetError(f"{path} is not an IDX file of unsigned bytes; delete it and run "
                           f"again to download it anew")
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetError(f"{path} is truncated ({body.size} bytes for shape {dims}); "
                           f"delete it and run again to download it anew")
    return body.reshape(dims)


def fetch_idx_dataset(spec: IdxDataset, root: Path, size: int = 64) -> Path:
    """The image folder of an IDX dataset: its files downloaded and verified once, then
    converted once into one sub-folder per class of ``size`` x ``size`` RGB PNGs.

    The 28x28 grey images are upscaled (bicubic) and given three channels here,
    once, so that every backend reads exactly the same pixels through its
    usual pipeline. A second call finds the folder and touches no network.
    """
    folder = Path(root) / spec.name
    if folder.is_dir():
        return folder
    raw = Path(root) / f"{spec.name}-raw"
    images, labels = (read_idx(download(spec.base_url + name, md5, raw / name, "md5"))
                      for name, md5 in (spec.images, spec.labels))
    if len(images) != len(labels) or images.ndim != 3 or labels.max() >= len(spec.classes):
        raise DatasetError(f"{raw} holds {len(images)} images and {len(labels)} labels that do "
                           f"not fit {spec.name}; delete the folder and run again")
    return write_image_folder(images, labels, spec.classes, folder, size)


def write_image_folder(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                       folder: Path, size: int = 64) -> Path:
    """Write grey ``images`` (N, H, W uint8) into ``folder``, one sub-folder per class named
    by ``classes[label]``, as ``size`` x ``size`` RGB PNGs (bicubic upscaling).

    The folder appears whole or not at all (:func:`~dcgan.datasets.staging.staged_folder`).
    """
    with staged_folder(folder) as staging:
        for k in np.unique(labels):
            (staging / classes[k]).mkdir()
        for i, (image, label) in enumerate(zip(images, labels)):
            picture = Image.fromarray(image, mode="L").resize((size, size), Image.BICUBIC)
            picture.convert("RGB").save(staging / classes[label] / f"{i:05d}.png")
    return Path(folder)
