"""Datasets: the chapter's download path against a loopback server, the synthetic
sprites, and the checks on a user's image folder."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from dcgan.datasets import (
    SPRITE_CLASSES,
    DatasetError,
    RemoteArchive,
    download,
    extract_zip,
    fetch_archive,
    frame_like_sprites,
    image_folder,
    list_images,
    sprites,
)


def _png_bytes(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


POKEMON_LIKE = {"pokemon/1/1.png": _png_bytes("red"), "pokemon/2/2.png": _png_bytes("blue")}


class LoopbackServer:
    """Serves fixed bytes at /<name> on 127.0.0.1 and counts the requests."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.requests = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served_zip():
    data = make_zip(POKEMON_LIKE)
    with LoopbackServer({"pokemon.zip": data}) as server:
        yield server, RemoteArchive("pokemon", server.url("pokemon.zip"),
                                    hashlib.sha1(data).hexdigest())


def test_a_zip_with_the_right_hash_is_cached_and_extracted(served_zip, tmp_path):
    server, archive = served_zip
    folder = fetch_archive(archive, tmp_path)
    assert folder == tmp_path / "pokemon" / "pokemon"
    assert [p.relative_to(folder).as_posix() for p in list_images(folder)] == ["1/1.png",
                                                                               "2/2.png"]
    assert (tmp_path / "pokemon.zip").is_file()
    assert server.requests == ["/pokemon.zip"]


def test_a_second_call_uses_the_cache_without_a_request(served_zip, tmp_path):
    server, archive = served_zip
    first = fetch_archive(archive, tmp_path)
    second = fetch_archive(archive, tmp_path)
    assert first == second
    assert len(server.requests) == 1


def test_a_wrong_hash_raises_and_leaves_nothing_in_the_cache(served_zip, tmp_path):
    server, archive = served_zip
    wrong = RemoteArchive(archive.name, archive.url, "0" * 40)
    with pytest.raises(DatasetError, match="expected 0000"):
        fetch_archive(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_url_names_the_url_and_the_offline_alternatives(tmp_path):
    with LoopbackServer({}) as server:
        url = server.url("pokemon.zip")
    with pytest.raises(DatasetError) as err:
        download(url, "0" * 40, tmp_path / "pokemon.zip")
    message = str(err.value)
    assert url in message and "--dataset sprites" in message and "--data-dir" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("evil", ["../escaped.png", "pokemon/../../escaped.png",
                                  "/tmp/absolute-escape.png"])
def test_a_zip_member_leaving_the_target_is_refused(tmp_path, evil):
    zip_path = tmp_path / "evil.zip"
    zip_path.write_bytes(make_zip({"pokemon/1/1.png": _png_bytes("red"), evil: b"x"}))
    with pytest.raises(DatasetError, match="outside"):
        extract_zip(zip_path, tmp_path / "out" / "pokemon")
    assert not (tmp_path / "out" / "pokemon").exists()
    assert not (tmp_path / "escaped.png").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_sprites_are_deterministic_and_split_into_classes(tmp_path):
    a = sprites(tmp_path / "a", count=8)
    b = sprites(tmp_path / "b", count=8)
    files_a, files_b = list_images(a), list_images(b)
    assert len(files_a) == 8
    assert sorted({p.parent.name for p in files_a}) == sorted(SPRITE_CLASSES)
    for fa, fb in zip(files_a, files_b):
        assert fa.read_bytes() == fb.read_bytes()
    image = np.asarray(Image.open(files_a[0]))
    assert image.shape == (64, 64, 3) and image.std() > 10


def test_a_sprite_without_its_face_is_the_same_creature_without_eyes_and_mouth(tmp_path):
    with_face = list_images(sprites(tmp_path, count=8))
    without = list_images(sprites(tmp_path, count=8, face=False))
    assert without[0].parent.parent.name.endswith("-faceless")
    assert [p.relative_to(p.parent.parent) for p in without] == \
        [p.relative_to(p.parent.parent) for p in with_face]
    for a, b in zip(with_face, without):
        before, after = np.asarray(Image.open(a)), np.asarray(Image.open(b))
        changed = (before != after).any(axis=-1)
        assert 0.01 < changed.mean() < 0.2, "only the face is left out"
        assert (before[changed] == 255).all(axis=-1).any(), "the white of the eyes went"
        assert not (after[changed] == 255).all(axis=-1).any(), "and nothing white came"


def _creatures(folder):
    """Each image of ``folder`` as pixels, and the mask of where it differs from its ground
    (its top-left pixel)."""
    images = [np.asarray(Image.open(path)).astype(np.int64) for path in list_images(folder)]
    return [(image, np.abs(image - image[0, 0]).sum(axis=-1) > 30) for image in images]


def test_frame_like_sprites_are_the_sprites_body_shapes_on_white(tmp_path):
    plain = list_images(sprites(tmp_path, count=8))
    framed = list_images(frame_like_sprites(tmp_path, count=8))
    assert [p.relative_to(p.parent.parent) for p in framed] == \
        [p.relative_to(p.parent.parent) for p in plain]
    again = list_images(frame_like_sprites(tmp_path / "again", count=8))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in framed]
    for image, creature in _creatures(framed[0].parent.parent):
        assert image.shape == (64, 64, 3)
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert (border == 255).all(axis=1).mean() > 0.9, "on white, as the Pokemon frames"
        assert 0.03 < creature.mean() < 0.6


