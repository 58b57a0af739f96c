#!/usr/bin/env bash
# Steps 02-04: train the memory and the pixel agent over several seeds, evaluate them, then compare them.
#
#   scripts/run_all.sh                 quick smoke run (the default): 2 seeds, 65,536 memory + 32,768 pixel steps
#   scripts/run_all.sh --full          the scripts' default budgets, 3 seeds (2 CPU cores: see the README's steps table)
#   scripts/run_all.sh --full --jobs 6 --runs-dir /data/runs --out-dir /data/artifacts
#
# Options:
#   --quick | --full     budget (default --quick)
#   --env ID             env id (default BreakoutPy-v0; GBCBreakout-v0 for the Game Boy game)
#   --seeds "1 2 3"      seeds (default "1 2" quick, "1 2 3" full)
#   --jobs N             training runs at once (default 1; on a machine with many cores or a GPU, one per run)
#   --runs-dir DIR       run folders (default runs)
#   --out-dir DIR        comparison and evaluations (default artifacts)
#   --dry-run            print the commands instead of running them
#
# Runs go to <runs-dir>/<env>__<agent>__s<seed>__<quick|full>; re-running the same mode resumes every run from its
# last checkpoint (a finished run is left as it is). On a Game Boy game (GBC*) the memory agent trains twice per seed:
# on the extracted state (the default) and on the raw RAM (run name <mode>-ram), and 04_compare.py compares all three. Then each final model is evaluated over 100 games
# (<out-dir>/evaluate/) and the runs are compared (<out-dir>/compare/<mode>/<env>/).
# Environment: PYTHON (default .venv/bin/python); OMP_WAIT_POLICY (default PASSIVE: agents/cpu_threads.py).
{  # bash reads the whole block before running it, so editing this file during a run cannot change that run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle torch threads sleep rather than spin (agents/cpu_threads.py)

MODE=quick ENV_ID=BreakoutPy-v0 SEEDS="" JOBS=1 RUNS_DIR=runs OUT_DIR=artifacts DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    --env) ENV_ID=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --jobs) JOBS=$2; shift ;;
    --runs-dir) RUNS_DIR=$2; shift ;;
    --out-dir) OUT_DIR=$2; shift ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "error: run_all.sh: unknown option '$1' (see scripts/run_all.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$JOBS" in ''|*[!0-9]*|0) echo "error: run_all.sh: --jobs needs a positive integer, got '$JOBS'" >&2; exit 2 ;; esac

if [ "$MODE" = quick ]; then
  SEEDS=${SEEDS:-"1 2"}
  MEMORY=(--total-timesteps 65536 --video-interval 8 --checkpoint-interval 4)
  PIXEL=(--total-timesteps 32768 --video-interval 8 --checkpoint-interval 4)
  EPISODES=20
else
  SEEDS=${SEEDS:-"1 2 3"}
  MEMORY=() PIXEL=()
  EPISODES=100
fi
COMMON=(--env-id "$ENV_ID" --run-name "$MODE" --runs-dir "$RUNS_DIR")
[ "$JOBS" = 1 ] || COMMON+=(--no-progress-bar)  # bars of parallel runs would overwrite each other
# parallel runs share the cores: each gets its share of torch threads rather than one per core
THREADS=$(( $(nproc) / JOBS )); [ "$THREADS" -ge 1 ] || THREADS=1
[ "$JOBS" = 1 ] || COMMON+=(--torch-threads "$THREADS")

# one command line per run; xargs runs JOBS of them at once
COMMANDS=$(mktemp)
trap 'rm -f "$COMMANDS"' EXIT
for seed in $SEEDS; do
  printf '%q ' "$PY" scripts/02_train_memory.py --seed "$seed" "${COMMON[@]}" "${MEMORY[@]}"; echo
done >> "$COMMANDS"
GBC=0
case "$ENV_ID" in GBC*) GBC=1 ;; esac
if [ "$GBC" = 1 ]; then
  RAM=(--env-id "$ENV_ID" --env-kwargs '{"obs_type": "ram"}' --run-name "$MODE-ram" --runs-dir "$RUNS_DIR")
  [ "$JOBS" = 1 ] || RAM+=(--no-progress-bar --torch-threads "$THREADS")
  for seed in $SEEDS; do
    printf '%q ' "$PY" scripts/02_train_memory.py --seed "$seed" "${RAM[@]}" "${MEMORY[@]}"; echo
  done >> "$COMMANDS"
fi
for seed in $SEEDS; do
  printf '%q ' "$PY" scripts/03_train_pixel.py --seed "$seed" "${COMMON[@]}" "${PIXEL[@]}"; echo
done >> "$COMMANDS"
if [ "$DRY_RUN" = 1 ]; then
  # what the steps below would run; the run folders they read are only known once training has made them
  echo "# training, $JOBS at once:"
  cat "$COMMANDS"
  echo "# then, for each run's model.pt:"
  printf '%q ' "$PY" scripts/evaluate.py --model "<run>/model.pt" --episodes "$EPISODES" \
    --out-dir "$OUT_DIR/evaluate/$MODE"; echo
fi
[ "$DRY_RUN" = 1 ] || xargs -P "$JOBS" -d '\n' -I CMD sh -c CMD < "$COMMANDS"
shopt -s nullglob
[ "$DRY_RUN" = 1 ] || for run in "$RUNS_DIR/${ENV_ID//\//-}"__*__s*__"$MODE" "$RUNS_DIR/${ENV_ID//\//-}"__memory__s*__"$MODE"-ram; do
  [ -f "$run/model.pt" ] || { echo "error: run_all.sh: $run has no model.pt (training failed; see above)" >&2; exit 1; }
  "$PY" scripts/evaluate.py --model "$run/model.pt" --episodes "$EPISODES" --out-dir "$OUT_DIR/evaluate/$MODE"
done
GLOB=$MODE
[ "$GBC" = 1 ] && GLOB="$MODE*"  # <mode> and <mode>-ram
# the Breakouts' bars: 90% (195), half (108) and a quarter (54) of MAX_SCORE = 216; other games are read against
# their scripted player's mean (04's reference lines) and fractions of the best return
TARGETS=()
case "$ENV_ID" in BreakoutPy-v0|GBCBreakout-v0) TARGETS=(--targets 195 108 54) ;; esac
COMPARE=("$PY" scripts/04_compare.py --env-id "$ENV_ID" --runs-dir "$RUNS_DIR" --run-glob "$GLOB" ${TARGETS[@]+"${TARGETS[@]}"}
         --out-dir "$OUT_DIR/compare/$MODE")
if [ "$DRY_RUN" = 1 ]; then printf '%q ' "${COMPARE[@]}"; echo; else "${COMPARE[@]}"; fi
exit
}
