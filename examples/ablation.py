"""The pix2pix loss ablation (Isola et al. 2017, Sec. 4.2, Table 1 / Fig. 4), reproduced on facades on a CPU.

Trains pix2pix on the facades set (label map -> photo, direction BtoA) at
128 x 128 (unet_128) once per objective, each with the SAME budget of process
CPU seconds (and at most --max-steps steps), evaluates every run on the test
pairs (L1, PSNR, SSIM, sharpness; KID/FID when Inception weights are
available) and writes a Markdown table and a grid of the same test inputs
across objectives (input | l1 | cgan | l1+cgan | target):

    nice -n 10 python examples/ablation.py --cpu-seconds 300 --out runs/ablation \\
        --table docs/ablation.md --grid docs/ablation_grid.png

Runs are named by objective; "OBJECTIVE@D" also changes the discriminator, for
the paper's PatchGAN-size ablation (Table 3): @pixel (1x1), @16 (n_layers 1),
@70 (basic), @286 (n_layers 5), e.g. ``--runs l1+cgan@pixel,l1+cgan@16,l1+cgan@70``.

The budget is process CPU time (all threads: the train steps, tf.data
decoding), measured from the start of `fit`, so runs get the same compute
however busy the shared machine is; an objective without a discriminator (l1)
does more steps in it. `--reuse` skips the training of runs already in --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from tfgan_translate.config import Pix2PixConfig
from tfgan_translate.data import list_images, paired_dataset, save_image
from tfgan_translate.data.paired import resolve_paired_split
from tfgan_translate.evaluation import (
    FeatureWeightsUnavailable,
    InceptionFeatures,
    evaluate_arrays,
    image_grid,
)
from tfgan_translate.training.precision import precision_scope
from tfgan_translate.training.run import load_run, train

log = logging.getLogger("tfgan_translate")

FACADES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "facades"
# "@D" suffixes: the paper's PatchGAN sizes -> (netD, n_layers_D)
DISCRIMINATORS = {"pixel": ("pixel", 3), "16": ("n_layers", 1), "70": ("basic", 3), "286": ("n_layers", 5)}
OBJECTIVES = ("l1", "gan", "cgan", "l1+gan", "l1+cgan")


class CPUBudget(keras.callbacks.Callback):
    """Stops `fit` once the process has used `seconds` of CPU time since training began (all threads)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.cpu_start = self.wall_start = None
        self.cpu_used = self.wall_used = 0.0

    def on_train_begin(self, logs=None):
        self.cpu_start, self.wall_start = time.process_time(), time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.cpu_used = time.process_time() - self.cpu_start
        self.wall_used = time.perf_counter() - self.wall_start
        if self.cpu_used >= self.seconds:
            self.model.stop_training = True


def parse_run(spec: str) -> dict:
    """'l1+cgan@16' -> {"name": "l1+cgan@16", "objective": "l1+cgan", "netD": "n_layers", "n_layers_D": 1}."""
    objective, _, disc = spec.partition("@")
    if objective not in OBJECTIVES or (disc and disc not in DISCRIMINATORS):
        raise SystemExit(f"Invalid run {spec!r}: expected OBJECTIVE[@D] with OBJECTIVE in {list(OBJECTIVES)} "
                         f"and D in {list(DISCRIMINATORS)}.")
    net_d, n_layers = DISCRIMINATORS[disc or "70"]
    return {"name": spec, "objective": objective, "netD": net_d, "n_layers_D": n_layers,
            "folder": re.sub(r"[^A-Za-z0-9]+", "_", spec)}


def make_config(args, run: dict) -> Pix2PixConfig:
    return Pix2PixConfig(
        data=str(args.data), direction="BtoA", image_size=args.size, load_size=round(args.size * 286 / 256),
        netG=f"unet_{args.size}", netD=run["netD"], n_layers_D=run["n_layers_D"], ngf=args.ngf, ndf=args.ndf,
        objective=run["objective"], batch_size=args.batch_size, lr=args.lr, epochs=1, n_epochs_decay=0,
        steps_per_epoch=args.max_steps, precision=args.precision, strategy="none", seed=args.seed,
        log_every=1000, sample_count=4, keep_checkpoints=1,
    )


