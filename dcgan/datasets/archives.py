"""The chapter's Pokemon zip: fetched once, verified, and extracted safely."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from dcgan.datasets.download import download
from dcgan.datasets.errors import DatasetError
from dcgan.datasets.staging import staged_folder


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
"""The chapter's dataset, as d2l's data hub publishes it."""


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

    Members are extracted into a staging folder beside ``target`` that is
    renamed when complete; a member whose path leaves the folder (``../``, an
    absolute path) is refused before anything is written.
    """
    with staged_folder(target) as staging:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(staging, _checked_members(archive, staging))
        except zipfile.BadZipFile as err:
            raise DatasetError(f"{zip_path} is not a valid zip file ({err}); delete it and "
                               f"run again to download it anew.") from err
    return Path(target)


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
    if len(entries) == 1 and entries[0].is_dir() and any(p.is_dir() for p in entries[0].iterdir()):
        return entries[0]
    return folder