def test_frame_like_sprites_vary_more_in_size_and_are_shaded_where_the_sprites_are_flat(
        tmp_path):
    plain = _creatures(sprites(tmp_path, count=64))
    framed = _creatures(frame_like_sprites(tmp_path, count=64))

    def size_range(creatures):
        areas = [mask.mean() for _, mask in creatures]
        return max(areas) / min(areas)

    def colours_in_a_creature(creatures):
        return np.median([len(np.unique(image[mask], axis=0)) for image, mask in creatures])

    assert size_range(plain) < 3 < 4 < size_range(framed)
    assert colours_in_a_creature(plain) < 10 < 20 < colours_in_a_creature(framed)
    grounds = np.array([image[0, 0] for image, _ in framed])
    assert (grounds == 255).all(), "one white ground"
    assert np.array([image[0, 0] for image, _ in plain]).std(axis=0).min() > 10, \
        "where each sprite has a light ground of its own"
    body_colours = np.array([image[mask].mean(axis=0) for image, mask in framed])
    assert body_colours.std(axis=0).min() > 25, "bodies in any colour"


def test_the_frame_like_sprites_are_a_dataset_of_their_own(tmp_path):
    folder = image_folder("frame-like-sprites", data_root=tmp_path, num_images=4)
    assert folder.name == "frame-like-sprites-v1-n4-s64-seed0"
    assert sorted(p.name for p in folder.iterdir()) == sorted(SPRITE_CLASSES)


def test_no_sprites_at_all_is_a_clear_error(tmp_path):
    for make in (sprites, frame_like_sprites):
        with pytest.raises(DatasetError, match="at least one image.*--num-images"):
            make(tmp_path, count=0)
    assert list(tmp_path.iterdir()) == []


def test_a_few_sprites_make_no_empty_class_folder(tmp_path):
    folder = sprites(tmp_path, count=2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(SPRITE_CLASSES[:2])


def test_sprites_are_made_once(tmp_path):
    folder = sprites(tmp_path, count=4)
    stamp = folder.stat().st_mtime_ns
    assert sprites(tmp_path, count=4) == folder
    assert folder.stat().st_mtime_ns == stamp


def test_a_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        image_folder(data_dir=tmp_path / "nope")


def test_an_empty_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no class sub-folders"):
        image_folder(data_dir=tmp_path)


def test_loose_images_without_class_folders_are_a_clear_error(tmp_path):
    (tmp_path / "a.png").write_bytes(_png_bytes("red"))
    with pytest.raises(DatasetError, match="only loose files"):
        image_folder(data_dir=tmp_path)


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "1.png").write_bytes(_png_bytes("red"))
    (tmp_path / "cats" / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="notes.txt"):
        image_folder(data_dir=tmp_path)


def test_a_broken_png_is_named(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match="broken.png"):
        image_folder(data_dir=tmp_path)


def test_a_good_data_dir_is_used_as_is(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "1.png").write_bytes(_png_bytes("red"))
    (tmp_path / "cats" / ".DS_Store").write_bytes(b"junk")
    assert image_folder(data_dir=tmp_path) == tmp_path


def test_an_unknown_dataset_name_lists_the_choices(tmp_path):
    with pytest.raises(DatasetError, match="sprites"):
        image_folder("cifar", data_root=tmp_path)


