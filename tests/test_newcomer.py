"""What a new user meets first: one `error: ...` line (exit code 2) for expected mistakes, a finished run that says
so, GBC-v0 run folders named by profile, signed RAM variables shown signed, and quiet benchmark output."""

import dataclasses
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter

from agents.checkpoint import CheckpointError
from agents.compare import compare_runs
from agents.presets import MemoryArgs, train_memory
from agents.trainer import PPOArgs, run_dir_for, run_env_label
from breakout_py.errors import USER_ERROR_EXIT_CODE, UserError, run_script

REPO = Path(__file__).resolve().parents[1]


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONPATH": str(REPO)})


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("error", [UserError("bad --window"), CheckpointError("cannot read checkpoint x.pt")])
def test_run_script_turns_user_errors_into_one_line_and_exit_code_2(error, capsys):
    def main():
        raise error

    with pytest.raises(SystemExit) as exit_info:
        run_script(main)
    assert exit_info.value.code == USER_ERROR_EXIT_CODE == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {error}\n"


def test_run_script_keeps_the_traceback_of_bugs_and_returns_results():
    def buggy():
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        run_script(buggy)
    with pytest.raises(KeyError):  # a KeyError is a bug, though UnknownProfileError is one (and a user error)
        run_script(lambda: {}["x"])
    assert run_script(lambda: 42) == 42


def foreign_pickle(path: Path) -> None:
    torch.save({"saved": datetime.date(2024, 1, 1)}, path)  # loads only with weights_only=False


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(b"half a checkpoint"),
    lambda path: path.write_bytes((REPO / "agents/trained/BreakoutPy-v0__memory.pt").read_bytes()[:5000]),
    foreign_pickle,  # torch's message: a page of advice about weights_only
], ids=["garbage", "truncated", "foreign-pickle"])
def test_corrupt_checkpoint_is_one_error_line(tmp_path, capsys, damage):
    args = MemoryArgs(env_id="CartPole-v1", total_timesteps=64, num_envs=2, num_steps=32, runs_dir=str(tmp_path),
                      run_name="c", video_interval=0, progress_bar=False)
    checkpoint = run_dir_for(args, "memory") / "checkpoints" / "checkpoint.pt"
    checkpoint.parent.mkdir(parents=True)
    damage(checkpoint)
    with pytest.raises(SystemExit) as exit_info:
        run_script(lambda: train_memory(args))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert_one_error_line(err, f"cannot read checkpoint {checkpoint}: it is corrupt, truncated or not a checkpoint",
                          "delete it")
    assert "weights_only" not in err and len(err) < 300


def test_compare_with_no_matching_runs_is_one_error_line(tmp_path):
    (tmp_path / "BreakoutPy-v0__memory__s1__full").mkdir()
    done = run_command("scripts/04_compare.py", "--runs-dir", str(tmp_path), "--run-glob", "quick*",
                       "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stdout == ""
    assert_one_error_line(done.stderr, "no runs of BreakoutPy-v0 matching --run-glob 'quick*'", "full", "--run-glob")


def test_training_gbc_v0_without_a_profile_is_one_error_line(tmp_path):
    pytest.importorskip("gbc")
    done = run_command("scripts/02_train_memory.py", "--env-id", "GBC-v0", "--runs-dir", str(tmp_path),
                       "--total-timesteps", "64", "--num-envs", "2", "--num-steps", "32")
    assert done.returncode == 2 and done.stdout == ""
    assert_one_error_line(done.stderr, "GBC-v0", "profile", "breakout", "--env-kwargs")
    assert not list(tmp_path.iterdir())  # no run folder for a run that never started


def test_gbc_v0_without_a_profile_says_how_to_name_one():
    gbc = pytest.importorskip("gbc")
    for make in (lambda: gym.make("GBC-v0"), lambda: gym.make_vec("GBC-v0", num_envs=2)):
        with pytest.raises(gbc.ProfileError, match=r'gym.make\("GBC-v0", profile="NAME"\).*breakout'):
            make()


def test_gbc_v0_run_folders_carry_the_profile():
    assert run_env_label("GBC-v0", {"profile": "mygame"}) == "GBC-v0-mygame"
    assert run_env_label("GBC-v0", {"profile": "roms/user/My Game.profile.json"}) == "GBC-v0-My-Game"
    assert run_env_label("GBCBreakout-v0", {"obs_type": "ram"}) == "GBCBreakout-v0"
    assert run_env_label("ALE/Breakout-v5", {}) == "ALE-Breakout-v5"
    args = PPOArgs(env_id="GBC-v0", env_kwargs='{"profile": "mygame", "obs_type": "ram"}', runs_dir="runs",
                   run_name="full", seed=2)
    assert run_dir_for(args, "pixel") == Path("runs/GBC-v0-mygame__pixel__s2__full")


def fake_gbc_run(runs_dir: Path, profile: str, seed: int, final_return: float) -> None:
    args = {"env_id": "GBC-v0", "seed": seed, "env_kwargs": json.dumps({"profile": profile})}
    run_dir = runs_dir / f"{run_env_label('GBC-v0', {'profile': profile})}__memory__s{seed}__x"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"agent_name": "memory", "args": args}))
    writer = SummaryWriter(str(run_dir))
    for step in range(1, 4):
        writer.add_scalar("charts/episodic_return", final_return, 10 * step)
        writer.add_scalar("charts/train_seconds", float(step), 10 * step)
        writer.add_scalar("losses/value_loss", 1.0 / step, 10 * step)
    writer.close()


