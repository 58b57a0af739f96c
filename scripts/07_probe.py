"""Probe the pixel agent: what it knows about each game variable, in which layer, and whether it uses it.

    .venv/bin/python scripts/07_probe.py                                    # the shipped pixel agent
    .venv/bin/python scripts/07_probe.py --checkpoint runs/<run>/model.pt   # any pixel agent of BreakoutPy-v0
    .venv/bin/python scripts/07_probe.py --checkpoint runs/<gbc run>/model.pt  # or of any Game Boy game

Plays the agent, sweeps every variable of Python Breakout's ideal state over its observed range in states from
that play, renders the frame stacks, records every layer's activations, and writes to --out-dir (default
artifacts/probe/<env_id>/<agent>/): probe_scores.csv/.md (every layer x variable, with the random-weights and
raw-pixel controls), probe_best.csv, unit_labels.csv, channel_labels.csv, function_vectors.npz, correlations.npz,
causal.csv/.md, regions.npz, examples.npz, screen_maps.npz/.csv and screen_maps/<variable>.png (each key
variable's function vector mapped onto the screen beside the game's perturbation map), summary.json. Probing a
GBCBreakout-v0 agent with --gbc-regions (default on), it also maps that ROM's RAM to its screen
(artifacts/probe/GBCBreakout-v0/ram_regions/). scripts/08_visualise.py turns all of it into figures and an HTML
report. A pixel agent of any Game Boy game (GBCBreakout/Snake/Pong/Runner/Shooter-v0, GBC-v0 with a user's profile)
is probed the same way over frames the game draws itself (agents/probing/gbc_game.py: variables from the game's
state spec and symbols file, key variables from step 06's --key-variables-csv when there is one), with smaller
default sizes (the options left unset take the game's defaults).
Prints one line per bar (variable, layer, R^2 against the random-weights control, pass or fail) and per screen map
(IoU with the perturbation map, pointing-game hit rate).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import tyro

from agents.probing.bars import bar_lines
from agents.probing.game import ProbeConfig
from agents.probing.games import run_probe
from agents.probing.gbc_ram_map import MAP_ENV_ID, ram_regions_cached
from agents.probing.outputs import bars_of, write_results
from agents.probing.pipeline import default_out_dir, load_probe_agent
from agents.probing.screen_maps import screen_map_lines
from breakout_py.errors import run_script
from breakout_py.files import json_line


@dataclass
class Args(ProbeConfig):
    """Step 07's options: the sizes and seeds of agents.probing.game.ProbeConfig, then which agent to probe and
    where the results go."""

    checkpoint: str = ""
    """a pixel agent's checkpoint (model.pt / checkpoint.pt); empty: the shipped pixel agent (agents.shipped)"""
    env_id: str = "BreakoutPy-v0"
    """env of the shipped agent to load when --checkpoint is empty"""
    out_dir: str = ""
    """where the results go; empty: artifacts/probe/<env_id>/<agent name>/"""
    gbc_regions: bool = True
    """when the agent plays GBCBreakout-v0, also map that ROM's RAM bytes to its screen (cached per ROM)"""
    gbc_regions_dir: str = "artifacts/probe/GBCBreakout-v0/ram_regions"
    """where that map goes (and is reused from while ROM, spec and settings are unchanged); 08_visualise.py reads it
    from its own --gbc-regions-dir"""
    torch_threads: int = 1
    """torch CPU threads (1 is fastest for this small CNN on a shared 2-core machine)"""


def main(args: Args) -> Path:
    torch.set_num_threads(args.torch_threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    agent, checkpoint, source, name = load_probe_agent(args.checkpoint, args.env_id)
    config = ProbeConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ProbeConfig)})
    results = run_probe(agent, checkpoint, source, config)
    out_dir = Path(args.out_dir) if args.out_dir else default_out_dir(results.setup.env_id, name)
    results.timings["total"] = {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu_start}
    write_results(results, out_dir)
    bars = bars_of(results)
    for line in bar_lines(bars):
        print(f"07: {line}")
    for line in screen_map_lines(results.screen_maps):
        print(f"07: {line}")
    print(f"07: wrote {out_dir}/ (probe_scores.md, causal.md, summary.json with the bars, ...)")
    if args.gbc_regions and results.setup.env_id == MAP_ENV_ID:
        gbc_dir = ram_regions_cached(args.gbc_regions_dir)
        print(f"07: GBC RAM-to-screen map in {gbc_dir}/")
    passed = {name: b["pass"] for name, b in bars["key_variables_r2"].items()}
    passed.update({f"causal {name}": c["pass"] for name, c in bars["causal"].items()})
    generic = [c["pass"] for c in bars["causal_generic"].values()]  # one count: a line per variable is printed above
    print(json_line({"out_dir": out_dir, "seconds": round(time.perf_counter() - start, 1), "bars_passed": passed,
                     "causal_vs_random_passed": f"{sum(generic)} of {len(generic)}"}))
    return out_dir


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
