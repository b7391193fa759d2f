"""Images of any size in bounded memory: overlapping tiles, Hann blending, whole-image instance-norm statistics.

Tolerances measured on this project's 2-core CPU (random-weight networks at ngf 8, float32), against one
untiled pass, in [-1, 1] (one 8-bit level is 0.0078):

- unet_256, batch norm (moving statistics calibrated on images, output std about 0.17), 1024 x 1024 in tiles
  of 512 (overlap rounded up to 256, the size rule): mean |diff| 0.0017, 99th percentile 0.008, max 0.028.
  The U-Net's receptive field spans the whole image, so a tile's deepest features see less context.
- resnet_9blocks, instance norm with the whole image's statistics, 512 x 512 in tiles of 256 (overlap 128):
  mean 0.0008, 99th percentile 0.0066. With each tile's own statistics: mean 0.094. With statistics from a
  half-resolution pass (what a budget too small for the whole image gives): mean 0.047 (random networks
  amplify any change of statistics through their 23 instance norms).
"""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_translate.inference import translate_array
from tfgan_translate.networks import build_generator
from tfgan_translate.tiling import axis_weights, ramp, translate_tiled
from tfgan_translate.tiling_plan import (
    MIB,
    activation_bytes,
    default_overlap,
    minimum_size,
    plan_tile,
    statistics_size,
    tile_starts,
)

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "tiling_bench.py"