def train_run(args, run: dict) -> dict:
    """Trains one run within the budget (or reuses it); returns its budget figures."""
    run_dir = args.out / run["folder"]
    record = run_dir / "ablation_run.json"
    if args.reuse and record.is_file() and (run_dir / "checkpoints" / "latest.keras").is_file():
        log.info("Reusing %s", run_dir)
        return json.loads(record.read_text())
    budget = CPUBudget(args.cpu_seconds)
    log.info("Training %s for %.0f CPU seconds (at most %d steps) ...", run["name"], args.cpu_seconds, args.max_steps)
    with precision_scope(args.precision):  # in case `train` does not apply config.precision itself
        result = train(make_config(args, run), run_dir, callbacks=[budget], verbose=0, overwrite=True)  # a rerun
    figures = {"steps": int(result.model.g_optimizer.iterations), "cpu_seconds": round(budget.cpu_used, 1),
               "wall_seconds": round(budget.wall_used, 1)}
    record.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def test_pairs(args):
    """The test split at the training size, in file-name order: names, inputs (labels), targets (photos)."""
    where = resolve_paired_split(args.data, "test")
    names = [p.stem for p in list_images(where.folder_a)]
    ds = paired_dataset(args.data, split="test", direction="BtoA", image_size=args.size, load_size=args.size,
                        preprocess="none", flip=False, shuffle=False, batch_size=16)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return names, np.concatenate(xs), np.concatenate(ys)


def translate(run_dir: Path, inputs: np.ndarray, seed: int) -> np.ndarray:
    _, model = load_run(run_dir)
    keras.utils.set_random_seed(seed)  # the generator's test-time dropout
    return np.concatenate([np.asarray(model.generator(inputs[i:i + 16], training=False))
                           for i in range(0, len(inputs), 16)])


