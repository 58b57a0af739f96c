"""Atomic PPO checkpoints: model, optimizer, counters, RNG states, args and the spaces they were trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from agents.networks import build_network
from breakout_py.errors import UserError
from breakout_py.files import atomic_path

CHECKPOINT_FORMAT = "agents.ppo-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be read or does not fit the network/env it is loaded into (a ValueError too, for
    callers that catch that)."""


def save_checkpoint(path: str | Path, agent: nn.Module, optimizer: torch.optim.Optimizer | None,
                    state: dict[str, Any]) -> Path:
    """Write atomically (breakout_py.files): a crash or a full disk never leaves a half-written checkpoint at
    `path`, the previous one stays intact, and a failed write raises WriteError naming the file."""
    path = Path(path)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "network": agent.config,
        "model": agent.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        **state,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict (tensors on CPU), raising CheckpointError if it is missing, corrupt or foreign."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; check the path or --run-name")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types (UnpicklingError, RuntimeError, EOFError) on bad files
        # torch's own message is pages of advice about weights_only that does not apply to a damaged file
        raise CheckpointError(
            f"cannot read checkpoint {path}: it is corrupt, truncated or not a checkpoint ({type(err).__name__}); "
            "delete it to start afresh, or restore it from a copy"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a PPO checkpoint written by agents.checkpoint; pass a file saved by "
                              "scripts/02_train_memory.py or scripts/03_train_pixel.py")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}, this code reads version "
                              f"{CHECKPOINT_VERSION}; retrain or load it with the code version that wrote it")
    return payload


def check_compatible(path: str | Path, payload: dict[str, Any], agent: nn.Module) -> None:
    """Raise CheckpointError naming each difference between the checkpoint's network and `agent`'s."""
    saved, wanted = payload["network"], agent.config
    diffs = [f"{key}: checkpoint {saved.get(key)!r} vs now {wanted.get(key)!r}"
             for key in sorted(set(saved) | set(wanted)) if saved.get(key) != wanted.get(key)]
    if diffs:
        raise CheckpointError(
            f"checkpoint {path} does not match this network/env ({'; '.join(diffs)}). Use the same --env-id, "
            "--env-kwargs and network settings as the run that wrote it, or pick a new --run-name to start afresh"
        )


def check_state_spec(trained: dict[str, str] | None, current: dict[str, str] | None, where: str | Path) -> None:
    """Raise CheckpointError when an agent trained on one state spec (the `state_spec` an env states in its metadata:
    path and SHA-256 of what defines the observation) meets an env that reads another. Agents without a record
    (trained before it existed, or on envs without a spec) pass."""
    if trained and current and trained["sha256"] != current["sha256"]:
        raise CheckpointError(
            f"{where} was trained on the state spec {trained['path']} (SHA-256 {trained['sha256'][:12]}...), but this "
            f"env reads {current['path']} (SHA-256 {current['sha256'][:12]}...), which makes another observation. Use "
            f"the spec it was trained on: restore it (git checkout -- {trained['path']}) or pass its path as "
            "state_spec in --env-kwargs"
        )


def load_into(path: str | Path, agent: nn.Module, optimizer: torch.optim.Optimizer | None = None,
              payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load model (and optimizer) state from `path` (or its already-read `payload`) into existing objects."""
    if payload is None:
        payload = read_checkpoint(path)
    check_compatible(path, payload, agent)
    try:
        agent.load_state_dict(payload["model"])
        if optimizer is not None and payload.get("optimizer") is not None:
            optimizer.load_state_dict(payload["optimizer"])
    except (RuntimeError, ValueError, KeyError) as err:
        raise CheckpointError(f"checkpoint {path} has weights that do not fit this network: {err}; "
                              "start a new run with a new --run-name") from err
    return payload


def load_agent(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the trained network stored in `path` (no script needed); returns (agent in eval mode, checkpoint)."""
    payload = read_checkpoint(path)
    try:
        agent = build_network(payload["network"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} has an unusable network config {payload['network']}: {err}") from err
    load_into(path, agent, payload=payload)
    agent.trained_state_spec = payload.get("state_spec")  # checked against the env it plays (check_state_spec)
    return agent.to(device).eval(), payload
