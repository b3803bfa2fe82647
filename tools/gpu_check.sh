#!/usr/bin/env bash
# The GPU figures, on a machine with an NVIDIA GPU, in under 5 minutes:
#   1. a CNN on MNIST-1D trained on CUDA in float32 and with bf16 mixed precision (train.amp),
#      and on the CPU, for the same epochs: status, test accuracy, samples/s of each;
#   2. `python -m modelkit bench --device cuda --quick`: overhead vs a bare CUDA loop, first point,
#      stop, the race, and how many small runs one GPU sustains at once (gpu_sharing).
# Each step has a timeout (3 x 30 s + 200 s). Writes its JSON under $OUT (default ./gpu-check)
# and prints a summary. Needs torch built with CUDA (PyPI's default torch wheel on Linux).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
export MODELKIT_HOME="$out/home" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import sqlalchemy, mnist1d, safetensors" 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
python3 - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU visible to torch: this check needs one"
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, bf16: {torch.cuda.is_bf16_supported()}")
PY
train() {  # name, then extra arguments
  local name="$1"; shift
  timeout 30 python3 -m modelkit train --task mnist1d --arch cnn --epochs 20 --json "$@" > "$out/train_$name.json"
}
train cuda_fp32 --device cuda
train cuda_amp --device cuda --set train.amp=true
train cpu --device cpu
timeout 200 python3 -m modelkit bench --device cuda --quick --json > "$out/bench_cuda.json" 2> "$out/bench_cuda.log"
python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for name in ("cuda_fp32", "cuda_amp", "cpu"):
    r = json.loads((out / f"train_{name}.json").read_text().splitlines()[-1])
    print(f"train {name:<10} {r['status']:<10} test_accuracy {r['metrics'].get('test_accuracy', float('nan')):.3f}"
          f"   {r['samples_per_s']:>11,.0f} samples/s   {r['seconds']:.1f} s")
print((out / "bench_cuda.log").read_text())
PY
