"""Python Breakout: a NumPy core that steps N games at once, its renderer, and Gymnasium environments.

`import breakout_py` registers "BreakoutPy-v0" (gymnasium.make, and gymnasium.make_vec with
vectorization_mode="vector_entry_point" for the natively batched env).
"""

import gymnasium

from .core import (
    ACTION_MEANINGS,
    MAX_SCORE,
    STATE_DESCRIPTIONS,
    STATE_DIM,
    STATE_HIGH,
    STATE_INDEX,
    STATE_LOW,
    STATE_NAMES,
    GameState,
    new_games,
    state_from_vector,
    state_vector,
)
from .render import Renderer, colorize

ENV_ID = "BreakoutPy-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="breakout_py.env:BreakoutEnv",
        vector_entry_point="breakout_py.env:BreakoutVectorEnv",
    )

__all__ = [
    "ACTION_MEANINGS",
    "ENV_ID",
    "MAX_SCORE",
    "STATE_DESCRIPTIONS",
    "STATE_DIM",
    "STATE_HIGH",
    "STATE_INDEX",
    "STATE_LOW",
    "STATE_NAMES",
    "GameState",
    "Renderer",
    "colorize",
    "new_games",
    "state_from_vector",
    "state_vector",
]
