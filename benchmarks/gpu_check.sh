#!/usr/bin/env bash
# GPU device check (issue 20 item 8; docs/install.md): on a GPU machine, in under 10 minutes and offline,
#   1. checks that Python has this package's dependencies and a TensorFlow that sees the GPU (exactly one
#      TensorFlow distribution; tensorflow-cpu never sees one), and says what is missing;
#   2. writes the synthetic facades at 256 px (`tfgan-translate datasets synth`);
#   3. trains pix2pix (unet_256 + 70x70 PatchGAN) and CycleGAN (resnet_9blocks) through the package's own
#      `train()` (the command line's path: data pipeline, strategy, checkpoints) at 256 px, batch 16,
#      mixed_bfloat16, a few hundred steps each, one process and one timeout per model;
#   4. prints steps/s (images/s) after warm-up and the peak GPU memory of each, and a summary.
#
#   bash benchmarks/gpu_check.sh                           # on the GPU machine
#   GPU_CHECK_SMOKE=1 bash benchmarks/gpu_check.sh         # tiny settings: tests this script on a CPU (~1 min)
#
# The package is imported from this working tree (PYTHONPATH), installed or not; its dependencies must be
# installed (pip install -e ".[gpu]", see docs/install.md). Settings (environment variables):
#   GPU_CHECK_SIZE=256  GPU_CHECK_BATCH=16  GPU_CHECK_PRECISION=mixed_bfloat16 (float32, mixed_float16, auto)
#   GPU_CHECK_STEPS_PIX2PIX=300  GPU_CHECK_STEPS_CYCLEGAN=200  GPU_CHECK_WARMUP=20 (steps not timed)
#   GPU_CHECK_JIT=0 (1: XLA)  GPU_CHECK_STRATEGY=auto  GPU_CHECK_BUDGET=540 (seconds for everything)
#   GPU_CHECK_OUT=<new temporary folder> (data, runs, results.json; kept)  PYTHON=python3
# Exit status: 0 all trained on a GPU (or, in smoke mode, anywhere); 2 dependencies missing; 3 no GPU
# (outside smoke mode nothing is trained); 4 a training stage failed or ran out of time.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
SMOKE="${GPU_CHECK_SMOKE:-0}"
if [[ "$SMOKE" == 1 ]]; then
  SIZE="${GPU_CHECK_SIZE:-32}" BATCH="${GPU_CHECK_BATCH:-2}" FILTERS=8 N_TRAIN=8 N_TEST=2 RESNET=resnet_6blocks
  STEPS_PIX2PIX="${GPU_CHECK_STEPS_PIX2PIX:-6}" STEPS_CYCLEGAN="${GPU_CHECK_STEPS_CYCLEGAN:-4}"
  WARMUP="${GPU_CHECK_WARMUP:-1}"
else
  SIZE="${GPU_CHECK_SIZE:-256}" BATCH="${GPU_CHECK_BATCH:-16}" FILTERS=64 N_TRAIN=64 N_TEST=16 RESNET=resnet_9blocks
  STEPS_PIX2PIX="${GPU_CHECK_STEPS_PIX2PIX:-300}" STEPS_CYCLEGAN="${GPU_CHECK_STEPS_CYCLEGAN:-200}"
  WARMUP="${GPU_CHECK_WARMUP:-20}"
fi
PRECISION="${GPU_CHECK_PRECISION:-mixed_bfloat16}"
JIT="${GPU_CHECK_JIT:-0}"
STRATEGY="${GPU_CHECK_STRATEGY:-auto}"
BUDGET="${GPU_CHECK_BUDGET:-540}"
OUT="${GPU_CHECK_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")}"
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
START=$SECONDS

say() { printf '[gpu_check %4ds] %s\n' "$((SECONDS - START))" "$*"; }
# Seconds a stage may take: its own limit, or what is left of the budget (less a margin), whichever is less.
limit() { local left=$((BUDGET - (SECONDS - START) - 5)); ((left < $1)) && echo $((left > 1 ? left : 1)) || echo "$1"; }
run_stage() {  # run_stage NAME SECONDS COMMAND...: says so if it failed or timed out; returns its status
  local name=$1 seconds; seconds=$(limit "$2"); shift 2
  timeout --kill-after=10 "$seconds" "$@"
  local status=$?
  if ((status == 124 || status == 137)); then say "$name: TIMED OUT after ${seconds}s"
  elif ((status != 0)) && [[ $name != environment ]]; then say "$name: FAILED (exit $status)"; fi
  return $status
}

say "repository $ROOT; output $OUT; smoke=$SMOKE; budget ${BUDGET}s"
if command -v nvidia-smi >/dev/null 2>&1; then
  timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/  nvidia-smi: /'
