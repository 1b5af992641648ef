"""Datasets as image folders on disk, shared by every backend.

Each dataset ends as a folder with one sub-folder per class, holding PNG or
JPEG files: the layout torchvision's ``ImageFolder`` and Gluon's
``ImageFolderDataset`` read, and that the TensorFlow pipeline reads through
:func:`list_images`. Three sources:

* ``pokemon``: the chapter's zip, downloaded once from the d2l data bucket,
  verified by SHA-1 and extracted into the data root.
* ``sprites``: small creature-like sprites drawn procedurally, offline and
  deterministic. It is **synthetic**: it exists so that the command line, the
  notebooks and the tests run without a network.
* ``fashion-mnist``: the chapter's second exercise; the training set's two
  IDX files, downloaded once from the dataset's published location, verified
  by their published MD5 and converted into one folder per category.
* ``--data-dir PATH``: any folder in the same layout.

``classes`` (``--classes``) narrows any of them to some class sub-folders.

Nothing half-made is ever left in the cache: downloads go to a temporary file
renamed only when its hash matches, and folders are built beside their final
place and renamed when complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""The image files every backend's pipeline reads (Gluon's ImageFolderDataset reads only these)."""

DATA_ROOT_ENV = "DCGAN_DATA_ROOT"
DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20


class DatasetError(Exception):
    """A dataset could not be found, fetched, verified or read; the message says what to do."""


@dataclass(frozen=True)
class RemoteArchive:
    """A zip on the web with its SHA-1, as d2l's ``DATA_HUB`` records them."""

    name: str
    url: str
    sha1: str


POKEMON = RemoteArchive(
    name="pokemon",
    url="http://d2l-data.s3-accelerate.amazonaws.com/pokemon.zip",
    sha1="c065c0e2593b8b161a2d7873e42418bf6a21106c",
)

OFFLINE_HINT = ("Use --dataset sprites (synthetic, no network needed), or --data-dir "
                "with a folder of your own images (one sub-folder per class).")


def default_data_root() -> Path:
    """Where datasets are cached: ``$DCGAN_DATA_ROOT``, else the user's cache folder."""
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dcgan"


