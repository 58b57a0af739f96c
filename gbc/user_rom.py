"""One of our games as a user's ROM: the ROM file copied into a folder of its own beside a user profile
(gbc.profiles' JSON format), with no symbols file. The pipeline's `--hide-symbols` runs on it
(agents.probing.game_runs), so that every step after this one sees only what a user who brings a ROM has.

What the profile holds is what a user can know without the symbols file: the ROM's SHA-1, the buttons, how a
game starts, and the addresses of the few variables the env reads (the game mode that says play and game over, the
score, the lives), which a user finds with a RAM search in any emulator's cheat finder. Building it reads our
symbols file for those few addresses, standing in for that search; nothing else of the symbols file is passed on:
no other variable, no constant, no seed variable (the env then varies games by random idle frames, as for any
user's ROM), no scripted player (the profile's name is not our game's).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from breakout_py.files import atomic_write, write_json
from gbc.profiles import PROFILE_SUFFIX, ProfileError, builtin_profile_names, get_profile

USER_PROFILE_PREFIX = "user_"  # the user's profile of our `pong` is `user_pong`: not a name with a scripted player


def user_profile_name(game: str) -> str:
    """The name of the user profile hide_symbols writes for our game `game`."""
    return f"{USER_PROFILE_PREFIX}{game}"


def hide_symbols(game: str, folder: str | Path) -> Path:
    """Copy our game `game`'s ROM into `folder` with a user profile and no symbols file; the profile's path."""
    if game not in builtin_profile_names():
        raise ProfileError(f"--hide-symbols needs one of our games ({builtin_profile_names()}), whose symbols file "
                           f"it hides, not {game!r}; a user's own ROM has none to hide: run it with its .profile.json")
    profile = get_profile(game)
    folder = Path(folder)
    rom = atomic_write(folder / profile.rom_path.name, profile.verify_rom())
    known = [profile.in_play.variable, profile.game_over.variable, profile.score, profile.lives]
    variables = {name: {"address": f"0x{profile.variables[name].address:04X}", "size": profile.variables[name].size}
                 for name in dict.fromkeys(n for n in known if n is not None)}
    condition = {"in_play": profile.in_play, "game_over": profile.game_over}
    name = user_profile_name(game)
    user_profile = {
        "name": name, "rom": rom.name, "sha1": hashlib.sha1(rom.read_bytes()).hexdigest(), "variables": variables,
        "score": profile.score, "score_encoding": profile.score_encoding,
        **({"lives": profile.lives} if profile.lives else {}),
        "start_sequence": [{"frames": s.frames, "buttons": list(s.buttons)} for s in profile.start_sequence],
        **{key: {"variable": c.variable, "op": c.op, "value": c.value} for key, c in condition.items()},
        "actions": [list(a) for a in profile.actions], "action_names": list(profile.action_names),
    }
    return write_json(folder / f"{name}{PROFILE_SUFFIX}", user_profile)
