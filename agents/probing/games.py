"""Which game adapter probes which env, and step 07 run on the game of a checkpoint (`run_probe`).

Every Game Boy env id (our games and GBC-v0 for a user's profile) gets agents.probing.gbc_game's adapter, which
reads the game's state spec, symbols file and profile; a game of another kind needs its own adapter
(agents.probing.game.GameAdapter, as python_breakout.py) listed in ADAPTERS.
"""

from __future__ import annotations

from typing import Any, Callable

import torch.nn as nn

from agents.probing import gbc_game, python_breakout
from agents.probing.game import GameAdapter, ProbeConfig
from agents.probing.pipeline import ProbeResults, print_progress, run_game_probe
from agents.probing.probes import ProbeError

ADAPTERS: dict[str, GameAdapter] = {python_breakout.ADAPTER.env_id: python_breakout.ADAPTER, **gbc_game.ADAPTERS}


def adapter_for(env_id: str | None, source: str = "the agent") -> GameAdapter:
    """The adapter of `env_id`, or ProbeError naming the envs step 07 can probe."""
    if env_id not in ADAPTERS:
        raise ProbeError(f"{source} was trained on {env_id!r}; step 07 probes pixel agents of {list(ADAPTERS)} "
                         "(scripts/03_train_pixel.py)")
    return ADAPTERS[env_id]


def run_probe(agent: nn.Module, checkpoint: dict[str, Any], source: str, config: ProbeConfig | None = None,
              log: Callable[[str], None] = print_progress) -> ProbeResults:
    """Step 07 for the game of the checkpoint's env; fields of `config` left at None (all when None) take that
    game's defaults."""
    adapter = adapter_for(checkpoint.get("env_id"), source)
    return run_game_probe(adapter, agent, checkpoint, source, ProbeConfig() if config is None else config, log)
