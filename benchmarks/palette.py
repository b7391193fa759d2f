"""CycleGAN, CUT and FastCUT on the built-in unpaired "palette" set: does G learn the hidden mapping T?

The longer version of tests/test_cycle_gan_learns.py. Trains one model for a given number of steps and prints,
after every `--eval-every` steps, the mean |G(a) - T(a)| on held-out images next to the identity and
mean-image baselines (and writes them as JSON). Every model gets the same generator and discriminator size,
data, batch and step budget; CUT and FastCUT keep their own objective and blur down/up-sampling.

    python benchmarks/palette.py --model cut --steps 3000 --size 64 --out runs/palette_cut
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from tfgan_translate.config import CUTConfig, CycleGANConfig
from tfgan_translate.data import known_mapping_errors, write_synthetic_unpaired_dataset
from tfgan_translate.training.run import train


class _Probe(keras.callbacks.Callback):
    def __init__(self, root, rows):
        super().__init__()
        self.root, self.rows, self.start = root, rows, time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        errors = known_mapping_errors(lambda a: self.model.translate(a, training=False), self.root)
        row = {"step": int(self.model.trained_steps.numpy()), "seconds": round(time.perf_counter() - self.start, 1),
               **{k: round(v, 4) for k, v in errors.items()}}
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def config_for(model: str, root: Path, args) -> CycleGANConfig | CUTConfig:
    common = dict(data=str(root), image_size=args.size, load_size=args.size, netG=f"resnet_{args.blocks}blocks",
                  ngf=16, netD="n_layers", n_layers_D=2, ndf=16, steps_per_epoch=args.eval_every,
                  epochs=max(1, args.steps // args.eval_every), n_epochs_decay=0, validation_steps=2, seed=0)
    if model == "cyclegan":
        return CycleGANConfig(**common, lambda_identity=0.0, pool_size=args.pool_size)
    # CUT taps the padded input, the two down convolutions and the first residual block (all in any depth).
    return CUTConfig(**common, mode=model, nce_layers=(0, 4, 8, 12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("cyclegan", "cut", "fastcut"), default="cyclegan")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=3, help="residual blocks of G")
    parser.add_argument("--out", default=None, help="default: runs/palette_MODEL")
    parser.add_argument("--pool-size", type=int, default=50, help="CycleGAN's history pool")
    args = parser.parse_args()

    out = Path(args.out or f"runs/palette_{args.model}")
    root = write_synthetic_unpaired_dataset(out / "data", n_train=200, n_test=32, size=args.size, kind="palette")
    config = config_for(args.model, root, args)
    rows: list[dict] = []
    train(config, out / "run", callbacks=[_Probe(root, rows)], verbose=0, overwrite=True)
    (out / "results.json").write_text(json.dumps({"model": args.model, "config": config.to_dict(), "rows": rows},
                                                 indent=2) + "\n")
    print(f"wrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