def test_compare_keeps_the_runs_of_different_roms_apart(tmp_path):
    runs = tmp_path / "runs"
    fake_gbc_run(runs, "breakout", 1, 10.0)
    fake_gbc_run(runs, "mygame", 1, 99.0)
    out = compare_runs(env_id="GBC-v0-breakout", runs_dir=str(runs), out_dir=str(tmp_path / "out"), window=2,
                       baseline_games=0)
    table = (out / "runs.csv").read_text()
    assert out.name == "GBC-v0-breakout" and "GBC-v0-breakout__memory__s1__x" in table and "mygame" not in table
    with pytest.raises(UserError, match="GBC-v0-breakout, GBC-v0-mygame.*GBC-v0-<profile>"):
        compare_runs(env_id="GBC-v0", runs_dir=str(runs), out_dir=str(tmp_path / "out"), window=2)


def test_rerunning_a_finished_run_says_it_is_complete(tmp_path, capsys):
    args = MemoryArgs(env_id="CartPole-v1", total_timesteps=128, num_envs=2, num_steps=32, runs_dir=str(tmp_path),
                      run_name="done", video_interval=0, progress_bar=False, hidden_sizes=(8,))
    first = train_memory(args)
    run_dir = Path(first["run_dir"])
    files = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    capsys.readouterr()
    again = train_memory(args)
    out = capsys.readouterr().out
    assert "already complete" in out and "--total-timesteps" in out and "resuming" not in out
    assert again["already_complete"] and again["global_step"] == first["global_step"] == 128
    assert again["run_dir"] == first["run_dir"] and "sps" not in again
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == files  # nothing written, nothing logged
    # a larger budget trains on from the checkpoint
    longer = train_memory(dataclasses.replace(args, total_timesteps=192))
    assert longer["global_step"] == 192 and "already_complete" not in longer


def test_bench_train_prints_one_json_line_per_measurement_and_names_no_deleted_folder():
    done = run_command("scripts/bench_train.py", "--env-id", "CartPole-v1", "--agents", "memory", "--presets",
                       "default", "--num-envs", "4", "--memory-steps", "4096", "--threads", "1")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(results) == 1
    result = results[0]
    assert result["agent"] == "memory" and result["preset"] == "default" and result["sps"] > 0
    batch = result["num_envs"] * result["num_steps"]
    assert result["num_envs"] == 4 and result["env_steps"] == 4096 // batch * batch
    fractions = [result[f"{k}_fraction"] for k in ("env", "inference", "update", "other")]
    assert all(0 <= f <= 1 for f in fractions) and sum(fractions) == pytest.approx(1.0, abs=0.01)
    for text in (done.stdout, done.stderr):
        assert "wrote run" not in text and "tensorboard" not in text.lower() and "/tmp" not in text
    done = run_command("scripts/bench_train.py", "--agents", "rnn")
    assert done.returncode == 2
    assert_one_error_line(done.stderr, "unknown agents/presets ['rnn']")


def test_signed_ram_variables_read_with_their_c_type():
    profiles = pytest.importorskip("gbc.profiles")
    variables = profiles.get_profile("breakout").variables
    assert variables["ball_dx"].signed and not variables["ball_x"].signed and not variables["score"].signed
    assert variables["ball_dx"].value(65310) == -226 and variables["ball_dx"].value(226) == 226
    assert variables["score"].value(65310) == 65310
    user = profiles.Variable("speed", 0xC000, size=1, signed=True)
    assert user.value(0xFF) == -1 and user.value(0x7F) == 127


def test_play_script_prints_signed_variables_signed():
    pytest.importorskip("gbc")
    if not Path(REPO / "roms/breakout/breakout.gb").is_file():
        pytest.skip("roms/breakout/breakout.gb absent: make -C roms")
    # seed 1 serves the first ball down and to the left (found by playing it): ball_dx is negative
    done = run_command("scripts/00_play.py", "--game", "gbc", "--seed", "1", "--max-frames", "60", "--gbc-scale", "1")
    assert done.returncode == 0, done.stderr
    variables = json.loads(done.stdout.strip().splitlines()[-1])["variables"]
    assert variables["ball_dx"] < 0 < variables["ball_dy"] and -variables["ball_dx"] == variables["ball_dy"]
    assert all(0 <= value < 256 ** 2 for name, value in variables.items() if name not in ("ball_dx", "ball_dy"))


def test_user_profile_variables_can_be_signed(tmp_path):
    profiles = pytest.importorskip("gbc.profiles")
    spec = {"name": "g", "rom": "g.gb", "sha1": "0" * 40, "score": "s", "start_sequence": [],
            "variables": {"s": {"address": "0xC000"}, "dx": {"address": "0xC001", "size": 2, "signed": True}},
            "in_play": {"variable": "s", "op": ">=", "value": 0}, "game_over": {"variable": "s", "op": "<", "value": 0},
            "actions": [[]]}
    path = tmp_path / "g.profile.json"
    path.write_text(json.dumps(spec))
    variables = profiles.load_profile_file(path).variables
    assert variables["dx"].signed and variables["dx"].value(0xFFFE) == -2 and not variables["s"].signed


def test_unknown_env_id_and_bad_arguments_are_one_error_line(tmp_path):
    done = run_command("scripts/02_train_memory.py", "--env-id", "NoSuchEnv-v0", "--runs-dir", str(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert_one_error_line(done.stderr, "unknown env id 'NoSuchEnv-v0'", "BreakoutPy-v0")
    done = run_command("scripts/03_train_pixel.py", "--env-kwargs", "obs_type=pixels", "--runs-dir", str(tmp_path))
    assert done.returncode == 2
    assert_one_error_line(done.stderr, "--env-kwargs must be a JSON object")
