"""Trained agents shipped in the repository (agents/trained/), so later steps run without hours of training.

    from agents.shipped import load_shipped
    agent, entry = load_shipped("pixel")                       # BreakoutPy-v0's pixel agent, in eval mode
    agent, entry = load_shipped("memory", env_id="BreakoutPy-v0")
    agent, entry = load_shipped("memory_ram", env_id="GBCPong-v0")  # the memory agent on the raw RAM
    entry["env_kwargs"]                                        # the env settings it was trained and evaluated on

Three kinds of agent are shipped (`SHIPPED_AGENTS`): `memory` (the memory agent on its game's state vector: Python
Breakout's, or a Game Boy game's extracted state), `memory_ram` (the same agent trained on a Game Boy game's raw RAM,
`--env-kwargs '{"obs_type": "ram"}'`) and `pixel`. `agents/trained/manifest.json` lists one entry per (agent, env
id): the model file and its SHA-256, env id and env kwargs, network, training steps and seconds, seed, run name, its
training settings (all but --runs-dir, a folder of the machine it trained on), the machine it trained on, the commit
of the code that trained it, its evaluation over 100 games and, where the model was shipped from its run folder, its
training curve (`<env>__<agent>.curve.csv`, agents.curves.curve_table), so that `04_compare.py --shipped` draws the
shipped agents after the run folder is gone. `scripts/evaluate.py --ship` adds or replaces an entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from agents.checkpoint import CheckpointError, load_agent
from agents.curves import write_curve
from breakout_py.files import atomic_path, write_json

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
MANIFEST_NAME = "manifest.json"
SHIPPED_AGENTS = ("memory", "memory_ram", "pixel")


def shipped_agent_name(agent_name: str, env_kwargs: dict[str, Any]) -> str:
    """The manifest's name of a trained agent: its preset's name ("memory", "pixel"), but "memory_ram" for a memory
    agent trained on the raw RAM, so that it ships beside the one on the extracted state rather than replacing it."""
    return "memory_ram" if agent_name == "memory" and env_kwargs.get("obs_type") == "ram" else agent_name


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(trained_dir: Path = TRAINED_DIR) -> dict[str, Any]:
    path = Path(trained_dir) / MANIFEST_NAME
    if not path.is_file():
        return {"agents": []}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path} is not valid JSON ({err}); restore it with git checkout") from err
    if not isinstance(manifest, dict) or not isinstance(manifest.get("agents"), list):
        raise CheckpointError(f"{path} has no 'agents' list; restore it with git checkout")
    return manifest


def shipped_entry(agent: str = "pixel", env_id: str = "BreakoutPy-v0",
                  trained_dir: Path = TRAINED_DIR) -> dict[str, Any]:
    """The manifest entry of the shipped `agent` (one of SHIPPED_AGENTS) for `env_id`."""
    entries = read_manifest(trained_dir)["agents"]
    for entry in entries:
        if entry["agent"] == agent and entry["env_id"] == env_id:
            return entry
    shipped = ", ".join(f"{e['agent']} on {e['env_id']}" for e in entries) or "none"
    raise CheckpointError(f"no shipped {agent} agent for {env_id} in {Path(trained_dir) / MANIFEST_NAME} "
                          f"(shipped: {shipped}); train one (scripts/02_train_memory.py / 03_train_pixel.py) and "
                          "pass its model.pt, or ship it with scripts/evaluate.py --ship")


def load_shipped(agent: str = "pixel", env_id: str = "BreakoutPy-v0", device: str | torch.device = "cpu",
                 trained_dir: Path = TRAINED_DIR) -> tuple[nn.Module, dict[str, Any]]:
    """The shipped network (eval mode) and its manifest entry; checks the file's hash and its env against the
    manifest, so a model swapped or edited by hand is refused rather than silently used."""
    entry = shipped_entry(agent, env_id, trained_dir)
    path = Path(trained_dir) / entry["file"]
    if not path.is_file():
        raise CheckpointError(f"the manifest lists {path} but the file is missing; restore it with git checkout")
    digest = sha256_of(path)
    if digest != entry["sha256"]:
        raise CheckpointError(f"{path} has SHA-256 {digest[:12]}..., the manifest says {entry['sha256'][:12]}...: "
                              "the file was changed; restore it with git checkout or re-ship it with "
                              "scripts/evaluate.py --ship")
    network, checkpoint = load_agent(path, device)
    network.trained_state_spec = network.trained_state_spec or entry.get("state_spec")
    if (checkpoint["env_id"], checkpoint["env_kwargs"]) != (entry["env_id"], entry["env_kwargs"]):
        raise CheckpointError(f"{path} was trained on {checkpoint['env_id']} {checkpoint['env_kwargs']}, the manifest "
                              f"says {entry['env_id']} {entry['env_kwargs']}; re-ship it with scripts/evaluate.py --ship")
    return network, {**entry, "path": str(path)}


def ship(model_path: Path, checkpoint: dict[str, Any], evaluation: dict[str, Any], provenance: dict[str, Any],
         trained_dir: Path = TRAINED_DIR) -> dict[str, Any]:
    """Copy a final model into `trained_dir` and add (or replace) its manifest entry, both written atomically; with
    the training curve of the run folder the model lies in, when it lies in one. Outside a run folder the same model
    shipped again keeps its curve, and another model replacing it ships with none (the curve was the old one's)."""
    trained_dir = Path(trained_dir)
    trained_dir.mkdir(parents=True, exist_ok=True)
    agent, env_id = shipped_agent_name(checkpoint["agent_name"], checkpoint["env_kwargs"]), checkpoint["env_id"]
    file_name = f"{env_id.replace('/', '-')}__{agent}.pt"
    with atomic_path(trained_dir / file_name) as tmp:
        shutil.copyfile(model_path, tmp)
    curve = trained_dir / f"{env_id.replace('/', '-')}__{agent}.curve.csv"
    run_dir = Path(model_path).parent
    previous = next((e for e in read_manifest(trained_dir)["agents"] if (e["agent"], e["env_id"]) == (agent, env_id)),
                    {})
    if (run_dir / "config.json").is_file() and any(run_dir.glob("events.out.tfevents.*")):
        write_curve(run_dir, curve)
    elif previous.get("sha256") != sha256_of(model_path):  # another model: the curve there is not this one's
        curve.unlink(missing_ok=True)
    args = checkpoint["args"]
    # where the run folder was is no setting of the agent's training, and often a path of one machine: left out
    training_args = {name: value for name, value in args.items() if name != "runs_dir"}
    entry = {
        "agent": agent, "env_id": env_id, "env_kwargs": checkpoint["env_kwargs"], "file": file_name,
        "sha256": sha256_of(trained_dir / file_name), "network": checkpoint["network"],
        "global_step": checkpoint["global_step"], "train_seconds": round(checkpoint["train_seconds"], 1),
        "seed": args["seed"], "run_name": args.get("run_name"), "training_args": training_args,
        "evaluation": evaluation, **provenance,
    }
    if curve.is_file():
        entry["curve"] = curve.name
    if checkpoint.get("state_spec"):
        entry["state_spec"] = checkpoint["state_spec"]  # the spec's path and digest, checked when it is played
    manifest = read_manifest(trained_dir)
    manifest["agents"] = [e for e in manifest["agents"] if (e["agent"], e["env_id"]) != (agent, env_id)] + [entry]
    manifest["agents"].sort(key=lambda e: (e["env_id"], e["agent"]))
    write_json(trained_dir / MANIFEST_NAME, manifest)
    return entry
