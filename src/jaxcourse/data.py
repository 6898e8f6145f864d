"""MNIST for the chapters and exercises: tensorflow-datasets when it can, shipped digits when not.

    from jaxcourse.data import load_mnist

    train = load_mnist("train")        # prints which source it used
    train.images, train.labels         # uint8 (N, 28, 28, 1), int64 (N,)
    train.source                       # "tfds" or "bundled"

`source="auto"` (the default) uses tensorflow-datasets (`tfds.load("mnist", ...)`) whenever the
dataset is already prepared in tfds's data folder or its download server answers a short
check; otherwise it falls back, at once, to the 5,000 real MNIST digits shipped in
`data/mnist/mnist_5k.npz` (4,000 train, 1,000 test, 400/100 of each class: see
data/mnist/README.md). Offline, tfds itself would retry for minutes before giving up; the check
takes a few seconds at most.

`source="tfds"` insists on tensorflow-datasets (and raises `MnistUnavailable` rather than wait
when it cannot download); `source="bundled"` reads the shipped file without importing tfds or
TensorFlow. The environment variable JAXCOURSE_MNIST_SOURCE (auto, tfds or bundled) decides
what `source="auto"` does, so CI or an offline classroom can force one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "test")
SOURCES = ("auto", "tfds", "bundled")
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
SOURCE_VARIABLE = "JAXCOURSE_MNIST_SOURCE"
BUNDLED_FILE = Path("data") / "mnist" / "mnist_5k.npz"
NETWORK_TIMEOUT = 3.0


class MnistUnavailable(RuntimeError):
    """source="tfds" was asked for, but tfds can neither read nor download the dataset."""


@dataclass(frozen=True, repr=False)
class Digits:
    """One split of MNIST: uint8 images (N, 28, 28, 1), int64 labels (N,), and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    split: str
    source: str  # "tfds" or "bundled"
    origin: str  # a readable description: dataset and folder, or file and why it was used

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return (f"Digits(split={self.split!r}, source={self.source!r}, images={self.images.dtype}"
                f"{list(self.images.shape)}, labels={self.labels.dtype}{list(self.labels.shape)})")

    def describe(self) -> str:
        return f"MNIST {self.split}: {len(self):,} digits from {self.origin}"


def load_mnist(
    split: str,
    source: str = "auto",
    *,
    data_dir: str | os.PathLike | None = None,
    dataset: str = "mnist",
    verbose: bool = True,
) -> Digits:
    """Load the `split` ("train" or "test") of MNIST as a `Digits` (images, labels, source).

    source: "auto" (tfds if prepared or downloadable, else the shipped digits), "tfds" or
        "bundled". With "auto", the environment variable JAXCOURSE_MNIST_SOURCE, when set,
        chooses instead.
    data_dir: tfds's data folder (default: tfds's own, ~/tensorflow_datasets or $TFDS_DATA_DIR).
    dataset: the tfds dataset name; any builder giving uint8 (28, 28, 1) images and labels works
        (the tests use the course's own builder in jaxcourse.mnist_tfds).
    verbose: print one line saying which source was used (the returned `source` says it too).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    requested = source
    if source == "auto":
        requested = os.environ.get(SOURCE_VARIABLE, "").strip().lower() or "auto"
        if requested not in SOURCES:
            raise ValueError(f"{SOURCE_VARIABLE} must be one of {SOURCES}, got {requested!r}")

    if requested == "bundled":
        digits = load_bundled(split, reason=f"source={source!r}" if source == "bundled"
                              else f"{SOURCE_VARIABLE}=bundled")
    else:
        try:
            digits = load_tfds(split, data_dir=data_dir, dataset=dataset)
        except Exception as err:  # in "auto" any failure of the tfds path means: use the shipped digits
            if requested == "tfds":
                raise
            digits = load_bundled(split, reason=f"offline fallback: {_short(err)}")
    if verbose:
        print(digits.describe())
    return digits


# --- tensorflow-datasets -------------------------------------------------------------------------


def load_tfds(split: str, *, data_dir=None, dataset: str = "mnist") -> Digits:
    """MNIST through tensorflow-datasets, downloading only after a fast check that it can."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import tensorflow_datasets as tfds

    with _quiet_absl():  # an unprepared dataset logs a warning about its missing folder
        builder = tfds.builder(dataset, data_dir=data_dir)
        prepared = builder.is_prepared()
    url = getattr(builder, "URL", None)  # builders that download name their server; ours reads local files
    if not prepared and url and not server_reachable(url):
        raise MnistUnavailable(
            f"tfds {dataset!r} is not prepared in {builder.data_dir_root} and {_host(url)} "
            "cannot be reached (offline?)"
        )
    _keep_tensorflow_off_accelerators()
    images, labels = tfds.as_numpy(
        tfds.load(dataset, split=split, data_dir=data_dir, as_supervised=True, batch_size=-1)
    )
    images, labels = _checked(images, labels, f"tfds {dataset!r}")
    return Digits(images, labels, split, "tfds",
                  f"tensorflow-datasets {dataset!r} ({builder.info.version}) in {builder.data_dir_root}")


