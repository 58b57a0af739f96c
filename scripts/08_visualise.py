"""Draw what step 07 found: every activation of every layer, labelled, beside the screen regions; one HTML report.

    .venv/bin/python scripts/08_visualise.py                                     # the shipped pixel agent's folder
    .venv/bin/python scripts/08_visualise.py --checkpoint runs/<run>/model.pt    # the folder 07 wrote for it
    .venv/bin/python scripts/08_visualise.py --probe-dir artifacts/probe/BreakoutPy-v0/<agent>

Reads the folder scripts/07_probe.py wrote and adds to it: figures/*.png (probe scores, screen regions of every
variable, one figure per layer with every channel/unit, the causal check, the GBC RAM-to-screen map),
figures/regions/<variable>.png, report.html (self-contained: opens from disk) and tensorboard/ (the same figures
as TensorBoard images: `tensorboard --logdir <folder>/tensorboard`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro

from agents.probing.gbc_ram_map import load_ram_regions
from agents.probing.pipeline import agent_name, default_out_dir
from agents.probing.report import build_report, probe_env_id
from breakout_py.errors import run_script
from breakout_py.files import json_line


@dataclass
class Args:
    probe_dir: str = ""
    """the folder step 07 wrote; empty: the one it writes for --checkpoint / --env-id"""
    checkpoint: str = ""
    """the checkpoint given to step 07 (only names the default folder); empty: the shipped pixel agent"""
    env_id: str = "BreakoutPy-v0"
    """env of the agent (names the default folder)"""
    example: int = 0
    """which of the example states step 07 kept to draw the activations of"""
    gbc_regions_dir: str = "artifacts/probe/GBCBreakout-v0/ram_regions"
    """the GBC RAM-to-screen map written by step 07 (included when present, in that game's report only)"""
    tensorboard: bool = True
    """also write the figures as TensorBoard images under <probe-dir>/tensorboard"""


def main(args: Args) -> Path:
    folder = Path(args.probe_dir) if args.probe_dir else default_out_dir(args.env_id, agent_name(args.checkpoint))
    gbc = None
    if args.gbc_regions_dir and Path(args.gbc_regions_dir).is_dir():
        gbc = load_ram_regions(args.gbc_regions_dir)
        env_id = probe_env_id(folder)
        if env_id is not None and gbc["env_id"] != env_id:
            print(f"08: {args.gbc_regions_dir} maps {gbc['env_id']}'s RAM, not {env_id}'s: left out of this report")
            gbc = None
    written = build_report(folder, gbc=gbc, example=args.example,
                           tensorboard_dir=folder / "tensorboard" if args.tensorboard else None)
    print(f"08: wrote {written['report']} (open it in a browser), figures in {folder / 'figures'}/"
          + (f", TensorBoard images in {written['tensorboard']}/" if "tensorboard" in written else ""))
    print(json_line({"report": written["report"], "figures": len(written) - 2}))
    return written["report"]


if __name__ == "__main__":
    run_script(lambda: main(tyro.cli(Args)))
