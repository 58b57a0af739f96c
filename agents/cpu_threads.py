"""How many CPU threads torch uses, and how its idle threads wait: decided here for training and evaluation.

Why this module exists: on a 2-core machine shared with one other job, torch's defaults (one OpenMP thread per core,
idle threads spinning on the core while they wait for the next parallel region) made `evaluate.py --agent memory
--greedy` take 99 s instead of 3.6 s and the pixel agent train at 130 env steps/s instead of 1,680: each thread burns
the time slice another process needed, and the parallel regions wait for the slowest thread. These rules avoid that
(measured in agents/trained/results/training_speed.md, "Threads on a busy machine"):

- OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE: they sleep instead of spinning). libgomp reads the variable
  once, when torch loads it, so importing this module sets it (unless the caller chose a policy) and `agents/__init__`
  imports this module before anything imports torch. A program that imported torch first keeps spinning threads;
  `threads_for` then chooses one thread, which never waits.
- Small networks and inference use one thread (a 64-64 MLP or one forward pass gains nothing from a second one, and
  under load each of its tiny parallel regions waits for a second thread to be scheduled); training a CNN uses
  CNN_TRAINING_THREADS = 2 (on an idle 2-core machine 1.6x faster than 1). Env workers (GBC) sleep in a pipe read
  while the update runs, and the update's threads sleep while the workers step.
- The count is fixed, not read from the machine's cores or load: the thread count changes the order of floating-point
  sums, so a seeded run is bitwise reproducible only with the same count (agents/trained/results/
  training_breakoutpy.md, "Reproducibility"); a fixed default keeps the same command reproducible on any machine.
"""

from __future__ import annotations

import os
import sys

# Must precede libgomp's loading (by `import torch`) to take effect; see the module docstring.
_TORCH_LOADED_FIRST = "torch" in sys.modules
if not _TORCH_LOADED_FIRST:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after OMP_WAIT_POLICY is set)

from breakout_py.errors import UserError  # noqa: E402

AUTO = 0  # torch_threads value meaning "let threads_for decide"
CNN_TRAINING_THREADS = 2


def threads_wait_passively() -> bool:
    """Whether torch's OpenMP threads sleep while idle (OMP_WAIT_POLICY=PASSIVE was set before torch loaded)."""
    return not _TORCH_LOADED_FIRST and os.environ.get("OMP_WAIT_POLICY", "").strip().upper() == "PASSIVE"


def threads_for(requested: int = AUTO, training_cnn: bool = False) -> int:
    """The torch thread count: `requested` when positive; else CNN_TRAINING_THREADS when training a CNN with
    passively waiting threads, and 1 otherwise (MLPs, inference, or spinning threads)."""
    if requested < 0:
        raise UserError(f"--torch-threads must be 0 (automatic) or more, got {requested}")
    if requested > 0:
        return requested
    if training_cnn and threads_wait_passively():
        return CNN_TRAINING_THREADS
    return 1


def use_torch_threads(requested: int = AUTO, training_cnn: bool = False) -> int:
    """Set torch's intra-op threads to `threads_for(requested, training_cnn)` and return the count."""
    threads = threads_for(requested, training_cnn)
    torch.set_num_threads(threads)
    return threads
