#!/usr/bin/env bash
# All seeds of both agents at once, for a machine with a CUDA GPU and many cores (e.g. a lent GPU machine):
# the full budgets of scripts/run_all.sh with one training process per run, then evaluations and the comparison.
#
#   OUT=/path/to/results scripts/gpu_train_all.sh [--env BreakoutPy-v0] [--seeds "1 2 3"]
#
# Needs a torch build with CUDA in .venv (requirements.txt pins the CPU build: on a CUDA machine install the matching
# CUDA wheel of the same torch version first); the scripts use CUDA whenever torch sees it. Writes the run folders
# (TensorBoard logs and final models; checkpoints and videos are dropped to keep the result small), evaluations,
# the comparison and gpu.txt (which card) under $OUT, and prints where.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-artifacts/gpu}
mkdir -p "$OUT"
"$PY" -c "import torch, sys; ok = torch.cuda.is_available(); print('cuda:', ok, torch.cuda.get_device_name(0) if ok else ''); sys.exit(0 if ok else 3)" \
  | tee "$OUT/gpu.txt" || { echo "error: gpu_train_all.sh: torch sees no CUDA GPU; install a CUDA build of torch, or use scripts/run_all.sh on the CPU" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/gpu.txt" 2>/dev/null || true
scripts/run_all.sh --full --jobs 6 --runs-dir "$OUT/runs" --out-dir "$OUT" "$@"
find "$OUT/runs" \( -name checkpoints -o -name videos \) -type d -prune -exec rm -rf {} +
echo "wrote runs, evaluations and the comparison to $OUT"