def smooth_image(size, seed=0, cell=48, noise=0.0):
    """(size, size, 3) in [-1, 1]: bicubic colour fields, plus Gaussian noise of std `noise`."""
    rng = np.random.default_rng(seed)
    cells = rng.uniform(-1, 1, (size // cell + 2, size // cell + 2, 3)).astype(np.float32)
    image = tf.image.resize(cells[None], (size, size), method="bicubic")[0].numpy()
    return np.clip(image + noise * rng.standard_normal(image.shape), -1, 1).astype(np.float32)


def calibrated_unet(ngf=8, upsample="transpose"):
    """unet_256 without dropout whose batch-norm moving statistics match real activations, like a trained one's.

    Random weights at init_gain 0.02 shrink the signal layer by layer (the output is nearly constant); running
    the network in training mode on images sets the moving statistics, and a larger last layer gives an
    output of std ~0.2, so the comparisons below are about images, not about a constant.
    """
    g = build_generator("unet_256", ngf=ngf, dropout=0.0, upsample=upsample)
    for seed in range(25):
        g(smooth_image(256, seed=100 + seed, noise=0.1)[None], training=True)
    last = g.get_layer("up1_conv")
    last.kernel.assign(last.kernel * 16.0)
    return g


def untiled(g, x):
    return g(x[None], training=False).numpy()[0]


def column_steps(y, band=16):
    """Mean |horizontal difference| per column, of rows averaged in bands (texture averages out, steps stay)."""
    h = y.shape[0] // band * band
    rows = y[:h].reshape(h // band, band, *y.shape[1:]).mean(axis=1)
    return np.abs(np.diff(rows, axis=1)).mean(axis=(0, 2))


def seam_ratio(y, seams, radius=12):
    """The worst ratio of a seam column's step to the median step of the columns around it (no seam: ~1)."""
    steps, worst = column_steps(y), 0.0
    for c in seams:
        around = [i for i in range(c - radius, c + radius + 1)
                  if 0 <= i < len(steps) and min(abs(i - s) for s in seams) > 2]
        worst = max(worst, steps[c] / np.median(steps[around]))
    return worst


def tile_seams(starts, tile):
    """The columns where a tile begins or ends (the step between column c and c + 1)."""
    return sorted({s - 1 for s in starts[1:]} | {s + tile - 1 for s in starts[:-1]})


# ------------------------------------------------------------------ the grid, the window, the plan
def test_tiles_are_aligned_cover_the_image_and_weights_sum_to_one():
    assert tile_starts(1024, 512, 64, 256) == [0, 256, 512]  # U-Net: starts on its size rule
    assert tile_starts(1000, 256, 32, 4) == [0, 184, 372, 556, 744]  # evenly spread
    assert tile_starts(200, 256, 32, 4) == [0]
    for length, tile, overlap, align in ((1000, 256, 32, 4), (4096, 716, 179, 4), (2048, 768, 192, 256),
                                         (1024, 256, 200, 4)):  # the last: three tiles cover some pixels
        starts = tile_starts(length, tile, overlap, align)
        assert all(s % align == 0 for s in starts) and starts[-1] + tile == length
        assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))
        total = np.zeros(length)
        for start, weight in zip(starts, axis_weights(starts, tile, length), strict=True):
            total[start:start + tile] += weight
        np.testing.assert_allclose(total, 1.0, atol=1e-6)
    np.testing.assert_allclose(ramp(7) + ramp(7)[::-1], 1.0, atol=1e-7)
    assert 0 < ramp(7)[0] < 0.1 and 0.9 < ramp(7)[-1] < 1


def test_the_plan_fits_the_budget_and_bad_tiles_are_refused():
    g = build_generator("resnet_9blocks", ngf=4)
    per_pixel = activation_bytes(g, 256, 256) / 256**2
    assert activation_bytes(g, 1024, 512) == pytest.approx(per_pixel * 1024 * 512, rel=1e-6)
    assert plan_tile(g, 512, 512, 4, activation_bytes(g, 512, 512)) is None  # fits: one pass
    budget = 40 * MIB
    tile = plan_tile(g, 4096, 4096, 4, budget)
    assert tile % 4 == 0 and activation_bytes(g, tile, tile) <= budget
    with pytest.raises(ValueError, match="multiple of 256"):
        translate_array(build_generator("unet_256", ngf=4), np.zeros((8, 8, 3)), tile=300)
    with pytest.raises(ValueError, match=r"overlap=64\. Expected an integer in \[0, 64\)"):
        translate_array(g, np.zeros((8, 8, 3)), tile=64, overlap=64)
    with pytest.raises(ValueError, match="memory_budget"):
        translate_array(g, np.zeros((8, 8, 3)), memory_budget=0)


def test_tiles_are_never_smaller_than_the_networks_smallest_input():
    """Issue 19, item 5: a small budget planned 4-px tiles for a ResNet generator, whose residual blocks'
    reflection pads then had 1 px to mirror at the bottleneck (MirrorPad refused: exit 1)."""
    resnet, unet = build_generator("resnet_2blocks", ngf=4), build_generator("unet_32", ngf=4, dropout=0.0)
    assert minimum_size(resnet) == 8 and minimum_size(unet) == 32  # asked of the layers: pads 3 and 1 (at 1/4)
    assert minimum_size(build_generator("resnet_9blocks", ngf=4, upsample="resize")) == 8
    export = SimpleNamespace(minimum_size=8)  # an export's, from its metadata.json
    assert minimum_size(export, 4) == 8 and minimum_size(lambda batch: batch, 16) == 16
    for g, multiple in ((resnet, 4), (unet, 32)):
        for budget in (1, 4096, 64 * 1024):  # bytes: far below any tile's need
            tile = plan_tile(g, 256, 192, multiple, budget)
            assert tile is not None and tile % multiple == 0 and tile >= minimum_size(g), (g.name, budget, tile)
            assert min(statistics_size(g, 256, 192, multiple, budget)) >= minimum_size(g)
    assert plan_tile(resnet, 256, 192, 4, 1) == 8  # the smallest tile the network runs, not the size rule's 4
    with pytest.raises(ValueError, match=r"tile=4\. Expected a multiple of 4 of at least 8"):
        translate_array(resnet, np.zeros((20, 20, 3)), tile=4)
    with pytest.raises(ValueError, match="at least 8"):
        translate_tiled(resnet, np.zeros((4, 16, 3), np.float32), tile=8)
    x = smooth_image(64)[:37, :50]
    y = translate_array(resnet, x, memory_budget=1e-6)  # the budget allows no tile: the smallest, 8 px
    assert y.shape == (37, 50, 3) and np.isfinite(y).all()


def test_translate_cli_takes_tile_overlap_and_memory_budget(tiny_run, tmp_path, capsys):
    from tfgan_translate.app.cli import main

    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 100, 3), dtype=np.uint8)).save(inputs / "a.png")
    run = ["-q", "translate", "--checkpoint", str(tiny_run), "--input", str(inputs)]
    outputs = {}
    for name, flags in (("whole", []), ("tiled", ["--tile", "64", "--overlap", "16"]),
                        ("budget", ["--memory-budget", "0.15"])):  # tiles of 32; the image (105 KB decoded) fits
        assert main([*run, "--output", str(tmp_path / name), *flags]) == 0, capsys.readouterr().err
        outputs[name] = np.asarray(Image.open(tmp_path / name / "a.png"), np.float32)
        assert outputs[name].shape == (70, 100, 3)
    assert np.abs(outputs["tiled"] - outputs["whole"]).mean() < 8  # 8-bit levels; the same picture
    assert main([*run, "--output", str(tmp_path / "bad"), "--tile", "48"]) == 2
    assert "multiple of 32" in capsys.readouterr().err
    assert main([*run, "--output", str(tmp_path / "bad"), "--tile", "64", "--overlap", "64"]) == 2
    assert "--overlap" in capsys.readouterr().err


# ------------------------------------------------------------------ tiled vs untiled
def test_tiled_unet_with_batch_norm_matches_the_untiled_pass():
    g = calibrated_unet()
    x = smooth_image(1024, noise=0.1)
    whole = untiled(g, x)
    assert whole.std() > 0.1
    diff = np.abs(translate_tiled(g, x, tile=512) - whole)
    print(f"unet_256 tiled 512 vs untiled: mean {diff.mean():.4f} p99 {np.quantile(diff, 0.99):.4f} "
          f"max {diff.max():.4f}")
    assert diff.mean() < 0.004 and np.quantile(diff, 0.99) < 0.02 and diff.max() < 0.06


