"""Game Boy (Color) games as Gymnasium envs, through PyBoy. `import gbc` registers:

- `GBCBreakout-v0`: our own Breakout ROM (roms/breakout/), 3 actions NOOP/LEFT/RIGHT;
  `gym.make_vec("GBCBreakout-v0", num_envs=N)` gives N envs spread over worker processes (one per core).
- `GBC-v0`: any profiled ROM, e.g. `gym.make("GBC-v0", profile="mygame")` for roms/mygame.profile.json.
"""

import warnings

import gymnasium as gym

# PyBoy imports PySDL2, which announces on import that it uses the pysdl2-dll wheel's SDL2: expected, not a fault.
warnings.filterwarnings("ignore", message="Using SDL2 binaries from pysdl2-dll")

from gbc.env import GameBoyEnv  # noqa: E402  (after the filter: it imports PyBoy)
from gbc.profiles import (  # noqa: E402
    GameProfile,
    ProfileError,
    RomHashMismatchError,
    RomNotFoundError,
    UnknownProfileError,
    get_profile,
    known_profiles,
)
from gbc.vector import DEFAULT_MAX_EPISODE_STEPS, BatchedGameBoyEnv, make_batched_env  # noqa: E402

for _env_id, _kwargs in (("GBCBreakout-v0", {"profile": "breakout"}), ("GBC-v0", {})):
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point="gbc.env:GameBoyEnv",
            vector_entry_point="gbc.vector:make_batched_env",
            max_episode_steps=DEFAULT_MAX_EPISODE_STEPS,
            kwargs=_kwargs,
        )

__all__ = [
    "BatchedGameBoyEnv",
    "GameBoyEnv",
    "GameProfile",
    "ProfileError",
    "RomHashMismatchError",
    "RomNotFoundError",
    "UnknownProfileError",
    "get_profile",
    "known_profiles",
    "make_batched_env",
]
