"""Training under faults: Ctrl-C and SIGTERM checkpoint and the same command resumes; a full disk while a checkpoint
is written keeps the previous one; a GBC env worker killed mid-run ends in one error line and the rerun resumes;
no JSON line that training prints holds NaN."""

import errno
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from agents.checkpoint import read_checkpoint
from agents.presets import MemoryArgs, train_memory
from agents.trainer import stopped_message
from breakout_py.files import WriteError

REPO = Path(__file__).resolve().parents[1]
PROGRESS = re.compile(r"\|\s*(\d+)/\d+")  # tqdm's "| done/total" in the progress bar on stderr


class Training:
    """scripts/02_train_memory.py run as a command; its stderr (the progress bar) is read as it comes."""

    def __init__(self, *args: str):
        # a session of its own, so that a signal to its process group (as Ctrl-C in a terminal) reaches only it
        self.process = subprocess.Popen(
            [sys.executable, "scripts/02_train_memory.py", *args], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
        self.stderr = b""
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_stderr(self) -> None:
        while chunk := os.read(self.process.stderr.fileno(), 4096):
            self.stderr += chunk

    def wait_for_step(self, step: int, timeout: float = 240.0) -> int:
        """Block until the progress bar shows at least `step` env steps done; returns the steps shown."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = [int(n) for n in PROGRESS.findall(self.stderr.decode(errors="replace"))]
            if shown and shown[-1] >= step:
                return shown[-1]
            assert self.process.poll() is None, self.stderr.decode(errors="replace")
            time.sleep(0.05)
        raise AssertionError(f"training showed no step {step} within {timeout} s: {self.stderr[-500:]!r}")

    def finish(self, timeout: float = 120.0) -> tuple[int, str, list[str]]:
        """(exit code, stdout, the lines of stderr with the progress bar's carriage returns as line breaks)."""
        stdout = self.process.stdout.read().decode()
        code = self.process.wait(timeout)
        self.reader.join(timeout)
        lines = [line for line in re.split(r"[\r\n]+", self.stderr.decode()) if line.strip()]
        return code, stdout, lines


def assert_one_error_line(lines: list[str], *fragments: str) -> None:
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and not any("Traceback" in line for line in lines), lines
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def training_args(runs_dir: Path, *extra: str) -> list[str]:
    # far more steps than the test waits for: the run only ever ends by the signal it is sent
    return ["--env-id", "CartPole-v1", "--total-timesteps", "100000000", "--num-envs", "2", "--num-steps", "32",
            "--hidden-sizes", "8", "--runs-dir", str(runs_dir), "--run-name", "stop", "--video-interval", "0",
            "--checkpoint-interval", "0", *extra]


def test_ctrl_c_and_sigterm_checkpoint_and_the_same_command_resumes(tmp_path):
    args = training_args(tmp_path)
    checkpoint = tmp_path / "CartPole-v1__memory__s1__stop" / "checkpoints" / "checkpoint.pt"

    first = Training(*args)
    first.wait_for_step(256)
    first.process.send_signal(signal.SIGINT)
    code, stdout, lines = first.finish()
    assert code == 2 and stdout == ""
    assert_one_error_line(lines, "training stopped by SIGINT", str(checkpoint), "run the same command again")
    # periodic checkpoints are off: this one was written on the way out, where the rollout stopped (with the envs'
    # states), after the weights of its last whole iteration
    saved = read_checkpoint(checkpoint)
    assert saved["global_step"] >= 256 and saved["rollout"] is not None
    assert saved["global_step"] == saved["iteration"] * 64 + saved["rollout"]["steps_done"] * 2
    assert f"env step {saved['global_step']}:" in lines[-1]

    second = Training(*args)
    shown = second.wait_for_step(saved["global_step"] + 256)
    assert shown >= saved["global_step"] + 256
    second.process.send_signal(signal.SIGTERM)
    code, stdout, lines = second.finish()
    assert f"resuming {checkpoint.parents[1]} from iteration {saved['iteration']} (step {saved['global_step']})" \
        in stdout
    assert code == 2
    assert_one_error_line(lines, "training stopped by SIGTERM", str(checkpoint))
    resumed = read_checkpoint(checkpoint)
    assert resumed["global_step"] >= saved["global_step"] + 256 and resumed["iteration"] > saved["iteration"]


def worker_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (the batched GBC env's workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.skipif(not (REPO / "roms" / "breakout" / "breakout.gb").is_file(), reason="ROM not built: make -C roms")
def test_a_killed_gbc_worker_ends_in_one_error_line_and_the_rerun_resumes(tmp_path):
    pytest.importorskip("gbc")
    args = ["--env-id", "GBCBreakout-v0", "--env-kwargs", '{"obs_type": "ram"}', "--total-timesteps", "100000000",
            "--num-envs", "2", "--num-steps", "16", "--hidden-sizes", "8", "--runs-dir", str(tmp_path),
            "--run-name", "kill", "--video-interval", "0", "--checkpoint-interval", "0"]
    checkpoint = tmp_path / "GBCBreakout-v0__memory__s1__kill" / "checkpoints" / "checkpoint.pt"

    first = Training(*args)
    first.wait_for_step(64)
    workers = worker_pids(first.process.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    code, stdout, lines = first.finish()
    assert code == 2
    assert_one_error_line(lines, "training stopped because its env failed", f"pid {workers[0]}",
                          "killed by signal SIGKILL", str(checkpoint), "run the same command again to resume")
    saved = read_checkpoint(checkpoint)
    # the envs' states died with the worker: the last whole iteration, without them (the rerun reseeds the envs)
    assert saved["global_step"] >= 64 and saved["global_step"] == saved["iteration"] * 32
    assert saved["rollout"] is None

    # the rerun resumes; Ctrl-C in a terminal (SIGINT to the whole process group) stops it: the workers ignore it, so
    # the parent saves their envs' states before it closes them
    second = Training(*args)
    second.wait_for_step(saved["global_step"] + 32)
    workers = worker_pids(second.process.pid)
    os.killpg(second.process.pid, signal.SIGINT)
    code, stdout, lines = second.finish()
    assert f"from iteration {saved['iteration']} (step {saved['global_step']})" in stdout
    assert code == 2
    assert_one_error_line(lines, "training stopped by SIGINT", str(checkpoint), "run the same command again")
    assert "the envs start afresh" in stdout
    stopped = read_checkpoint(checkpoint)
    assert stopped["global_step"] > saved["global_step"] and stopped["rollout"] is not None
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # every worker reaped


def test_a_signal_is_named_as_the_cause_even_when_the_env_failed_on_it():
    # Ctrl-C in a terminal reaches the GBC workers too; when the parent notices a worker gone before the signal's
    # flag, the person still pressed Ctrl-C: the message must not blame the env
    died = RuntimeError("GBC env worker 0 (pid 7) exited with code 0")
    message = stopped_message(died, ["SIGINT"], Path("runs/x/checkpoints/checkpoint.pt"), 64)
    assert message.startswith("training stopped by SIGINT;") and "env failed" not in message
    message = stopped_message(died, [], Path("runs/x/checkpoints/checkpoint.pt"), 64)
    assert message.startswith("training stopped because its env failed: GBC env worker 0 (pid 7)")
    assert "runs/x/checkpoints/checkpoint.pt holds env step 64: run the same command again to resume" in message
    assert "nothing was trained yet" in stopped_message(died, [], None, 0)


def quick_args(tmp_path: Path, **overrides) -> MemoryArgs:
    settings = dict(env_id="CartPole-v1", total_timesteps=256, num_envs=2, num_steps=32, hidden_sizes=(8,),
                    runs_dir=str(tmp_path), run_name="disk", video_interval=0, progress_bar=False,
                    checkpoint_interval=1)
    return MemoryArgs(**{**settings, **overrides})


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    real_save, saves = torch.save, []

    def save_until_the_disk_fills(payload, path, *args, **kwargs):
        saves.append(Path(path))
        if len(saves) < 3:
            return real_save(payload, path, *args, **kwargs)
        Path(path).write_bytes(b"half a checkpoint")  # the disk fills part-way through the write
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", save_until_the_disk_fills)
    args = quick_args(tmp_path)
    checkpoint = tmp_path / "CartPole-v1__memory__s1__disk" / "checkpoints" / "checkpoint.pt"
    with pytest.raises(WriteError) as failure:
        train_memory(args)
    message = str(failure.value)
    assert "\n" not in message and f"cannot write {checkpoint}" in message
    assert "the disk is full" in message and "previous file there is untouched" in message
    assert read_checkpoint(checkpoint)["iteration"] == 2  # the last checkpoint written whole
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["checkpoint.pt"]  # no temp file left
    monkeypatch.setattr(torch, "save", real_save)
    assert train_memory(args)["global_step"] == 256  # and the run resumes from it


def test_training_gives_back_the_signal_handlers_it_replaced(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    train_memory(quick_args(tmp_path, total_timesteps=64, checkpoint_interval=0))
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_the_summary_line_of_a_run_without_episodes_is_strict_json(tmp_path):
    # 4 steps are too few for CartPole to end an episode: the mean return of no episodes is NaN, which JSON lacks
    done = subprocess.run(
        [sys.executable, "scripts/02_train_memory.py", "--env-id", "CartPole-v1", "--total-timesteps", "8",
         "--num-envs", "2", "--num-steps", "4", "--num-minibatches", "1", "--hidden-sizes", "8",
         "--runs-dir", str(tmp_path), "--video-interval", "0", "--no-progress-bar"],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1], parse_constant=lambda name: pytest.fail(name))
    assert summary["episodes"] == 0 and summary["mean_return_last_episodes"] is None
    assert all(not isinstance(v, float) or math.isfinite(v) for v in summary.values())
