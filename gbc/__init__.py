"""Game Boy (Color) games as Gymnasium envs, through PyBoy. `import gbc` registers:

- `GBCBreakout-v0`: our own Breakout ROM (roms/breakout/), 3 actions NOOP/LEFT/RIGHT;
  `gym.make_vec("GBCBreakout-v0", num_envs=N)` gives N envs spread over worker processes (one per core).
- `GBCSnake-v0`: our own Snake ROM (roms/snake/), 5 actions NOOP/UP/DOWN/LEFT/RIGHT; batched the same way.
- `GBCPong-v0`: our own Pong ROM (roms/pong/), 3 actions NOOP/UP/DOWN, reward = the player's points.
- `GBCRunner-v0`: our own side-scrolling runner (roms/runner/), 3 actions NOOP/JUMP/DUCK; score = distance run.
- `GBCShooter-v0`: our fixed shooter ROM (roms/shooter/), 6 actions NOOP/LEFT/RIGHT/FIRE/LEFT+FIRE/RIGHT+FIRE.
- `GBC-v0`: any profiled ROM, e.g. `gym.make("GBC-v0", profile="mygame")` for roms/mygame.profile.json.

Observations: obs_type="ram" (WRAM + HRAM bytes), "pixels" (stacked greyscale frames) or "state" (the bytes a state
spec keeps, scaled to [0, 1]; by default the spec committed beside the ROM, which
scripts/01_extract_state.py --update-committed replaces).
"""

import warnings

import gymnasium as gym

# PyBoy imports PySDL2, which announces on import that it uses the pysdl2-dll wheel's SDL2: expected, not a fault.
warnings.filterwarnings("ignore", message="Using SDL2 binaries from pysdl2-dll")

from gbc.env import GameBoyEnv  # noqa: E402  (after the filter: it imports PyBoy)
from gbc.dump import DumpError, MemoryDump, load_dumps, save_dumps  # noqa: E402
from gbc.emulated_render import EmulatedRenderer, render_with_overrides  # noqa: E402
from gbc.extract.spec import StateSpec, StateSpecError  # noqa: E402
from gbc.profiles import (  # noqa: E402
    GameProfile,
    ProfileError,
    RomHashMismatchError,
    RomNotFoundError,
    UnknownProfileError,
    get_profile,
    known_profiles,
    require_profile,
)
from gbc.vector import DEFAULT_MAX_EPISODE_STEPS, BatchedGameBoyEnv, WorkerDiedError, make_batched_env  # noqa: E402


def make_profiled_env(profile=None, **kwargs) -> GameBoyEnv:
    """Entry point of GBC-v0: the env of any profiled ROM; without a profile, an error that says how to name one."""
    return GameBoyEnv(require_profile(profile, "GBC-v0"), **kwargs)


def make_profiled_batched_env(num_envs: int = 2, profile=None, **kwargs) -> BatchedGameBoyEnv:
    """Vector entry point of GBC-v0 (see make_profiled_env)."""
    return make_batched_env(num_envs, profile=require_profile(profile, "GBC-v0"), **kwargs)


_ENTRY_POINTS = {  # env id: (entry point, vector entry point, kwargs)
    "GBCBreakout-v0": ("gbc.env:GameBoyEnv", "gbc.vector:make_batched_env", {"profile": "breakout"}),
    "GBCSnake-v0": ("gbc.env:GameBoyEnv", "gbc.vector:make_batched_env", {"profile": "snake"}),
    "GBCPong-v0": ("gbc.env:GameBoyEnv", "gbc.vector:make_batched_env", {"profile": "pong"}),
    "GBCRunner-v0": ("gbc.env:GameBoyEnv", "gbc.vector:make_batched_env", {"profile": "runner"}),
    "GBCShooter-v0": ("gbc.env:GameBoyEnv", "gbc.vector:make_batched_env", {"profile": "shooter"}),
    "GBC-v0": ("gbc:make_profiled_env", "gbc:make_profiled_batched_env", {}),  # PROFILED_ENV_ID
}
# Our own games: profile name -> env id, in the order they are registered.
GAME_ENV_IDS = {kwargs["profile"]: env_id for env_id, (_, _, kwargs) in _ENTRY_POINTS.items() if "profile" in kwargs}
PROFILED_ENV_ID = "GBC-v0"  # the env of any profiled ROM (a user's), the profile in its kwargs

for _env_id, (_entry_point, _vector_entry_point, _kwargs) in _ENTRY_POINTS.items():
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point=_entry_point,
            vector_entry_point=_vector_entry_point,
            max_episode_steps=DEFAULT_MAX_EPISODE_STEPS,
            kwargs=_kwargs,
        )

__all__ = [
    "BatchedGameBoyEnv",
    "DumpError",
    "EmulatedRenderer",
    "GAME_ENV_IDS",
    "PROFILED_ENV_ID",
    "MemoryDump",
    "GameBoyEnv",
    "GameProfile",
    "ProfileError",
    "RomHashMismatchError",
    "RomNotFoundError",
    "StateSpec",
    "StateSpecError",
    "UnknownProfileError",
    "WorkerDiedError",
    "get_profile",
    "known_profiles",
    "load_dumps",
    "make_batched_env",
    "make_profiled_batched_env",
    "make_profiled_env",
    "render_with_overrides",
    "save_dumps",
]
