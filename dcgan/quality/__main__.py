"""``python -m dcgan.quality RUN_DIR``: how good are a run's samples?

Draws ``--num`` samples (seeded) from the run's canonical weights with an
installed backend, compares them with the run's real images (or
``--data-dir`` / ``--dataset``), prints every metric beside its noise floor
and writes ``quality.json`` into the run folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dcgan import backend as backends
from dcgan.cli import (
    Parser,
    add_run_data_options,
    non_negative_int,
    positive_int,
    run_config,
    run_data,
    weights_file,
)
from dcgan.config import Config
from dcgan.datasets import DatasetError
from dcgan.devices import DEVICES, requested_device
from dcgan.files import write_bytes_atomic
from dcgan.quality.evaluate import QUALITY_FILE, evaluate_weights, format_table
from dcgan.quality.reference import QualityReference
from dcgan.runs import CONFIG_FILE
from dcgan.weights import canonical_shapes, check_arrays, load_weights


def build_parser() -> Parser:
    """The options of ``python -m dcgan.quality``."""
    parser = Parser(prog="python -m dcgan.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", metavar="RUN_DIR",
                        help="a run folder: its weights, its data, and where quality.json goes")
    parser.add_argument("--weights", default=None, metavar="PATH",
                        help="canonical weights (a run folder or a weights.safetensors) "
                             "instead of RUN_DIR's")
    parser.add_argument("--num", metavar="N", type=positive_int, default=2000,
                        help="samples to draw (at most half the real images are used, so "
                             "that the noise floor has as many)")
    parser.add_argument("--seed", metavar="N", type=non_negative_int, default=0,
                        help="the samples' noise, the choice of real images and the "
                             "metrics' random draws")
    parser.add_argument("--backend", choices=backends.BACKENDS, default=None,
                        help="the framework that draws the samples (default: the first "
                             "installed; the numbers agree within float tolerance)")
    add_run_data_options(parser, "the real images to compare with")
    parser.add_argument("--latent-dim", metavar="N", type=positive_int, default=None,
                        help="length of the noise vector (default: the run's, else 100)")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="where the samples are drawn")
    parser.add_argument("--out", default=None, metavar="JSON",
                        help=f"the report (default: {QUALITY_FILE} in the run folder, or "
                             f"beside --weights)")
    return parser


def _run_config(run: str | None) -> Config:
    """The run folder's configuration; a folder that is not a run is an error."""
    if run is not None and not (Path(run) / CONFIG_FILE).is_file():
        raise ValueError(f"{run}: not a run folder (no {CONFIG_FILE}); pass a run folder, or "
                         f"--weights FILE with --dataset or --data-dir")
    return run_config(run)


def main(argv: list[str] | None = None) -> int:
    """Measure the samples of a run's weights; prints the table, writes ``quality.json``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.run is None and args.weights is None:
        parser.error("give a RUN_DIR, or --weights with --dataset or --data-dir")
    try:
        config = _run_config(args.run)
        latent_dim = args.latent_dim or config.latent_dim
        path = weights_file(args.weights or args.run, "--weights" if args.weights else "RUN_DIR")
        weights = load_weights(path)
        check_arrays(canonical_shapes(latent_dim)["net_G"], weights.get("net_G", {}),
                     f"{path} (net_G)")
        folder, data_root = run_data(args, config)
        if args.num < 2:
            raise ValueError(f"--num {args.num}: the metrics need at least 2 samples")
        names = [args.backend] if args.backend else backends.available()
        if not names or backends.missing_reason(names[0]):
            raise ValueError("no backend is installed to draw samples with; install one, "
                             "e.g. pip install -e \".[torch]\"")
        backend = backends.load(names[0])
        device = backend.resolve_device(requested_device(args.device))
        reference = QualityReference.of_folder(folder, data_root, args.num)
    except (ValueError, DatasetError) as err:
        parser.error(str(err))
    report = evaluate_weights(backend, weights["net_G"], reference, args.num, args.seed,
                              device)
    report["weights"] = str(path)
    folder = Path(args.run) if args.run else path.parent
    out = Path(args.out) if args.out else folder / QUALITY_FILE
    write_bytes_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    print(format_table(report))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
