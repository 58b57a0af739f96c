"""The tools around training: input scaling, the scripted baselines, the tuner, evaluation and the shipped agents."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import breakout_py
from agents.checkpoint import CheckpointError, load_agent
from agents.compare import reference_lines
from agents.evaluation import evaluate_agent
from agents.networks import build_network
from agents.presets import PRESETS, MemoryArgs, PixelArgs
from agents.shipped import TRAINED_DIR, load_shipped, read_manifest, sha256_of, ship, shipped_agent_name
from agents.trainer import network_for_space
from breakout_py.baselines import follow_ball_actions, play_first_games, play_games

REPO = Path(__file__).resolve().parents[1]


def run_script_process(script: str, *args: str) -> subprocess.CompletedProcess:
    """scripts/<script> run as a command, with this checkout first on the import path."""
    return subprocess.run([sys.executable, f"scripts/{script}", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})


# --- input scaling --------------------------------------------------------------------------------------------

def test_mlp_scales_uint8_observations_into_unit_range():
    ram_space = gym.spaces.Box(0, 255, (8,), np.uint8)
    config = network_for_space({"type": "mlp", "hidden_sizes": [4]}, ram_space, gym.spaces.Discrete(3))
    assert config["input_scale"] == pytest.approx(1 / 255)
    agent = build_network(config)
    seen = []
    agent.critic[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    agent.get_value(torch.full((2, 8), 255, dtype=torch.uint8))
    torch.testing.assert_close(seen[0], torch.ones(2, 8))  # 255 reaches the first layer as 1.0, not 255
    # float observations (the ideal state) are passed through unchanged
    state_space = gym.spaces.Box(0.0, 1.0, (8,), np.float32)
    assert "input_scale" not in network_for_space({"type": "mlp", "hidden_sizes": [4]}, state_space,
                                                  gym.spaces.Discrete(3))
    with pytest.raises(ValueError, match="input_scale must be positive"):
        build_network({**config, "input_scale": 0.0})


# --- scripted baseline ----------------------------------------------------------------------------------------

def test_ball_follower_moves_toward_the_ball_and_beats_random():
    states = np.zeros((3, breakout_py.STATE_DIM), dtype=np.float32)
    index = breakout_py.STATE_INDEX
    states[:, index["paddle_x"]] = 0.5
    states[:, index["ball_x"]] = [0.2, 0.5, 0.8]
    assert follow_ball_actions(states).tolist() == [1, 0, 2]  # LEFT, NOOP, RIGHT
    follower = play_games("follow_ball", games=8, frame_skip=2, seed=0)
    random = play_games("random", games=8, frame_skip=2, seed=0)
    assert follower.mean() > 100 > 5 > random.mean()
    np.testing.assert_array_equal(follower, play_games("follow_ball", games=8, frame_skip=2, seed=0))
    with pytest.raises(ValueError, match="unknown baseline agent"):
        play_games("oracle", games=1, frame_skip=2, seed=0)


def test_baselines_command_rejects_an_unknown_player_as_a_usage_error(capsys):
    import tyro

    from breakout_py.baselines import Args

    with pytest.raises(SystemExit) as exit_info:
        tyro.cli(Args, args=["--agents", "oracle"])
    assert exit_info.value.code == 2 and "oracle" in capsys.readouterr().err
    assert tyro.cli(Args, args=["--agents", "random"]).agents == ("random",)


# --- tuner ----------------------------------------------------------------------------------------------------

def test_an_empty_env_kwargs_and_zero_steps_take_the_env_ids_preset():
    memory = PRESETS["memory"]
    breakout = memory.with_env_defaults(MemoryArgs())
    assert breakout.total_timesteps == 24_000_000
    assert json.loads(breakout.env_kwargs) == {"obs_type": "state", "frame_skip": 4, "state_scaling": "arrays"}
    other = memory.with_env_defaults(MemoryArgs(env_id="CartPole-v1"))
    assert (other.total_timesteps, json.loads(other.env_kwargs)) == (12_000_000, {})
    chosen = MemoryArgs(total_timesteps=5_000, env_kwargs='{"obs_type": "state"}')
    assert memory.with_env_defaults(chosen) == chosen  # what the user set is kept
    pixel = PRESETS["pixel"]
    assert pixel.with_env_defaults(PixelArgs()).total_timesteps == 21_000_000
    assert pixel.with_env_defaults(PixelArgs(env_id="GBCPong-v0")).total_timesteps == 9_000_000


def test_tuner_runs_trials_and_resumes_its_study_file(tmp_path):
    optuna = pytest.importorskip("optuna")
    common = ["--agent", "memory", "--env-id", "CartPole-v1", "--trial-cpu-seconds", "1", "--report-every", "0.3",
              "--out-dir", str(tmp_path), "--pruner-startup-trials", "1", "--pruner-warmup-reports", "1"]
    enqueued = ('{"num_envs": 16, "num_steps": 64, "num_minibatches": 2, "update_epochs": 2, '
                '"total_timesteps": 3000000}')
    done = run_script_process("tune.py", *common, "--n-trials", "2", "--enqueue", enqueued)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [line["trial"] for line in lines[:2]] == [0, 1] and lines[2]["trials"] == 2

    def study():
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(tmp_path / "CartPole-v1__memory.journal")))
        return optuna.load_study(study_name="CartPole-v1__memory", storage=storage)

    trials = study().trials
    # the defaults, the enqueued settings, then the sampler's: the first two ran as given
    assert len(trials) == 2
    assert trials[0].params["num_envs"] == MemoryArgs().num_envs
    assert trials[1].params["num_envs"] == 16 and trials[1].params["update_epochs"] == 2
    assert "frame_skip" not in trials[0].params  # CartPole takes no env settings
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    rows = (tmp_path / "CartPole-v1__memory" / "trials.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("number,state,value")
    best = json.loads((tmp_path / "CartPole-v1__memory" / "best.json").read_text())
    assert best["value"] == max(t.value for t in trials if t.value is not None)
    assert run_script_process("tune.py", *common, "--n-trials", "1").returncode == 0
    assert len(study().trials) == 3  # the study file was continued, not restarted
    done = run_script_process("tune.py", *common, "--n-trials", "0", "--enqueue", '{"dropout": 0.5}')
    assert done.returncode == 2 and "not in the memory search space" in done.stderr


def test_tuner_processes_share_one_study_through_an_sqlite_storage(tmp_path):
    optuna = pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'tune.db'}"
    command = [sys.executable, "scripts/tune.py", "--agent", "memory", "--env-id", "CartPole-v1", "--study", "shared",
               "--trial-cpu-seconds", "1", "--report-every", "0.5", "--out-dir", str(tmp_path), "--storage", url,
               "--no-enqueue-defaults", "--n-trials", "1"]
    workers = [subprocess.Popen(command + ["--seed", str(seed)], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
               for seed in (1, 2)]  # at the same time, as workers on two machines would
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
    trials = optuna.load_study(study_name="shared", storage=url).trials
    assert sorted(t.number for t in trials) == [0, 1]  # one study holding both processes' trials
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    assert not list(tmp_path.glob("*.journal"))  # nothing went to the default journal file
    bad = run_script_process("tune.py", "--env-id", "CartPole-v1", "--out-dir", str(tmp_path), "--n-trials", "0",
                             "--storage", f"sqlite:///{tmp_path / 'missing' / 'tune.db'}")
    assert bad.returncode == 2 and "--storage" in bad.stderr and "could not be opened" in bad.stderr


class _CountdownEnv(gym.Env):
    """A game of `length` steps, one point a step; the next game (after autoreset) is twice as long."""

    observation_space = gym.spaces.Box(0, 1, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        if done:
            self.length *= 2
        return np.zeros(1, np.float32), 1.0, done, False, {}


def test_only_each_sub_envs_first_game_is_counted():
    envs = gym.vector.SyncVectorEnv([lambda n=n: _CountdownEnv(n) for n in (3, 5, 11)])
    returns, lengths = play_first_games(envs, seed=0, choose_actions=lambda obs: np.zeros(len(obs), dtype=np.int64))
    envs.close()
    # the short games restart while the long one plays on; their second games must not be added
    np.testing.assert_array_equal(lengths, [3, 5, 11])
    np.testing.assert_array_equal(returns, [3.0, 5.0, 11.0])


# --- shipped agents and evaluation ----------------------------------------------------------------------------

@pytest.mark.parametrize("agent_name", ["memory", "pixel"])
def test_shipped_agent_loads_and_plays_far_better_than_random(agent_name):
    agent, entry = load_shipped(agent_name, "BreakoutPy-v0")
    assert entry["evaluation"]["episodes"] >= 100 and entry["env_id"] == "BreakoutPy-v0"
    assert agent.config == entry["network"]
    results = evaluate_agent(agent, entry["env_id"], entry["env_kwargs"], episodes=8, seed=3)
    # a random player averages 0.3-0.4 points a game (breakout_py.baselines); a trained agent scores far more
    assert results["returns"].mean() > 20


def test_evaluate_script_refuses_a_model_that_does_not_fit_the_env(tmp_path):
    entry = [e for e in read_manifest()["agents"] if e["agent"] == "memory"][0]
    done = run_script_process("evaluate.py", "--model", str(TRAINED_DIR / entry["file"]), "--episodes", "2",
                              "--env-kwargs", '{"obs_type": "pixels"}', "--out-dir", str(tmp_path))
    assert done.returncode == 2 and "was trained on observations" in done.stderr
    done = run_script_process("evaluate.py", "--agent", "memory", "--episodes", "4", "--seed", "5",
                              "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[0])
    assert summary["episodes"] == 4 and summary["env_kwargs"] == entry["env_kwargs"]
    written = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert len(written["returns"]) == 4 and np.mean(written["returns"]) == pytest.approx(summary["mean_return"])
    assert "wrote the evaluation to" in done.stdout


def test_changed_or_unknown_shipped_models_are_refused(tmp_path):
    trained = tmp_path / "trained"
    shutil.copytree(TRAINED_DIR, trained)
    entry = read_manifest(trained)["agents"][0]
    with (trained / entry["file"]).open("ab") as handle:
        handle.write(b"\0")  # a model edited after shipping
    assert sha256_of(trained / entry["file"]) != entry["sha256"]
    with pytest.raises(CheckpointError, match="the file was changed"):
        load_shipped(entry["agent"], entry["env_id"], trained_dir=trained)
    with pytest.raises(CheckpointError, match="no shipped pixel agent for Pong"):
        load_shipped("pixel", "Pong", trained_dir=trained)


def test_the_manifest_names_no_machine_path_and_its_hashes_fit_the_files():
    def strings(value):
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return [value] if isinstance(value, str) else []

    for entry in read_manifest()["agents"]:
        assert not [s for s in strings(entry) if s.startswith(("/", "~")) or ":\\" in s], entry["file"]
        assert "runs_dir" not in entry["training_args"]
        assert sha256_of(TRAINED_DIR / entry["file"]) == entry["sha256"], entry["file"]


def test_the_shipped_agents_table_gives_the_manifest_figures():
    """agents/README.md's table of shipped agents: one row per manifest entry, with its steps, training seconds and
    evaluation mean (a model shipped without updating the table fails here)."""
    table = [line for line in (TRAINED_DIR.parent / "README.md").read_text().splitlines()
             if line.startswith("| `") and ".pt` (" in line]
    entries = read_manifest()["agents"]
    assert len(table) == len(entries)
    for entry in entries:
        row, = [line for line in table if line.startswith(f"| `{entry['file']}`")]
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        mean = entry["evaluation"]["mean_return"]
        assert cells[4] == f"{entry['global_step']:,}", entry["file"]
        assert cells[5].split(" (")[0] == f"{round(entry['train_seconds']):,}", entry["file"]
        assert cells[7].startswith("greedy" if entry["evaluation"]["greedy"] else "sampled"), entry["file"]
        assert any(f"mean {text}," in cells[7] for text in (f"{mean:,.0f}", f"{mean:.1f}", f"{mean:.2f}")), entry["file"]


def test_shipping_leaves_the_runs_folder_out_of_the_training_settings(tmp_path):
    entry = read_manifest()["agents"][0]
    _, checkpoint = load_agent(TRAINED_DIR / entry["file"])
    checkpoint["args"] = {**checkpoint["args"], "runs_dir": str(tmp_path / "runs")}
    shipped = ship(TRAINED_DIR / entry["file"], checkpoint, entry["evaluation"], {"machine": "test"},
                   trained_dir=tmp_path / "trained")
    assert "runs_dir" not in shipped["training_args"] and shipped["training_args"]["seed"] == checkpoint["args"]["seed"]
    written, = read_manifest(tmp_path / "trained")["agents"]
    assert "runs_dir" not in written["training_args"] and written["sha256"] == entry["sha256"]


def test_a_memory_agent_on_raw_ram_ships_beside_the_one_on_the_extracted_state(tmp_path):
    entry = next(e for e in read_manifest()["agents"] if (e["agent"], e["env_id"]) == ("memory", "GBCPong-v0"))
    _, checkpoint = load_agent(TRAINED_DIR / entry["file"])
    trained = tmp_path / "trained"
    ship(TRAINED_DIR / entry["file"], checkpoint, entry["evaluation"], {}, trained_dir=trained)
    # the same file recorded as trained on the raw RAM: a second slot, not a replacement of the first
    ram = {**checkpoint, "env_kwargs": {"obs_type": "ram"}}
    shipped = ship(TRAINED_DIR / entry["file"], ram, entry["evaluation"], {}, trained_dir=trained)
    assert shipped["agent"] == "memory_ram" and shipped["file"] == "GBCPong-v0__memory_ram.pt"
    entries = read_manifest(trained)["agents"]
    assert [(e["agent"], e["file"]) for e in entries] == [("memory", "GBCPong-v0__memory.pt"),
                                                          ("memory_ram", "GBCPong-v0__memory_ram.pt")]
    assert shipped_agent_name("memory", {"obs_type": "state"}) == "memory"


def test_compare_draws_the_scripted_players_at_the_runs_frame_skip():
    run = type("FakeRun", (), {"frame_skip": 2})()
    lines = reference_lines("BreakoutPy-v0", [run], games=6)
    labels = [label for label, _ in lines]
    assert [label.split(",")[0] for label in labels] == ["random script", "follow-ball script"]
    assert all("frame skip 2" in label for label in labels)
    random_mean, follower_mean = (value for _, value in lines)
    assert follower_mean == play_games("follow_ball", 6, 2, seed=0).mean() > 50 > random_mean
    assert reference_lines("CartPole-v1", [run], games=6) == []  # no scripted player for other envs