else
  say "nvidia-smi not found (no NVIDIA driver on PATH)"
fi

# --- 1. Python, the dependencies, TensorFlow and its GPUs ------------------------------------------------
if ! command -v "$PYTHON" >/dev/null 2>&1; then say "MISSING: $PYTHON (set PYTHON=...)"; exit 2; fi
cat >"$OUT/environment.py" <<'PY'
"""Prints what is missing, the TensorFlow distributions and build, and the GPUs. Exit 2: missing; 3: no GPU."""
import importlib.metadata
import importlib.util
import sys

print(f"  python {sys.version.split()[0]} at {sys.executable}")
needed = {"tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "PIL": "pillow",
          "tensorboard": "tensorboard"}
missing = [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]
if missing:
    print(f"MISSING Python packages: {', '.join(missing)}. This machine needs the package's dependencies: "
          "pip install -e \".[gpu]\" (docs/install.md); offline, from wheels brought along: "
          "pip install --no-index --find-links WHEELS -e \".[gpu]\"")
    sys.exit(2)
owners = sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                 if any(f.parts[:1] == ("tensorflow",) for f in d.files or [])})
print(f"  TensorFlow distributions writing tensorflow/: {', '.join(owners) or 'none found'}")
if len(owners) > 1:
    print("  WARNING: more than one TensorFlow distribution: uninstall them all, then reinstall one "
          "(docs/install.md)")
import tensorflow as tf  # noqa: E402

build = tf.sysconfig.get_build_info()
print(f"  tensorflow {tf.__version__}, CUDA build {build.get('is_cuda_build')}, CUDA {build.get('cuda_version')}, "
      f"cuDNN {build.get('cudnn_version')}; keras {importlib.metadata.version('keras')}")
gpus = tf.config.list_physical_devices("GPU")
for gpu in gpus:
    details = tf.config.experimental.get_device_details(gpu)
    print(f"  {gpu.name}: {details.get('device_name')}, compute capability {details.get('compute_capability')}")
if not gpus:
    why = []
    if any(o.lower().replace("_", "-") == "tensorflow-cpu" for o in owners):
        why.append("tensorflow-cpu is installed, a build without CUDA: pip uninstall -y tensorflow-cpu, then "
                   "pip install -e \".[gpu]\"")
    elif not build.get("is_cuda_build"):
        why.append("this TensorFlow is not a CUDA build (PyPI's CUDA builds: tensorflow on Linux x86_64)")
    else:
        why.append("a CUDA build that found no usable GPU: is the NVIDIA driver there (nvidia-smi), are NVIDIA's "
                   "CUDA libraries installed (the gpu extra: tensorflow[and-cuda])? Rerun with "
                   "TF_CPP_MIN_LOG_LEVEL=0 to see TensorFlow's reason")
    print("no GPU found: " + "; ".join(why))
    sys.exit(3)
PY
run_stage "environment" 90 "$PYTHON" "$OUT/environment.py"
status=$?
if ((status == 2)); then exit 2; fi
if ((status == 3)) && [[ "$SMOKE" != 1 ]]; then say "no GPU found: nothing trained (GPU_CHECK_SMOKE=1 trains tiny models on the CPU)"; exit 3; fi
if ((status == 3)); then say "no GPU found; smoke mode: tiny models on the CPU, to test this script"
elif ((status != 0)); then say "environment: FAILED (exit $status)"; exit 4; fi
DEVICE_FOUND=$((status == 0))

# --- 2. Data ----------------------------------------------------------------------------------------------
say "writing the synthetic facades at ${SIZE}px ($N_TRAIN train, $N_TEST test pairs)"
run_stage "data" 60 "$PYTHON" -m tfgan_translate datasets synth --out "$OUT/data" --size "$SIZE" \
  --n-train "$N_TRAIN" --n-test "$N_TEST" >/dev/null || exit 4

# --- 3. Training: one process per model (its own peak memory and timeout) ------------------------------
cat >"$OUT/train_driver.py" <<'PY'
"""python train_driver.py MODEL DATA OUT SIZE BATCH PRECISION STEPS WARMUP FILTERS JIT STRATEGY RESULTS RESNET"""
import json
import logging
import resource
import sys
import time

model, data, out, size, batch, precision, steps, warmup, filters, jit, strategy, results, resnet = sys.argv[1:14]
size, batch, steps, warmup, filters = int(size), int(batch), int(steps), int(warmup), int(filters)
logging.basicConfig(level=logging.INFO, format="  %(levelname)s %(message)s")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig  # noqa: E402
from tfgan_translate.training.run import train  # noqa: E402