def test_tiled_resnet_uses_the_whole_images_instance_norm_statistics():
    g = build_generator("resnet_9blocks", ngf=8)
    x = smooth_image(512, noise=0.1)
    whole = untiled(g, x)
    tiled = np.abs(translate_tiled(g, x, tile=256) - whole)
    own = np.abs(translate_tiled(lambda b, training=False: g(b, training=training), x, tile=256, multiple=4)
                 - whole)  # a plain function: each tile normalised by its own statistics
    small = np.abs(translate_tiled(g, x, tile=256, memory_budget=activation_bytes(g, 256, 256)) - whole)
    print(f"resnet_9blocks tiled 256 vs untiled: whole-image statistics mean {tiled.mean():.4f} p99 "
          f"{np.quantile(tiled, 0.99):.4f}; per-tile {own.mean():.4f}; half-resolution statistics {small.mean():.4f}")
    assert tiled.mean() < 0.002 and np.quantile(tiled, 0.99) < 0.015
    assert own.mean() > 20 * tiled.mean()  # each tile's own statistics: far off, and tiles disagree
    assert small.mean() < 0.08


def test_no_seam_at_the_tile_borders():
    x = smooth_image(768, seed=1, cell=96)
    g = build_generator("resnet_9blocks", ngf=8, upsample="resize")  # a smooth output, where a seam would show
    tile = 256
    seams = tile_seams(tile_starts(768, tile, default_overlap(tile), 4), tile)
    whole = untiled(g, x)
    blended = seam_ratio(translate_tiled(g, x, tile=tile), seams)
    naive = np.concatenate([np.concatenate([untiled(g, x[r:r + tile, c:c + tile]) for c in range(0, 768, tile)],
                                           axis=1) for r in range(0, 768, tile)], axis=0)
    butted = seam_ratio(naive, [tile - 1, 2 * tile - 1])
    print(f"seam ratio: blended {blended:.2f}, untiled at the same columns {seam_ratio(whole, seams):.2f}, "
          f"tiles side by side {butted:.2f}")
    assert butted > 1.8  # the measure sees a seam when there is one
    assert blended < 1.5 and blended < seam_ratio(whole, seams) + 0.25


# ------------------------------------------------------------------ 4096 x 4096 in bounded memory
@pytest.mark.parametrize("netG, ngf", [("unet_256", 16), ("resnet_9blocks", 8)])
def test_a_4096_image_translates_with_a_peak_rss_under_2_gb(netG, ngf, tmp_path):
    """The whole `translate_files` (load, tiles, save) in a fresh process: its peak resident memory.

    A reduced ngf keeps the suite fast (untiled, each would still need over 2 GB for its layers alone);
    full-size figures (ngf 64) come from `python benchmarks/tiling_bench.py`.
    """
    sys.path.insert(0, str(BENCH.parent))
    try:
        from tiling_bench import measure
    finally:
        sys.path.remove(str(BENCH.parent))
    row = measure(netG, ngf, 4096, tmp_path, timeout=600)
    print(json.dumps(row))
    assert row["peak_rss_gib"] * 2**30 < 2e9, row
    assert row["untiled_estimate_gib"] * 2**30 > 2e9 and row["tile"] is not None  # tiling is what kept it there
    assert Image.open(row["output"]).size == (4096, 4096)


# ------------------------------------------------------------------ exports: tiles on request
def test_exports_tile_on_request(tmp_path):
    from tfgan_translate.export import export_generator, load_export

    g = build_generator("unet_32", ngf=4, dropout=0.0)
    rng = np.random.default_rng(0)
    # Moving batch-norm statistics: an export's tiles cannot share the whole image's (its own per-image ones)
    result = export_generator(g, tmp_path / "export", quantize=("none",), image_size=32, test_batch_norm="moving",
                              representative_data=rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32))
    saved, fixed = load_export(result.out_dir), load_export(result.tflite["none"])
    x = smooth_image(96, noise=0.1)[:70, :90]
    reference = translate_array(g, x, tile=32, overlap=16, memory_budget=None, test_batch_norm="moving")
    np.testing.assert_allclose(saved.translate_array(x, tile=32, overlap=16), reference, atol=1e-4)
    np.testing.assert_allclose(fixed.translate_array(x, tile=32, overlap=16), reference, atol=1e-4)  # its own size
    with pytest.raises(ValueError, match="fixed 32x32 input: expected tile=32"):
        fixed.translate_array(x, tile=64)
    with pytest.raises(ValueError, match="multiple of 32"):
        saved.translate_array(x, tile=48)
