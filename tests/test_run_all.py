"""scripts/run_all.sh with a stand-in for Python: which runs it trains, evaluates and compares, and that editing the
script while it runs cannot change that run (bash reads a script as it goes; the script is one block read whole)."""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Logs each call; a training call makes its run folder's model.pt (as 02/03 would) and, once, runs the edit.
STAND_IN = """#!/usr/bin/env bash
echo "ran $*" >> {log}
script=$1; shift
case "$script" in
  scripts/02_train_memory.py|scripts/03_train_pixel.py)
    agent=memory; [ "$script" = scripts/03_train_pixel.py ] && agent=pixel
    while [ $# -gt 0 ]; do
      case "$1" in --seed) seed=$2 ;; --run-name) name=$2 ;; --runs-dir) dir=$2 ;; --env-id) env=$2 ;; esac
      shift
    done
    mkdir -p "$dir/${{env}}__${{agent}}__s${{seed}}__${{name}}"
    touch "$dir/${{env}}__${{agent}}__s${{seed}}__${{name}}/model.pt"
    {edit} ;;
esac
"""


def run_all(tmp_path: Path, *args: str, edit: str = ":") -> tuple[subprocess.CompletedProcess, list[str]]:
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "run_all.sh", tree / "scripts" / "run_all.sh")
    log = tmp_path / "calls.log"
    stand_in = tmp_path / "python"
    stand_in.write_text(STAND_IN.format(log=log, edit=edit))
    stand_in.chmod(0o755)
    done = subprocess.run(["bash", "scripts/run_all.sh", *args, "--runs-dir", str(tmp_path / "runs"), "--out-dir",
                           str(tmp_path / "out")], cwd=tree, env={"PATH": "/usr/bin:/bin", "PYTHON": str(stand_in)},
                          capture_output=True, text=True, timeout=120)
    return done, log.read_text().splitlines() if log.exists() else []


def test_a_game_boy_game_trains_state_ram_and_pixel_agents_then_evaluates_and_compares_them(tmp_path):
    done, calls = run_all(tmp_path, "--env", "GBCPong-v0", "--seeds", "1 2")
    assert done.returncode == 0, done.stderr
    trains = [c for c in calls if "_train_" in c]
    assert len(trains) == 6  # per seed: memory on the extracted state, memory on raw RAM, pixel
    assert sum('{"obs_type": "ram"}' in c for c in trains) == 2
    evaluations = [c for c in calls if "scripts/evaluate.py" in c]
    assert len(evaluations) == 6 and all("--episodes 20" in c for c in evaluations)
    compare = [c for c in calls if "scripts/04_compare.py" in c]
    assert len(compare) == 1 and "--run-glob quick*" in compare[0] and "--targets" not in compare[0]


def test_editing_run_all_during_a_run_does_not_change_that_run(tmp_path):
    """The first training call rewrites the script in place, as an editor does: every line's offset moves and
    the comparison step is renamed. The running copy must still evaluate and compare, and never run the edit."""
    script = tmp_path / "tree" / "scripts" / "run_all.sh"
    edited = (REPO / "scripts" / "run_all.sh").read_text().replace("# ", "#  ").replace(
        "scripts/04_compare.py", "scripts/EDITED.py")
    (tmp_path / "edited.sh").write_text(edited)
    done, calls = run_all(tmp_path, "--seeds", "1", edit=f"cat {tmp_path / 'edited.sh'} > {script}")
    assert script.read_text() == edited  # the file was edited during the run
    assert done.returncode == 0, done.stderr
    assert "syntax error" not in done.stderr and not any("EDITED" in c for c in calls)
    assert sum("scripts/evaluate.py" in c for c in calls) == 2
    assert sum("scripts/04_compare.py" in c for c in calls) == 1


def test_a_bad_option_names_itself_and_exits_2(tmp_path):
    done, calls = run_all(tmp_path, "--jobs", "zero")
    assert done.returncode == 2 and "--jobs needs a positive integer, got 'zero'" in done.stderr
    assert calls == []