gpus = tf.config.list_physical_devices("GPU")
epochs = 2
per_epoch = max(1, steps // epochs)
common = dict(data=data, image_size=size, load_size=round(size * 286 / 256), batch_size=batch, epochs=epochs,
              steps_per_epoch=per_epoch, precision=precision, jit=jit == "1", strategy=strategy,
              validation_steps=1, ngf=filters, ndf=filters)
if model == "pix2pix":
    config = Pix2PixConfig(netG=f"unet_{size}", **common)
else:
    config = CycleGANConfig(netG=resnet, **common)


def sync():
    if hasattr(tf.test.experimental, "sync_devices"):
        tf.test.experimental.sync_devices()


class Timer(keras.callbacks.Callback):
    """Times steps after warm-up, within each epoch (the epoch ends' validation and checkpoints excluded)."""

    def __init__(self):
        super().__init__()
        self.epoch, self.mark, self.timed_steps, self.timed_seconds = 0, None, 0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.mark = epoch, None

    def on_train_batch_end(self, batch, logs=None):
        first = warmup if self.epoch == 0 else 1  # the first epoch compiles; later ones start a new loop
        if batch + 1 == first:
            sync()
            self.mark = (batch, time.perf_counter())
        elif self.mark is not None and batch == per_epoch - 1:
            sync()
            self.timed_steps += batch - self.mark[0]
            self.timed_seconds += time.perf_counter() - self.mark[1]
            self.mark = None


timer = Timer()
if gpus:
    tf.config.experimental.reset_memory_stats("GPU:0")
started = time.perf_counter()
result = train(config, out, callbacks=[timer], verbose=0)
wall = time.perf_counter() - started
losses = {k: round(float(v[-1]), 4) for k, v in result.history.items() if not k.startswith("val_")}
row = {"model": model, "netG": config.netG, "size": size, "batch": batch, "precision": precision,
       "jit": jit == "1", "device": gpus[0].name if gpus else "CPU", "steps": per_epoch * epochs,
       "timed_steps": timer.timed_steps, "timed_seconds": timer.timed_seconds,
       "steps_per_second": timer.timed_steps / timer.timed_seconds if timer.timed_seconds else None,
       "train_wall_seconds": wall, "losses": losses,
       "peak_gpu_memory_bytes": tf.config.experimental.get_memory_info("GPU:0")["peak"] if gpus else None,
       "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
rate = row["steps_per_second"]
speed = f"{rate:.2f} steps/s ({rate * batch:.1f} images/s) over {timer.timed_steps} timed steps" if rate else \
    "no steps timed (too few steps for the warm-up)"
memory = (f"peak GPU memory {row['peak_gpu_memory_bytes'] / 2**30:.2f} GiB" if gpus else "no GPU") + \
    f", peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB"
print(f"RESULT {model} {config.netG} {size}px batch {batch} {precision}{' xla' if jit == '1' else ''} on "
      f"{row['device']}: {speed}; {memory}; train() {wall:.0f}s for {row['steps']} steps; last losses {losses}",
      flush=True)
PY
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
failed=0
for model in pix2pix cyclegan; do
  if [[ $model == pix2pix ]]; then steps=$STEPS_PIX2PIX seconds=200; else steps=$STEPS_CYCLEGAN seconds=260; fi
  say "training $model: ${SIZE}px, batch $BATCH, $PRECISION, $steps steps (first $WARMUP not timed), limit $(limit $seconds)s"
  run_stage "$model" "$seconds" "$PYTHON" "$OUT/train_driver.py" "$model" "$OUT/data" "$OUT/runs/$model" "$SIZE" \
    "$BATCH" "$PRECISION" "$steps" "$WARMUP" "$FILTERS" "$JIT" "$STRATEGY" "$RESULTS" "$RESNET" || failed=1
done

# --- 4. Summary -------------------------------------------------------------------------------------------
say "summary ($RESULTS):"
"$PYTHON" - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"  {'model':<10}{'device':<22}{'steps/s':>9}{'images/s':>10}{'peak GPU GiB':>14}{'train() s':>11}")
for r in rows:
    rate, peak = r["steps_per_second"], r["peak_gpu_memory_bytes"]
    print(f"  {r['model']:<10}{r['device'][-21:]:<22}{rate or 0:>9.2f}{(rate or 0) * r['batch']:>10.1f}"
          f"{peak / 2**30 if peak is not None else float('nan'):>14.2f}{r['train_wall_seconds']:>11.0f}")
PY
if ((failed)); then say "a training stage failed or timed out (see above)"; exit 4; fi
if ((!DEVICE_FOUND)); then say "done, on the CPU (no GPU found): the script works; run it on a GPU machine"; exit 0; fi
say "done in $((SECONDS - START))s"
