"""Image folders: one sub-folder per class. Listing, checking, labelling and narrowing them."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterator, Sequence

from PIL import Image

from dcgan.datasets.errors import DatasetError
from dcgan.datasets.images import warn_about_sizes
from dcgan.datasets.staging import staged_folder

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""The image files every backend's pipeline reads (Gluon's ImageFolderDataset reads only these)."""

_LAYOUT_HINT = ("Point --data-dir at a folder with one sub-folder per class, each holding "
                "PNG or JPEG files (e.g. DIR/cats/1.png), or use --dataset sprites.")


def list_images(folder: Path, check: bool = False) -> list[Path]:
    """The images of an image folder (one sub-folder per class), sorted.

    Files whose names start with a dot are ignored. With ``check=True`` every
    file is opened to prove it is a readable image, and anything else is a
    :class:`DatasetError` naming the file; images that the chapter's resize
    squashes or strongly upscales are reported in one warning. Use it for
    folders a user brings.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"the image folder {folder} does not exist. {_LAYOUT_HINT}")
    if not folder.is_dir():
        raise DatasetError(f"{folder} is a file, not an image folder. {_LAYOUT_HINT}")
    classes = [folder / name for name in class_names(folder)]
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
        warn_about_sizes(folder, ((path, _checked_size(path)) for path in images))
    return images


def labelled_images(folder: Path) -> tuple[list[Path], list[int]]:
    """The images of an image folder and their labels: the index of their class sub-folder
    in sorted order, as torchvision's ``ImageFolder`` numbers them."""
    folder = Path(folder)
    paths = list_images(folder)
    index = {name: i for i, name in enumerate(class_names(folder))}
    return paths, [index[p.relative_to(folder).parts[0]] for p in paths]


def _files_in(classes: list[Path]) -> Iterator[Path]:
    for class_dir in classes:
        for path in class_dir.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                yield path


def _checked_size(path: Path) -> tuple[int, int]:
    """The (width, height) of an image file, or a :class:`DatasetError` naming the file."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DatasetError(
            f"{path} is not a PNG or JPEG image; every file in the image folder must be one "
            f"(all the frameworks' pipelines read those). Convert it or move it out.")
    try:
        with Image.open(path) as image:
            image.verify()
            return image.size
    except Exception as err:  # PIL raises many types for a broken file
        raise DatasetError(f"{path} cannot be read as an image ({err}); "
                           f"replace it or move it out of the image folder.") from err


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
    with staged_folder(view) as staging:
        for name in chosen:
            try:
                os.symlink(folder / name, staging / name, target_is_directory=True)
            except OSError:
                shutil.copytree(folder / name, staging / name)
    return view
