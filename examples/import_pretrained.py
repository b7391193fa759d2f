"""A pretrained generator of the PyTorch reference, on Keras and on phones: import, translate, export to TFLite.

By default it downloads (once, into the cache) the reference's pix2pix facades generator (label map ->
facade photo, unet_256), imports it as a run folder, translates a facade label map (the built-in synthetic
ones unless --image is given) and exports it to TFLite, printing how closely each file matches Keras:

    python examples/import_pretrained.py --out runs/import_example
    python examples/import_pretrained.py --pretrained horse2zebra --image horse.jpg --out runs/h2z
    python examples/import_pretrained.py --checkpoint checkpoints/facades/latest_net_G.pth --direction BtoA \\
        --out runs/facades_import

(a `.pth` file's tensors give its architecture). The same as two commands: `tfgan-translate import
--pretrained NAME --out RUN` then `tfgan-translate export RUN --tflite --quantize float16,int8`; in Python,
`UNetGenerator.from_preset(NAME)` gives the generator alone.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from tfgan_translate.data import random_label_map, save_image
from tfgan_translate.export import export_generator
from tfgan_translate.inference import generator_for, translate_files
from tfgan_translate.io import from_uint8
from tfgan_translate.reference import import_reference, preset_names
from tfgan_translate.training.run import load_run

DEFAULT = "pix2pix_facades_label2photo"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pretrained", default=DEFAULT, choices=preset_names(), metavar="NAME",
                        help=f"one of the reference's 23 pretrained generators (default: {DEFAULT})")
    source.add_argument("--checkpoint", type=Path, help="a local .pth file instead (or a checkpoints/NAME/ folder)")
    parser.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB",
                        help="which way --checkpoint translates its data folders (default: AtoB)")
    parser.add_argument("--image", type=Path, help="an image to translate (default: a built-in facade label map)")
    parser.add_argument("--size", type=int, default=256, help="label-map and TFLite input size (default: 256)")
    parser.add_argument("--quantize", default="float16,int8", help="TFLite files: none,float16,int8 (default: "
                                                                   "float16,int8)")
    parser.add_argument("--out", type=Path, default=Path("runs/import_example"), help="output folder")
    return parser.parse_args(argv)


def label_maps(count: int, size: int, channels: int, seed: int = 0) -> np.ndarray:
    """Built-in facade label maps, float32 (count, size, size, channels) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    maps = np.stack([from_uint8(random_label_map(rng, size)) for _ in range(count)])
    return maps.mean(axis=-1, keepdims=True) if channels == 1 else maps[..., :channels]


def main(argv=None) -> dict:
    """Imports, translates and exports; returns the paths written and the parity figures."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    run_dir = args.out / "run"

    # 1. Import: a run folder (config.json, checkpoints/latest.keras, imported.json).
    if args.checkpoint is not None:
        result = import_reference(args.checkpoint, run_dir, direction=args.direction, overwrite=True)
    else:
        result = import_reference(args.pretrained, run_dir, overwrite=True)
    print(result.summary())

    # 2. Translate one image, as `tfgan-translate translate --checkpoint RUN` does.
    config, model = load_run(run_dir)
    generator = generator_for(model, config.direction, config.direction)
    channels = int(generator.input_shape[-1])
    calibration = label_maps(8, args.size, channels)
    image = args.image or save_image(calibration[0], args.out / "label_map.png")
    translated = translate_files(generator, image, args.out / "translated")[0]
    print(f"Translated {image} -> {translated}")

    # 3. Export to TFLite (the label maps calibrate int8 and measure parity).
    quantize = tuple(q.strip() for q in args.quantize.split(",") if q.strip())
    export = export_generator(run_dir, args.out / "export", saved_model=False, quantize=quantize,
                              image_size=args.size, representative_data=calibration)
    parity = {name: figures for name, figures in export.metadata["parity"].items() if "max_abs_diff" in figures}
    for name, figures in parity.items():
        psnr = "identical" if figures["psnr_db"] is None else f"{figures['psnr_db']:.1f} dB"
        print(f"  {export.tflite[{'tflite_float32': 'none'}.get(name, name[len('tflite_'):])].name}: max abs diff "
              f"{figures['max_abs_diff']:.2e}, PSNR {psnr} against Keras")
    return {"run_dir": run_dir, "image": Path(image), "translated": translated, "tflite": export.tflite,
            "parity": parity}


if __name__ == "__main__":
    main()