# ---------------------------------------------------------------------------
# Fashion-MNIST (the chapter's second exercise), served as small IDX files


def idx_gz(array: np.ndarray) -> bytes:
    """A gzipped IDX file of unsigned bytes, as the Fashion-MNIST files are."""
    import gzip

    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture
def served_fashion():
    from dcgan.datasets import FASHION_MNIST, IdxDataset

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.array([7, 7, 8, 0, 7, 8, 9, 0, 7, 8, 9, 0], dtype=np.uint8)
    files = {FASHION_MNIST.images[0]: idx_gz(images), FASHION_MNIST.labels[0]: idx_gz(labels)}
    with LoopbackServer(files) as server:
        spec = IdxDataset(
            "fashion-mnist", server.url(""),
            (FASHION_MNIST.images[0], hashlib.md5(files[FASHION_MNIST.images[0]]).hexdigest()),
            (FASHION_MNIST.labels[0], hashlib.md5(files[FASHION_MNIST.labels[0]]).hexdigest()),
            FASHION_MNIST.classes)
        yield server, spec, images, labels


def test_fashion_mnist_is_converted_into_one_folder_per_category(served_fashion, tmp_path):
    from dcgan.datasets import class_names, fetch_idx_dataset

    server, spec, images, labels = served_fashion
    folder = fetch_idx_dataset(spec, tmp_path)
    assert class_names(folder) == sorted(["Sneaker", "Bag", "T-shirt-top", "Ankle-boot"])
    assert len(list((folder / "Sneaker").iterdir())) == 4
    first = np.asarray(Image.open(folder / "Sneaker" / "00000.png"))
    assert first.shape == (64, 64, 3)
    # Upscaled, not invented: shrinking back gives the original 28x28 image closely.
    small = np.asarray(Image.fromarray(first[..., 0]).resize((28, 28), Image.BILINEAR), float)
    assert np.corrcoef(small.ravel(), images[0].ravel())[0, 1] > 0.8
    assert len(server.requests) == 2
    assert fetch_idx_dataset(spec, tmp_path) == folder
    assert len(server.requests) == 2, "a second call makes no request"


def test_fashion_mnist_with_a_wrong_checksum_keeps_nothing(served_fashion, tmp_path):
    from dcgan.datasets import IdxDataset, fetch_idx_dataset

    server, spec, _, _ = served_fashion
    wrong = IdxDataset(spec.name, spec.base_url, (spec.images[0], "0" * 32), spec.labels,
                       spec.classes)
    with pytest.raises(DatasetError, match="MD5"):
        fetch_idx_dataset(wrong, tmp_path)
    assert not (tmp_path / "fashion-mnist").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_fashion_mnist_offline_names_the_url(tmp_path):
    from dcgan.datasets import FASHION_MNIST, IdxDataset, fetch_idx_dataset

    with LoopbackServer({}) as server:
        base = server.url("")
    spec = IdxDataset("fashion-mnist", base, FASHION_MNIST.images, FASHION_MNIST.labels,
                      FASHION_MNIST.classes)
    with pytest.raises(DatasetError) as err:
        fetch_idx_dataset(spec, tmp_path)
    assert base + FASHION_MNIST.images[0] in str(err.value)
    assert "--dataset sprites" in str(err.value)


def test_a_truncated_idx_file_is_a_clear_error(tmp_path):
    from dcgan.datasets import read_idx

    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(idx_gz(np.zeros((4, 28, 28)))[:-30])
    with pytest.raises(DatasetError, match="cut-idx3-ubyte"):
        read_idx(path)


def test_classes_keeps_only_the_chosen_class_folders(tmp_path):
    folder = sprites(tmp_path / "data", count=8)
    view = image_folder("sprites", data_root=tmp_path / "data", num_images=8,
                        classes=["bug", "ghost"])
    assert sorted({p.parent.name for p in list_images(view)}) == ["bug", "ghost"]
    assert len(list_images(view)) == 4
    assert len(list_images(folder)) == 8, "the full dataset is untouched"


def test_an_unknown_class_lists_the_available_ones(tmp_path):
    with pytest.raises(DatasetError, match="bird, blob, bug, ghost"):
        image_folder("sprites", data_root=tmp_path, num_images=4, classes=["Sneaker"])
