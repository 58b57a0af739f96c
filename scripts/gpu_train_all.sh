#!/usr/bin/env bash
# Every game and every agent at once, for a machine with a CUDA GPU and many cores (e.g. a lent GPU machine): for
# Python Breakout and each registered Game Boy game (GBCBreakout, GBCSnake, GBCPong, GBCRunner, ... every GBC*-v0 id
# but the generic GBC-v0), the full budgets of scripts/run_all.sh with one training process per run: the memory agent
# (on the extracted state, and on a Game Boy game also on raw RAM) and the pixel agent, 3 seeds each; then their
# evaluations and the comparison per game.
#
#   OUT=/path/to/results scripts/gpu_train_all.sh [--envs "BreakoutPy-v0 GBCSnake-v0"] [--seeds "1 2 3"] [--dry-run]
#
# --envs picks games (default: all); --seeds and other options go on to run_all.sh; --dry-run prints every command
# (no GPU needed) and runs nothing. Needs a torch build with CUDA in .venv (requirements.txt pins the CPU build: on a
# CUDA machine install the matching CUDA wheel of the same torch version first); the scripts use CUDA whenever torch
# sees it. Writes the run folders (TensorBoard logs and final models; checkpoints and videos are dropped to keep the
# result small), evaluations, the comparisons and gpu.txt (which card) under $OUT, and prints where.
{  # bash reads the whole block before running it, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-artifacts/gpu}
ENVS="" DRY_RUN=0 PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --envs) ENVS=$2; shift ;;
    --dry-run) DRY_RUN=1; PASS+=(--dry-run) ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) PASS+=("$1") ;;
  esac
  shift
done
if [ -z "$ENVS" ]; then
  ENVS="BreakoutPy-v0 $("$PY" -c "import gbc, gymnasium as gym
print(' '.join(i for i in gym.registry if i.startswith('GBC') and i != 'GBC-v0'))")"
fi
if [ "$DRY_RUN" = 0 ]; then
  mkdir -p "$OUT"
  "$PY" -c "import torch, sys; ok = torch.cuda.is_available(); print('cuda:', ok, torch.cuda.get_device_name(0) if ok else ''); sys.exit(0 if ok else 3)" \
    | tee "$OUT/gpu.txt" || { echo "error: gpu_train_all.sh: torch sees no CUDA GPU; install a CUDA build of torch, or use scripts/run_all.sh on the CPU" >&2; exit 2; }
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/gpu.txt" 2>/dev/null || true
fi
for env_id in $ENVS; do
  echo "== $env_id"
  scripts/run_all.sh --full --jobs 6 --env "$env_id" --runs-dir "$OUT/runs" --out-dir "$OUT/$env_id" ${PASS[@]+"${PASS[@]}"}
done
[ "$DRY_RUN" = 1 ] && exit 0
find "$OUT/runs" \( -name checkpoints -o -name videos \) -type d -prune -exec rm -rf {} +
echo "wrote runs, evaluations and the comparisons to $OUT"
exit
}