def digest_of(path: Path, algorithm: str = "sha1") -> str:
    """The hex digest of a file (``sha1`` or ``md5``), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, sha1: str, path: Path, algorithm: str = "sha1") -> Path:
    """Fetch ``url`` into ``path`` unless a file with the right digest is already there.

    ``sha1`` is the expected hex digest; ``algorithm`` names its hash (the
    chapter's data hub publishes SHA-1, Fashion-MNIST publishes MD5). The
    bytes go to a temporary file beside ``path``, hashed while they arrive,
    and are renamed into place only when the hash matches; on any failure
    the temporary file is removed, so the cache never holds a partial or
    wrong file.
    """
    path = Path(path)
    if path.is_file() and digest_of(path, algorithm) == sha1:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "dcgan"})
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        if digest.hexdigest() != sha1:
            raise DatasetError(
                f"{url} gave a file with {algorithm.upper()} {digest.hexdigest()}, expected "
                f"{sha1}; "
                f"nothing was kept. Try again later; if it keeps failing the file has "
                f"changed upstream. {OFFLINE_HINT}")
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError) as err:
        raise DatasetError(f"could not download {url}: {err}. {OFFLINE_HINT}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _checked_members(archive: zipfile.ZipFile, target: Path) -> list[zipfile.ZipInfo]:
    """The archive's members, refusing any whose path would leave ``target``."""
    root = target.resolve()
    for member in archive.infolist():
        destination = (root / member.filename).resolve()
        if destination != root and root not in destination.parents:
            raise DatasetError(
                f"refusing to extract {archive.filename}: member {member.filename!r} "
                f"would be written outside {target}. Delete the file and download it again.")
    return archive.infolist()


def extract_zip(zip_path: Path, target: Path) -> Path:
    """Extract ``zip_path`` into the folder ``target``, all or nothing.

    Members are extracted into a temporary folder beside ``target`` that is
    renamed when complete; a member whose path leaves the folder (``../``, an
    absolute path) is refused before anything is written.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".part", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                members = _checked_members(archive, staging)
                archive.extractall(staging, members)
        except zipfile.BadZipFile as err:
            raise DatasetError(f"{zip_path} is not a valid zip file ({err}); delete it and "
                               f"run again to download it anew.") from err
        _publish_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _publish_folder(staging: Path, target: Path) -> None:
    """Rename a complete ``staging`` folder to ``target``; if another process won, keep theirs."""
    try:
        os.replace(staging, target)
    except OSError:
        if not target.is_dir():
            raise


def fetch_archive(archive: RemoteArchive, root: Path) -> Path:
    """The image folder of a remote zip: downloaded, verified and extracted once under ``root``.

    A second call finds the extracted folder and touches no network.
    """
    folder = Path(root) / archive.name
    if not folder.is_dir():
        zip_path = download(archive.url, archive.sha1, Path(root) / f"{archive.name}.zip")
        extract_zip(zip_path, folder)
    return _single_subfolder_or_self(folder)


def _single_subfolder_or_self(folder: Path) -> Path:
    """Zips such as the chapter's hold one top-level folder; the images live inside it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir() and _has_class_folders(entries[0]):
        return entries[0]
    return folder


def _has_class_folders(folder: Path) -> bool:
    return any(p.is_dir() for p in folder.iterdir())


# ---------------------------------------------------------------------------
# Fashion-MNIST: the chapter's second exercise


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


def read_idx(path: Path) -> np.ndarray:
    """The array in a (gzipped) IDX file: unsigned bytes, dimensions from the header."""
    import gzip

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

    The folder appears whole or not at all: it is written under a temporary name
    beside it and renamed when complete.
    """
    folder = Path(folder)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".part", dir=folder.parent))
    try:
        for k in np.unique(labels):
            (staging / classes[k]).mkdir()
        for i, (image, label) in enumerate(zip(images, labels)):
            picture = Image.fromarray(image, mode="L").resize((size, size), Image.BICUBIC)
            picture.convert("RGB").save(staging / classes[label] / f"{i:05d}.png")
        _publish_folder(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# ---------------------------------------------------------------------------
# sprites: a synthetic, offline stand-in for the Pokemon dataset

SPRITES_VERSION = 1
SPRITE_CLASSES = ("blob", "bug", "bird", "ghost")


def sprites(root: Path, count: int = 2000, size: int = 64, seed: int = 0) -> Path:
    """An image folder of ``count`` procedurally drawn sprites, made once under ``root``.

    Sprite ``i`` depends only on ``seed`` and ``i``, so the set is the same on
    every machine. The classes are body shapes (:data:`SPRITE_CLASSES`).
    """
    if count < 1:
        raise DatasetError(f"the sprites dataset needs at least one image, got count={count}")
    folder = Path(root) / f"sprites-v{SPRITES_VERSION}-n{count}-s{size}-seed{seed}"
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".part", dir=folder.parent))
    try:
        for name in SPRITE_CLASSES[:count]:  # no empty class folder: ImageFolder refuses one
            (staging / name).mkdir()
        for i in range(count):
            rng = np.random.default_rng([seed, i])
            kind = SPRITE_CLASSES[i % len(SPRITE_CLASSES)]
            draw_sprite(rng, kind, size).save(staging / kind / f"{i:06d}.png")
        _publish_folder(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _color(rng: np.random.Generator, low: int, high: int) -> tuple[int, int, int]:
    r, g, b = rng.integers(low, high, size=3)
    return int(r), int(g), int(b)


def draw_sprite(rng: np.random.Generator, kind: str, size: int = 64) -> Image.Image:
    """One RGB sprite: a coloured creature of body shape ``kind`` on a plain light background."""
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


# ---------------------------------------------------------------------------
# reading and validating image folders


def list_images(folder: Path, check: bool = False) -> list[Path]:
    """The images of an image folder (one sub-folder per class), sorted.

    Files whose names start with a dot are ignored. With ``check=True`` every
    file is opened to prove it is a readable image, and anything else is a
    :class:`DatasetError` naming the file: use it for folders a user brings.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"the image folder {folder} does not exist. {_LAYOUT_HINT}")
    if not folder.is_dir():
        raise DatasetError(f"{folder} is a file, not an image folder. {_LAYOUT_HINT}")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if not classes:
        what = "only loose files" if loose else "nothing"
        raise DatasetError(f"the image folder {folder} holds {what}, no class sub-folders. "
                           f"{_LAYOUT_HINT}")
    images = sorted(_files_in(classes))
    if not images:
        raise DatasetError(f"the image folder {folder} has class sub-folders but no images in "
                           f"them. {_LAYOUT_HINT}")
    if check:
        for path in images:
            _check_image(path)
    return images


