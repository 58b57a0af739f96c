"""Probe the pixel agent: what it knows about each game variable, in which layer, and whether it uses it.

    .venv/bin/python scripts/06_probe.py                                    # the shipped pixel agent
    .venv/bin/python scripts/06_probe.py --checkpoint runs/<run>/model.pt   # any pixel agent of BreakoutPy-v0
    .venv/bin/python scripts/06_probe.py --checkpoint runs/<gbc run>/model.pt  # or of GBCBreakout-v0

Plays the agent, sweeps every variable of Python Breakout's ideal state over its observed range in states from
that play, renders the frame stacks, records every layer's activations, and writes to --out-dir (default
artifacts/probe/<env_id>/<agent>/): probe_scores.csv/.md (every layer x variable, with the random-weights and
raw-pixel controls), probe_best.csv, unit_labels.csv, channel_labels.csv, function_vectors.npz, correlations.npz,
causal.csv/.md, regions.npz, examples.npz, summary.json. With --gbc-regions (default on) it also maps our GBC
ROM's RAM to its screen (artifacts/probe/GBCBreakout-v0/ram_regions/). scripts/07_visualise.py turns all of it
into figures and an HTML report. A GBCBreakout-v0 agent is probed the same way over frames the game draws itself
(agents/probe_gbc_pixels.py), with smaller default sizes (the options left unset take the game's defaults).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from typing import Optional
from pathlib import Path

import torch
import tyro

from agents.probe import ProbeError
from agents.probe_pipeline import (ProbeConfig, default_config, default_out_dir, load_probe_agent, run_probe,
                                   write_results)


@dataclass
class Args:
    checkpoint: str = ""
    """a pixel agent's checkpoint (model.pt / checkpoint.pt); empty: the shipped pixel agent (agents.shipped)"""
    env_id: str = "BreakoutPy-v0"
    """env of the shipped agent to load when --checkpoint is empty"""
    out_dir: str = ""
    """where the results go; empty: artifacts/probe/<env_id>/<agent name>/"""
    # Fields left at None take the game's default (agents.probe_pipeline.default_config: Python Breakout's
    # ProbeConfig, or the smaller agents.probe_gbc_pixels.DEFAULT_CONFIG, whose frames the emulator draws 100x slower).
    num_games: Optional[int] = None
    """games played in parallel to collect states (default: 32 Python Breakout, 8 GBC)"""
    num_steps: Optional[int] = None
    """agent steps played in each game (default: 1,600 / 600)"""
    keep_every: Optional[int] = None
    """keep every k-th step of each game, consecutive steps being near-duplicates (default: 16 / 6)"""
    num_bases: Optional[int] = None
    """play states that every variable is swept in (default: 120 / 48)"""
    sweep_count: int = 8
    """values per swept variable (over its observed range)"""
    brick_patterns: int = 6
    """random walls (each brick present with probability 1/2) per base state"""
    ball_positions: Optional[int] = None
    """per base state: random joint positions of ball and paddle over their observed box, since a place is read
    linearly only where the probe has seen the ball and play rarely shows it right above the paddle (default: 32 / 12)"""
    toggle_bases: int = 4
    """base states in which each brick is flipped on its own (brick screen regions, mean differences)"""
    max_train: int = 20000
    """at most this many training samples per probe (a random subset; the defaults give about 10,000)"""
    pcs: int = 256
    """logistic probes run on this many principal components of the layer"""
    layers: tuple[str, ...] = ()
    """layers to probe (conv1, fc1, actor, ... or module paths); empty: all"""
    variables: tuple[str, ...] = ()
    """variables to probe (breakout_py.STATE_NAMES); empty: all 120"""
    causal_variables: Optional[tuple[str, ...]] = None
    """variables of the causal check (steering; ball_x and paddle_x have a predicted policy direction); default: every
    scalar of Python Breakout, the swept ball_x, ball_y, paddle_x of GBC"""
    causal_states: Optional[int] = None
    """held-out play states per seed of the causal check (default: 64 / 48)"""
    causal_seeds: int = 3
    """seeds of the causal check (each: its own states and random directions)"""
    random_directions: int = 4
    """equal-norm random directions per seed"""
    alpha_scale: float = 1.0
    """steering strength, in units of the layer's mean activation difference between high and low values"""
    region_bases: int = 32
    """base states whose perturbations make the screen-region maps"""
    examples: int = 4
    """example states whose every activation step 07 draws"""
    group_steps: Optional[int] = None
    """consecutive agent steps of one game that form a block; splits hold out whole blocks (default: 64 / 60)"""
    seed: int = 0
    """seed of play, sampling, splits, random directions and the random-weights control"""
    gbc_regions: bool = True
    """also map the GBC ROM's RAM bytes to its screen (cached per ROM)"""
    gbc_regions_dir: str = "artifacts/probe/GBCBreakout-v0/ram_regions"
    """where that map goes (and is reused from while ROM, spec and settings are unchanged); 07_visualise.py reads it
    from its own --gbc-regions-dir"""
    torch_threads: int = 1
    """torch CPU threads (1 is fastest for this small CNN on a shared 2-core machine)"""


def main(args: Args) -> Path:
    torch.set_num_threads(args.torch_threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    agent, checkpoint, source, name = load_probe_agent(args.checkpoint, args.env_id)
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(ProbeConfig) if getattr(args, f.name) is not None}
    config = dataclasses.replace(default_config(checkpoint.get("env_id")), **given)
    results = run_probe(agent, checkpoint, source, config)
    out_dir = Path(args.out_dir) if args.out_dir else default_out_dir(results.setup.env_id, name)
    results.timings["total"] = {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu_start}
    write_results(results, out_dir)
    print(f"06: wrote {out_dir}/ (probe_scores.md, causal.md, summary.json, ...)")
    if args.gbc_regions:
        from agents.probe_gbc import ram_regions_cached

        gbc_dir = ram_regions_cached(args.gbc_regions_dir)
        print(f"06: GBC RAM-to-screen map in {gbc_dir}/")
    bars = json.loads((out_dir / "summary.json").read_text())["bars"]
    print(json.dumps({"out_dir": str(out_dir), "seconds": round(time.perf_counter() - start, 1), "bars": bars}))
    return out_dir


if __name__ == "__main__":
    try:
        main(tyro.cli(Args))
    except ProbeError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