def write_table(args, rows: list[dict], distribution_note: str, grid_rows: list[str]) -> str:
    """The Markdown report: setup, table, what it shows against the paper's expectation."""
    with_kid = any(row.get("kid") is not None for row in rows)
    lines = [
        "# The pix2pix loss ablation on facades, on a CPU budget",
        "",
        ("Generated by `examples/ablation.py`. Facades label map -> photo (direction BtoA), "
        f"{args.size}x{args.size}, unet_{args.size} (ngf {args.ngf}) and PatchGAN (ndf {args.ndf}), batch norm, "
        f"dropout 0.5, Adam({args.lr:g}, 0.5), batch {args.batch_size}, jitter resize "
        f"{round(args.size * 286 / 256)} -> random crop {args.size} + flip, lambda_L1 100, vanilla GAN, "
        f"precision {args.precision}, seed {args.seed}. Each run: the same budget of {args.cpu_seconds:g} process "
        f"CPU seconds (at most {args.max_steps} steps), constant learning rate; machine: "
        f"{os.cpu_count()} shared CPU cores ({platform.processor() or platform.machine()}), run with nice."),
        "",
        (f"Evaluated on the {rows[0]['count']} test pairs at {args.size}x{args.size} (inputs and targets resized "
        "from 256), with the generator's test-time dropout on (as in the paper). L1: mean |G(x) - y| with pixels "
        "in [-1, 1] (lower is better); PSNR in dB and SSIM on [0, 1] pixels (higher is better); sharpness: mean "
        "squared Laplacian of G(x) over that of y (about 1: as much fine detail as real photos; below 1: blur)."),
        "",
        "| run | D | steps | CPU s | wall s | L1 | PSNR | SSIM | sharpness |" + (" KID | FID |" if with_kid else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if with_kid else ""),
    ]
    for row in rows:
        m = row["mean"]
        cells = [row["name"], row["discriminator"], str(row["steps"]), f"{row['cpu_seconds']:.0f}",
                 f"{row['wall_seconds']:.0f}", f"{m['l1']:.4f}", f"{m['psnr']:.2f}", f"{m['ssim']:.4f}",
                 f"{m['sharpness']:.3f}"]
        if with_kid:
            cells += [f"{row['kid']['mean']:.4f} +- {row['kid']['std']:.4f}", f"{row['fid']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", distribution_note, ""]

    by_name = {row["name"]: row["mean"] for row in rows}
    if "l1" in by_name and "l1+cgan" in by_name:
        l1, both = by_name["l1"], by_name["l1+cgan"]
        lowest = min(rows, key=lambda row: row["mean"]["l1"])["name"]
        lines += [
            "Against the paper's expectation (checked, not forced):",
            "",
            f"- lowest L1 error: **{lowest}** (expected: l1).",
            f"- l1's sharpness: {l1['sharpness']:.3f} (expected well below 1: blur).",
            (f"- l1+cgan's sharpness: {both['sharpness']:.3f} (expected near 1); its L1 error is "
            f"{100 * (both['l1'] / l1['l1'] - 1):+.1f}% relative to l1's (expected close)."),
        ]
        if "cgan" in by_name:
            lines.append(f"- cgan alone: sharpness {by_name['cgan']['sharpness']:.3f}, "
                         f"L1 {by_name['cgan']['l1']:.4f}.")
        lines.append("")
    columns = " | ".join(["input"] + [row["name"] for row in rows] + ["target"])
    grid_link = Path(os.path.relpath(args.grid.resolve(), args.table.resolve().parent)).as_posix()
    lines += [f"![ablation grid]({grid_link})", "",
              f"Columns: {columns}. Rows: test images {', '.join(grid_rows)}.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, default=FACADES, help="facades folder (train/ and test/)")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"), help="folder for the runs")
    parser.add_argument("--runs", default="l1,cgan,l1+cgan", help="comma-separated OBJECTIVE[@pixel|@16|@70|@286]")
    parser.add_argument("--cpu-seconds", type=float, default=300.0, help="process CPU seconds of training per run")
    parser.add_argument("--max-steps", type=int, default=100_000, help="steps per run at most")
    parser.add_argument("--size", type=int, default=128, help="image size (unet_<size>)")
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "auto"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feature-weights", default="imagenet",
                        help="Inception-v3 weights for KID/FID ('imagenet' or a local .h5); skipped if unavailable")
    parser.add_argument("--grid-rows", type=int, default=4, help="test images in the grid (evenly spaced)")
    parser.add_argument("--table", type=Path, default=Path("docs/ablation.md"))
    parser.add_argument("--grid", type=Path, default=Path("docs/ablation_grid.png"))
    parser.add_argument("--reuse", action="store_true", help="skip training runs already present in --out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    runs = [parse_run(spec.strip()) for spec in args.runs.split(",") if spec.strip()]

    budgets = {run["name"]: train_run(args, run) for run in runs}

    names, inputs, targets = test_pairs(args)
    extractor, distribution_note = None, ""
    try:
        extractor = InceptionFeatures(args.feature_weights)
        distribution_note = (f"KID (subsets of 50) and FID from Inception-v3 pool features (weights: "
                             f"{args.feature_weights}) between the {len(names)} translations and targets; FID on "
                             "so few images is strongly biased upwards: compare runs, not papers.")
    except (FeatureWeightsUnavailable, FileNotFoundError, ValueError) as error:
        log.warning("No KID/FID: %s", error)
        distribution_note = ("KID/FID: not computed (no Inception-v3 ImageNet weights on this offline machine; "
                             "rerun with `--feature-weights PATH`).")

    rows, outputs = [], {}
    for run in runs:
        outputs[run["name"]] = translate(args.out / run["folder"], inputs, args.seed)
        result = evaluate_arrays(outputs[run["name"]], targets, names, kid=extractor is not None,
                                 fid=extractor is not None, extractor=extractor, kid_subset_size=50)
        disc = "none" if run["objective"] == "l1" else {"pixel": "1x1", "n_layers": f"n_layers {run['n_layers_D']}",
                                                         "basic": "70x70"}[run["netD"]]
        if run["netD"] == "n_layers":
            disc = {1: "16x16", 5: "286x286"}.get(run["n_layers_D"], disc)
        rows.append({"name": run["name"], "discriminator": disc, **budgets[run["name"]], "count": len(names),
                     "mean": result.mean, "kid": result.kid, "fid": result.fid})
        log.info("%s: %s", run["name"], {k: round(v, 4) for k, v in result.mean.items()})

    picks = np.linspace(0, len(names) - 1, args.grid_rows).round().astype(int)
    grid = image_grid([[inputs[i], *(outputs[run["name"]][i] for run in runs), targets[i]] for i in picks],
                      ["input", *(run["name"] for run in runs), "target"], cell=args.size)
    save_image(grid.astype(np.float32) / 127.5 - 1.0, args.grid)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(write_table(args, rows, distribution_note, [names[i] for i in picks]))
    (args.out / "results.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                       "rows": rows}, indent=2) + "\n")
    print(args.table.read_text())
    print(f"Grid: {args.grid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
