#!/usr/bin/env bash
# Steps 02-04 on Python Breakout: train the memory and the pixel agent over several seeds, then compare them.
#
#   scripts/run_all.sh --quick   2 seeds, 65,536 memory + 16,384 pixel steps each: about 3 minutes on 2 cores
#   scripts/run_all.sh           3 seeds, 3M memory + 5M pixel steps each (the issue's budgets). Expected time on
#                                2 CPU cores, from measured speeds (memory ~4,000 steps/s, pixel ~350-500 steps/s):
#                                memory 3 x 12-14 min, pixel 3 x 3-4 h: about 10-13 hours in all
#
# Runs go to runs/BreakoutPy-v0__<agent>__s<seed>__<quick|full>,
# the comparison to artifacts/compare/<quick|full>/BreakoutPy-v0/.
# Re-running the same mode resumes every run from its last checkpoint, so a stopped full run can be continued.
# Environment: PYTHON (default .venv/bin/python), SEEDS (default "1 2" quick, "1 2 3" full).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

MODE=full
for arg in "$@"; do
  case "$arg" in
    --quick) MODE=quick ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option '$arg' (use --quick, or no option for the full runs)" >&2; exit 2 ;;
  esac
done

if [ "$MODE" = quick ]; then
  SEEDS=${SEEDS:-"1 2"}
  MEMORY=(--total-timesteps 65536 --video-interval 16 --checkpoint-interval 8)
  PIXEL=(--total-timesteps 16384 --video-interval 16 --checkpoint-interval 8)
else
  SEEDS=${SEEDS:-"1 2 3"}
  MEMORY=(--total-timesteps 3000000)
  PIXEL=(--total-timesteps 5000000)
fi

for seed in $SEEDS; do
  "$PY" scripts/02_train_memory.py --seed "$seed" --run-name "$MODE" "${MEMORY[@]}"
done
for seed in $SEEDS; do
  "$PY" scripts/03_train_pixel.py --seed "$seed" --run-name "$MODE" "${PIXEL[@]}"
done
# thresholds: the issue's bars, half (108) and a quarter (54) of MAX_SCORE = 216
"$PY" scripts/04_compare.py --env-id BreakoutPy-v0 --run-glob "$MODE" --targets 108 54 --out-dir "artifacts/compare/$MODE"