def server_reachable(url: str, timeout: float = NETWORK_TIMEOUT) -> bool:
    """True when an HTTP(S) request to `url` gets any answer within `timeout` seconds.

    Runs in a thread so that a slow name lookup cannot stretch the wait either.
    """
    answer: list[bool] = []

    def ask():
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
            answer.append(True)
        except urllib.error.HTTPError:  # the server answered (403, 404...): the network is there
            answer.append(True)
        except Exception:
            answer.append(False)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(answer and answer[0])


def _keep_tensorflow_off_accelerators() -> None:
    """tfds reads through TensorFlow; hide GPUs from it so it leaves their memory to JAX."""
    try:
        import tensorflow as tf

        tf.config.set_visible_devices([], "GPU")
    except (ImportError, RuntimeError):  # no TensorFlow, or its devices are already set up
        pass


# --- the shipped digits --------------------------------------------------------------------------


def bundled_path() -> Path:
    """data/mnist/mnist_5k.npz of the course checkout (found from this file or the working folder)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[2], Path.cwd(), *Path.cwd().resolve().parents]
    for folder in candidates:
        if (folder / BUNDLED_FILE).is_file():
            return folder / BUNDLED_FILE
    raise FileNotFoundError(
        f"no {BUNDLED_FILE} next to the jaxcourse package or above {Path.cwd()}: "
        "run from a checkout of the course (it ships the file)"
    )


def load_bundled(split: str, reason: str = "") -> Digits:
    """The shipped split: 4,000 train or 1,000 test digits, the same classes in equal numbers."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = bundled_path()
    with np.load(path) as stored:
        images, labels = stored[f"{split}_images"][..., np.newaxis], stored[f"{split}_labels"]
    images, labels = _checked(images, labels, str(path))
    where = path.relative_to(path.parents[2]) if len(path.parents) > 2 else path
    return Digits(images, labels, split, "bundled",
                  f"the shipped file {where}" + (f" ({reason})" if reason else ""))


# --- helpers -------------------------------------------------------------------------------------


def _checked(images, labels, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Both sources keep one contract: uint8 (N, 28, 28, 1) images and int64 (N,) labels."""
    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{where}: expected uint8 images (N, 28, 28, 1), got {images.dtype} {images.shape}")
    if labels.shape != images.shape[:1] or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"{where}: expected {len(images)} labels in 0-9, got shape {labels.shape}")
    return images, labels


@contextlib.contextmanager
def _quiet_absl():
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {text[:160]}" if text else type(err).__name__


# --- the shipped text (chapter 12) -----------------------------------------------------------

TEXT_FILE = Path("data") / "alice" / "alice.txt"


def text_path() -> Path:
    """data/alice/alice.txt of the course checkout (found from this file or the working folder)."""
    here = Path(__file__).resolve()
    for folder in [here.parents[2], Path.cwd(), *Path.cwd().resolve().parents]:
        if (folder / TEXT_FILE).is_file():
            return folder / TEXT_FILE
    raise FileNotFoundError(
        f"no {TEXT_FILE} next to the jaxcourse package or above {Path.cwd()}: run from a checkout "
        "of the course (it ships the file: Alice's Adventures in Wonderland, public domain)"
    )


def load_text() -> str:
    """Alice's Adventures in Wonderland (Lewis Carroll, Project Gutenberg eBook #11, public domain),
    144,430 characters: the corpus of chapter 12 (data/alice/README.md says where it comes from)."""
    return text_path().read_text(encoding="utf-8")