_LAYOUT_HINT = ("Point --data-dir at a folder with one sub-folder per class, each holding "
                "PNG or JPEG files (e.g. DIR/cats/1.png), or use --dataset sprites.")


def _files_in(classes: list[Path]) -> Iterator[Path]:
    for class_dir in classes:
        for path in class_dir.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                yield path


def _check_image(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DatasetError(
            f"{path} is not a PNG or JPEG image; every file in the image folder must be one "
            f"(all three frameworks' pipelines read those). Convert it or move it out.")
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as err:  # PIL raises many types for a broken file
        raise DatasetError(f"{path} cannot be read as an image ({err}); "
                           f"replace it or move it out of the image folder.") from err


# ---------------------------------------------------------------------------
# choosing the dataset of a run

DATASETS: dict[str, Callable[[Path, int], Path]] = {
    "pokemon": lambda root, count: fetch_archive(POKEMON, root),
    "sprites": lambda root, count: sprites(root, count),
    "fashion-mnist": lambda root, count: fetch_idx_dataset(FASHION_MNIST, root),
}
"""Dataset name -> function(data_root, num_images) returning its image folder."""


def class_names(folder: Path) -> list[str]:
    """The class sub-folders of an image folder, sorted."""
    return sorted(p.name for p in Path(folder).iterdir()
                  if p.is_dir() and not p.name.startswith("."))


def select_classes(folder: Path, classes: Sequence[str], root: Path) -> Path:
    """An image folder holding only ``classes`` of ``folder``, made once under ``root``.

    The new folder links to the chosen class folders (or copies them where
    the file system has no symbolic links), so every backend's pipeline
    reads it like any other image folder.
    """
    folder = Path(folder).resolve()
    available = class_names(folder)
    unknown = [c for c in classes if c not in available]
    if unknown:
        raise DatasetError(f"--classes {' '.join(unknown)}: no such class in {folder}; "
                           f"the classes are {', '.join(available)}")
    chosen = sorted(set(classes))
    tag = hashlib.sha1(f"{folder}|{'|'.join(chosen)}".encode()).hexdigest()[:10]
    view = Path(root) / "views" / f"{folder.name}-{'+'.join(chosen)}-{tag}"
    if view.is_dir():
        return view
    view.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=view.name + ".", suffix=".part", dir=view.parent))
    try:
        for name in chosen:
            try:
                os.symlink(folder / name, staging / name, target_is_directory=True)
            except OSError:
                shutil.copytree(folder / name, staging / name)
        _publish_folder(staging, view)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return view


def image_folder(dataset: str = "pokemon", data_dir: str | os.PathLike | None = None,
                 data_root: str | os.PathLike | None = None, num_images: int = 2000,
                 classes: Sequence[str] | None = None) -> Path:
    """The image folder of a run: ``data_dir`` if given (checked image by image), else the
    named dataset, fetched or made once under ``data_root`` (default
    :func:`default_data_root`); ``classes`` keeps only those class sub-folders."""
    root = Path(data_root).expanduser() if data_root else default_data_root()
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        list_images(folder, check=True)
    elif dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}, "
                           f"or pass --data-dir")
    else:
        folder = DATASETS[dataset](root, num_images)
    return select_classes(folder, classes, root) if classes else folder
