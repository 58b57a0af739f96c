"""Game profiles: everything the wrapper needs to know about one ROM.

A profile names the ROM file and its SHA-1, every RAM variable the wrapper reads (name -> address), the
button sequence from power-on to the first frame of play, and how to read score, lives and game over.

Profiles come from two places:
- built in (`breakout`, `snake`, `pong`, `runner`, `shooter`: our own ROMs): addresses are read by name from the ROM's symbols file, which the build
  writes from the linker map, so they are the linker's truth;
- a user's JSON file, `roms/<anything>.profile.json`, beside the user's ROM (format in `load_profile_file`).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from breakout_py.errors import UserError
from gbc.hardware import BUTTONS

ROMS_DIR = Path(__file__).resolve().parent.parent / "roms"
PROFILE_SUFFIX = ".profile.json"
SCORE_ENCODINGS = ("uint_le", "uint_be", "bcd_le", "bcd_be")
# Our ROMs run their logic in one frame and copy to OAM/VRAM in the VBlank that ends it: the screen after next
# shows a write (measured on Breakout, gbc/emulated_render.py).
DEFAULT_SCREEN_LAG_FRAMES = 2

_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ProfileError(UserError, ValueError):
    """A profile that is malformed or disagrees with its ROM's symbols."""


class UnknownProfileError(UserError, KeyError):
    """No profile of that name."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class RomNotFoundError(UserError, FileNotFoundError):
    """The profile's ROM file is not on disk."""


class RomHashMismatchError(UserError, ValueError):
    """The ROM on disk is not the one the profile describes."""


@dataclass(frozen=True)
class Variable:
    """One RAM variable of a game: `size` bytes from `address`."""

    name: str
    address: int
    size: int = 1
    description: str = ""
    signed: bool = False  # a signed C type (int8_t, int16_t): its bytes are two's complement

    def value(self, unsigned: int) -> int:
        """The variable's value from its bytes read as an unsigned little-endian integer (what RAM reads give)."""
        bits = 8 * self.size
        return unsigned - (1 << bits) if self.signed and unsigned >= 1 << (bits - 1) else unsigned


@dataclass(frozen=True)
class Condition:
    """A pure predicate on one variable, e.g. `game_state == 2`."""

    variable: str
    op: str
    value: int

    def __post_init__(self):
        if self.op not in _COMPARISONS:
            raise ProfileError(f"condition operator {self.op!r} is not one of {sorted(_COMPARISONS)}")

    def holds(self, value: int) -> bool:
        return _COMPARISONS[self.op](value, self.value)


@dataclass(frozen=True)
class StartStep:
    """One step of the power-on sequence: hold `buttons` (maybe none) for `frames` frames."""

    frames: int
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grid:
    """A RAM array that is a picture of the playfield: `height` rows of `width` cells, row-major from the first byte
    of variable `array`, each cell a small code (0 empty: Snake's board, 1 body, 2 food). The memory agent's grid
    network (agents.networks.GridAgent) sees it as planes, one per non-zero code, under a convolution, so what lies
    next to a cell is a local pattern instead of a relation between two of several hundred inputs. `markers` are
    cells the array does not show: pairs of a column and a row variable (a name, or "array[index]" for an element read
    through an index byte, as the snake's head in its ring of cells), each drawn as a plane of its own."""

    array: str
    width: int
    height: int
    markers: tuple[tuple[str, str], ...] = ()

    def variable_names(self) -> list[str]:
        """Every profile variable the grid reads (the array, and each marker's, index bytes included)."""
        names = [self.array]
        for marker in self.markers:
            for ref in marker:
                names += ref.removesuffix("]").split("[")
        return names


@dataclass(frozen=True)
class GameProfile:
    """What the wrapper knows about one ROM. Addresses only through `variables`, never inline."""

    name: str
    rom_path: Path
    sha1: str
    variables: Mapping[str, Variable]
    start_sequence: tuple[StartStep, ...]
    in_play: Condition  # holds from the first frame of play on: the reset state is the first frame it holds
    game_over: Condition
    score: str
    score_encoding: str = "uint_le"
    lives: str | None = None
    seed_variable: str | None = None  # the reset writes a seeded random value here; None: random idle frames
    actions: tuple[tuple[str, ...], ...] = ((),)
    action_names: tuple[str, ...] = ("NOOP",)
    max_start_frames: int = 3000  # give up waiting for `in_play` after this many frames
    build_hint: str = ""  # how to get the ROM when it is missing
    constants: Mapping[str, int] = field(default_factory=dict)
    screen_lag_frames: int = DEFAULT_SCREEN_LAG_FRAMES
    """frames from a write into RAM to the first screen that shows it (gbc.emulated_render; 2 for our ROMs)"""
    grids: tuple[Grid, ...] = ()
    """RAM arrays that picture the playfield, for the memory agent's grid network (`Grid`)"""

    def __post_init__(self):
        missing = [n for n in self.referenced_variables() if n not in self.variables]
        if missing:
            raise ProfileError(
                f"profile {self.name!r} uses variables {missing} that it does not define; "
                f"defined: {sorted(self.variables)}"
            )
        for grid in self.grids:
            if self.variables[grid.array].size != grid.width * grid.height:
                raise ProfileError(f"profile {self.name!r}: grid {grid.array!r} of {grid.width} x {grid.height} cells "
                                   f"needs {grid.width * grid.height} bytes, the variable has "
                                   f"{self.variables[grid.array].size}")
        if self.score_encoding not in SCORE_ENCODINGS:
            raise ProfileError(
                f"profile {self.name!r}: score_encoding {self.score_encoding!r} is not one of {SCORE_ENCODINGS}"
            )
        for buttons in [*self.actions, *(s.buttons for s in self.start_sequence)]:
            unknown = [b for b in buttons if b not in BUTTONS]
            if unknown:
                raise ProfileError(f"profile {self.name!r}: unknown buttons {unknown}; buttons are {BUTTONS}")
        if len(self.actions) != len(self.action_names):
            raise ProfileError(
                f"profile {self.name!r}: {len(self.actions)} actions but {len(self.action_names)} action names"
            )

    def referenced_variables(self) -> list[str]:
        names = [self.in_play.variable, self.game_over.variable, self.score]
        names += [n for n in (self.lives, self.seed_variable) if n is not None]
        return names + [n for grid in self.grids for n in grid.variable_names()]

    def address(self, name: str) -> int:
        """Address of a variable by name (a clear error for a name the profile does not define)."""
        if name not in self.variables:
            raise ProfileError(f"profile {self.name!r} has no variable {name!r}; it has {sorted(self.variables)}")
        return self.variables[name].address

    def decode_score(self, raw: Sequence[int]) -> int:
        """Score from the bytes of the score variable, in the profile's encoding."""
        ordered = list(raw) if self.score_encoding.endswith("_be") else list(reversed(raw))
        value = 0
        for byte in ordered:
            if self.score_encoding.startswith("bcd"):
                value = value * 100 + (byte >> 4) * 10 + (byte & 0x0F)
            else:
                value = (value << 8) | byte
        return value

    def verify_rom(self) -> bytes:
        """The ROM's bytes, after checking that the file exists and has the expected SHA-1."""
        if not self.rom_path.is_file():
            raise RomNotFoundError(f"ROM for profile {self.name!r} not found at {self.rom_path}. {self.build_hint}")
        data = self.rom_path.read_bytes()
        actual = hashlib.sha1(data).hexdigest()
        if actual != self.sha1.lower():
            raise RomHashMismatchError(
                f"ROM {self.rom_path} has SHA-1 {actual}, but profile {self.name!r} expects {self.sha1.lower()}. "
                "Use the exact ROM the profile was written for, or update the profile's sha1 "
                "(and re-check its addresses) if you changed the ROM on purpose."
            )
        return data


# ---------------------------------------------------------------------------------------------------------
# Built-in profiles: our own ROMs (sources in roms/<game>/, addresses from each ROM's symbols file).

BREAKOUT_DIR = ROMS_DIR / "breakout"
BREAKOUT_ROM = BREAKOUT_DIR / "breakout.gb"
BREAKOUT_SYMBOLS = BREAKOUT_DIR / "breakout.symbols.json"
SNAKE_DIR = ROMS_DIR / "snake"
SNAKE_ROM = SNAKE_DIR / "snake.gb"
SNAKE_SYMBOLS = SNAKE_DIR / "snake.symbols.json"
PONG_DIR = ROMS_DIR / "pong"
PONG_ROM = PONG_DIR / "pong.gb"
PONG_SYMBOLS = PONG_DIR / "pong.symbols.json"
RUNNER_DIR = ROMS_DIR / "runner"
RUNNER_ROM = RUNNER_DIR / "runner.gb"
RUNNER_SYMBOLS = RUNNER_DIR / "runner.symbols.json"
SHOOTER_DIR = ROMS_DIR / "shooter"
SHOOTER_ROM = SHOOTER_DIR / "shooter.gb"
SHOOTER_SYMBOLS = SHOOTER_DIR / "shooter.symbols.json"


def _build_hint(committed: Path) -> str:
    """How to get a file the ROM build writes back: build it, or restore the committed copy."""
    try:
        shown = committed.relative_to(ROMS_DIR.parent)
    except ValueError:
        shown = committed
    return (
        "It is built from source in this repository: run `make -C roms` (needs Debian's sdcc), "
        f"or restore the committed file with `git checkout -- {shown}`."
    )


def read_symbols(path: Path) -> dict:
    """The symbols file the ROM build writes: {"rom", "sha1", "variables": [...], "constants": {...}}."""
    if not path.is_file():
        raise RomNotFoundError(f"symbols file {path} not found. {_build_hint(path)}")
    return json.loads(path.read_text())


def _variables_from_symbols(symbols: dict) -> dict[str, Variable]:
    """The symbols file's variables, less those in a switched CGB WRAM bank ("cgb_wram_bank"): at their address
    the RAM observation and `GameBoy.read` see the bank the game leaves selected (bank 1), not theirs."""
    return {
        v["name"]: Variable(v["name"], int(v["address"]), int(v.get("size", 1)), v.get("description", ""),
                            signed=v.get("type", "").startswith("int"))  # the C type: int16_t, uint8_t[108], ...
        for v in symbols["variables"]
        if "cgb_wram_bank" not in v
    }


def _own_rom_profile(name: str, rom_dir: Path, symbols_path: Path, score: str = "score",
                     score_encoding: str = "uint_le", **game: object) -> GameProfile:
    """A profile of one of our ROMs: variables and constants from its symbols file; `game_state` says play and
    game over (GAME_STATE_PLAY, GAME_STATE_GAME_OVER), the `score` variable (a little-endian binary number unless
    `score_encoding` says otherwise) gives the reward, `rng_state` takes the seed, START on the title starts play.
    `game` gives the rest (actions, action_names, lives)."""
    symbols = read_symbols(symbols_path)
    constants = {k: int(v) for k, v in symbols.get("constants", {}).items()}
    for needed in ("GAME_STATE_PLAY", "GAME_STATE_GAME_OVER"):
        if needed not in constants:
            raise ProfileError(f"{symbols_path} lacks the constant {needed}; rebuild with `make -C roms`")
    rom_path = rom_dir / symbols["rom"]
    return GameProfile(
        name=name,
        rom_path=rom_path,
        sha1=symbols["sha1"],
        variables=_variables_from_symbols(symbols),
        # The boot ROM hands over and the title loop runs by frame ~70; START is read on the next frame.
        start_sequence=(StartStep(frames=120), StartStep(frames=2, buttons=("start",))),
        in_play=Condition("game_state", "==", constants["GAME_STATE_PLAY"]),
        game_over=Condition("game_state", "==", constants["GAME_STATE_GAME_OVER"]),
        score=score,
        score_encoding=score_encoding,
        seed_variable="rng_state",
        build_hint=_build_hint(rom_path),
        constants=constants,
        **game,
    )


def breakout_profile() -> GameProfile:
    """Our Breakout ROM: title screen until START, then play with 3 balls; D-pad left/right move the paddle."""
    return _own_rom_profile(
        "breakout", BREAKOUT_DIR, BREAKOUT_SYMBOLS,
        lives="lives", actions=((), ("left",), ("right",)), action_names=("NOOP", "LEFT", "RIGHT"),
    )


def snake_profile() -> GameProfile:
    """Our Snake ROM: title screen until START, then one life; the D-pad turns the snake (a reversal is ignored)."""
    profile = _own_rom_profile(
        "snake", SNAKE_DIR, SNAKE_SYMBOLS,
        actions=((), ("up",), ("down",), ("left",), ("right",)),
        action_names=("NOOP", "UP", "DOWN", "LEFT", "RIGHT"),
    )
    c = profile.constants
    return dataclasses.replace(profile, grids=(Grid("board", c["GRID_WIDTH"], c["GRID_HEIGHT"],
                                                    markers=(("body_x[head_index]", "body_y[head_index]"),)),))


def pong_profile() -> GameProfile:
    """Our Pong ROM: title screen until START, then play to 7 points against the CPU; D-pad up/down move the
    player's paddle (left). The score is the player's points; there are no lives."""
    return _own_rom_profile(
        "pong", PONG_DIR, PONG_SYMBOLS, score="player_score",
        actions=((), ("up",), ("down",)), action_names=("NOOP", "UP", "DOWN"),
    )


def runner_profile() -> GameProfile:
    """Our side-scrolling runner: title until START, then run until an obstacle is hit; A jumps, DOWN ducks. The
    score is the distance run."""
    return _own_rom_profile(
        "runner", RUNNER_DIR, RUNNER_SYMBOLS, score="distance",
        actions=((), ("a",), ("down",)), action_names=("NOOP", "JUMP", "DUCK"),
    )


def shooter_profile() -> GameProfile:
    """Our fixed shooter ROM: title screen until START, then 3 cannons against waves of a marching formation;
    D-pad left/right move the cannon, A fires (one shot in flight at a time); the score is 6 BCD digits."""
    return _own_rom_profile(
        "shooter", SHOOTER_DIR, SHOOTER_SYMBOLS, score_encoding="bcd_le", lives="lives",
        actions=((), ("left",), ("right",), ("a",), ("left", "a"), ("right", "a")),
        action_names=("NOOP", "LEFT", "RIGHT", "FIRE", "LEFT+FIRE", "RIGHT+FIRE"),
    )


# ---------------------------------------------------------------------------------------------------------
# User profiles: JSON files in roms/.


def _parse_int(value, where: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)  # "0xC100" or "49408"
        except ValueError:
            pass
    raise ProfileError(f"{where}: expected an integer or a string like '0xC100', got {value!r}")


REQUIRED_PROFILE_KEYS = ("name", "rom", "sha1", "variables", "score", "start_sequence", "in_play", "game_over",
                         "actions")
PROFILE_KEYS = (*REQUIRED_PROFILE_KEYS, "score_encoding", "lives", "seed_variable", "action_names",
                "max_start_frames", "screen_lag_frames", "grids")
GRID_KEYS = ("array", "width", "height", "markers")
VARIABLE_KEYS = ("address", "size", "description", "signed")
START_STEP_KEYS = ("frames", "buttons")
CONDITION_KEYS = ("variable", "op", "value")


def _check_keys(mapping: dict, known: Sequence[str], where: str, typos_only: bool = False) -> None:
    """A ProfileError naming the first unknown key and the nearest known one (a typo must not pass silently
    and leave a default in its place). `typos_only`: only keys close to a known one (the caller explains the
    rest)."""
    for key in mapping:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if typos_only and not near:
                continue
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ProfileError(f"{where}: unknown key {key!r}; {hint}known keys: {list(known)}")


def _parse_condition(spec, where: str) -> Condition:
    if isinstance(spec, dict):
        _check_keys(spec, CONDITION_KEYS, where, typos_only=True)
    if not isinstance(spec, dict) or set(spec) != {"variable", "op", "value"}:
        raise ProfileError(f"{where}: expected {{'variable': NAME, 'op': '==', 'value': INT}}, got {spec!r}")
    return Condition(spec["variable"], spec["op"], _parse_int(spec["value"], where))


def load_profile_file(path: str | Path) -> GameProfile:
    """A profile from a JSON file. Example (every address a named variable; `rom` is relative to the file):

    {"name": "mygame", "rom": "mygame.gb", "sha1": "<40 hex digits>",
     "variables": {"score": {"address": "0xC0A0", "size": 2, "description": "BCD, low byte first"},
                   "lives": {"address": "0xC0A2"}, "mode": {"address": "0xC0A3"}},
     "score": "score", "score_encoding": "bcd_le", "lives": "lives",
     "start_sequence": [{"frames": 200}, {"frames": 5, "buttons": ["start"]}],
     "in_play": {"variable": "mode", "op": "==", "value": 1},
     "game_over": {"variable": "mode", "op": "==", "value": 3},
     "actions": [[], ["left"], ["right"], ["a"]], "action_names": ["NOOP", "LEFT", "RIGHT", "FIRE"]}
    Optional: "seed_variable" (a variable the reset writes a seeded random value to), "max_start_frames",
    "screen_lag_frames" (frames from a RAM write to the screen showing it, for 05's emulated render; default 2), and
    "signed": true on a variable of a signed type (read as two's complement), and "grids" (RAM arrays that picture
    the playfield, for the memory agent's grid network: `Grid`), e.g.
    [{"array": "board", "width": 18, "height": 14, "markers": [["body_x[head_index]", "body_y[head_index]"]]}].
    """
    path = Path(path)
    where = str(path)
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise UnknownProfileError(f"profile file {path} does not exist") from None
    except json.JSONDecodeError as err:
        raise ProfileError(f"{where} is not valid JSON: {err}") from None
    if not isinstance(spec, dict):
        raise ProfileError(f"{where} holds a JSON {type(spec).__name__}, not an object (see "
                           "gbc.profiles.load_profile_file for the format)")
    _check_keys(spec, PROFILE_KEYS, where)
    missing = [k for k in REQUIRED_PROFILE_KEYS if k not in spec]
    if missing:
        raise ProfileError(f"{where} lacks the keys {missing} (see gbc.profiles.load_profile_file for the format)")
    if not isinstance(spec["variables"], dict):
        raise ProfileError(f"{where}: variables must be an object of name -> {{\"address\": ...}}")
    for name, var in spec["variables"].items():
        if not isinstance(var, dict):
            raise ProfileError(f"{where}: variables.{name} must be an object like {{\"address\": \"0xC0A0\"}}")
        _check_keys(var, VARIABLE_KEYS, f"{where}: variables.{name}")
        if "address" not in var:
            raise ProfileError(f"{where}: variables.{name} has no \"address\"")
    steps = spec["start_sequence"]
    if not isinstance(steps, list):
        raise ProfileError(f"{where}: start_sequence must be a list of {{\"frames\": N, \"buttons\": [...]}}")
    for k, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ProfileError(f"{where}: start_sequence[{k}] must be an object like {{\"frames\": 120}}")
        _check_keys(step, START_STEP_KEYS, f"{where}: start_sequence[{k}]")
        if "frames" not in step:
            raise ProfileError(f"{where}: start_sequence[{k}] has no \"frames\" (how many frames to hold its buttons)")
    variables = {}
    for name, var in spec["variables"].items():
        variables[name] = Variable(
            name,
            _parse_int(var["address"], f"{where}: variables.{name}.address"),
            _parse_int(var.get("size", 1), f"{where}: variables.{name}.size"),
            var.get("description", ""),
            bool(var.get("signed", False)),
        )
    actions = tuple(tuple(a) for a in spec["actions"])
    grids = spec.get("grids", [])
    if not isinstance(grids, list) or not all(isinstance(g, dict) for g in grids):
        raise ProfileError(f"{where}: grids must be a list of {{\"array\": ..., \"width\": ..., \"height\": ...}}")
    for k, grid in enumerate(grids):
        _check_keys(grid, GRID_KEYS, f"{where}: grids[{k}]")
        if not {"array", "width", "height"} <= set(grid):
            raise ProfileError(f"{where}: grids[{k}] needs \"array\", \"width\" and \"height\"")
        if not all(isinstance(m, list) and len(m) == 2 for m in grid.get("markers", [])):
            raise ProfileError(f"{where}: grids[{k}].markers must be [column variable, row variable] pairs")
    return GameProfile(
        name=spec["name"],
        rom_path=(path.parent / spec["rom"]).resolve(),
        sha1=spec["sha1"],
        variables=variables,
        start_sequence=tuple(
            StartStep(_parse_int(s["frames"], f"{where}: start_sequence[{k}].frames"), tuple(s.get("buttons", ())))
            for k, s in enumerate(spec["start_sequence"])
        ),
        in_play=_parse_condition(spec["in_play"], f"{where}: in_play"),
        game_over=_parse_condition(spec["game_over"], f"{where}: game_over"),
        score=spec["score"],
        score_encoding=spec.get("score_encoding", "uint_le"),
        lives=spec.get("lives"),
        seed_variable=spec.get("seed_variable"),
        actions=actions,
        action_names=tuple(spec.get("action_names", ["+".join(a) or "NOOP" for a in actions])),
        max_start_frames=_parse_int(spec.get("max_start_frames", 3000), f"{where}: max_start_frames"),
        screen_lag_frames=_parse_int(spec.get("screen_lag_frames", DEFAULT_SCREEN_LAG_FRAMES),
                                     f"{where}: screen_lag_frames"),
        grids=tuple(Grid(g["array"], _parse_int(g["width"], f"{where}: grids[{k}].width"),
                         _parse_int(g["height"], f"{where}: grids[{k}].height"),
                         tuple((str(x), str(y)) for x, y in g.get("markers", [])))
                    for k, g in enumerate(grids)),
        build_hint=f"Place the ROM there ({path} expects it; ROMs directly in roms/ or under roms/user/ "
        "are git-ignored).",
    )


# ---------------------------------------------------------------------------------------------------------
# Registry.

_BUILTIN: dict[str, Callable[[], GameProfile]] = {
    "breakout": breakout_profile, "snake": snake_profile, "pong": pong_profile, "runner": runner_profile,
    "shooter": shooter_profile,
}


def builtin_profile_names() -> list[str]:
    """Our own games' profile names (their symbols files give every address)."""
    return list(_BUILTIN)


def _user_profile_files(roms_dir: Path) -> dict[str, Path]:
    """User profiles found in roms/, by the file name without `.profile.json`."""
    if not roms_dir.is_dir():
        return {}
    return {p.name[: -len(PROFILE_SUFFIX)]: p for p in sorted(roms_dir.rglob(f"*{PROFILE_SUFFIX}"))}


def known_profiles(roms_dir: Path = ROMS_DIR) -> list[str]:
    """Names `get_profile` accepts: the built-in ones and every roms/**/<name>.profile.json."""
    return sorted({*_BUILTIN, *_user_profile_files(roms_dir)})


def require_profile(profile: str | Path | GameProfile | None, env_id: str) -> str | Path | GameProfile:
    """`profile` itself; a clear ProfileError when an env that runs any profiled ROM was made without one."""
    if profile is None:
        raise ProfileError(
            f"{env_id} runs any profiled Game Boy ROM and needs to be told which: "
            f"gym.make(\"{env_id}\", profile=\"NAME\") with NAME one of {known_profiles()} or a path to a "
            f"{PROFILE_SUFFIX} file (GBCBreakout-v0 is {env_id} with profile=\"breakout\"; training scripts: "
            f"--env-kwargs '{{\"profile\": \"NAME\"}}'). To add a ROM, write roms/NAME{PROFILE_SUFFIX} "
            "(format: gbc.profiles.load_profile_file)"
        )
    return profile


def get_profile(name: str | Path | GameProfile, roms_dir: Path = ROMS_DIR) -> GameProfile:
    """A profile by name (built in, or roms/**/<name>.profile.json), by path to a profile JSON, or as given."""
    if isinstance(name, GameProfile):
        return name
    if isinstance(name, Path) or str(name).endswith(PROFILE_SUFFIX):
        return load_profile_file(name)
    if name in _BUILTIN:
        return _BUILTIN[name]()
    user_files = _user_profile_files(roms_dir)
    if name in user_files:
        return load_profile_file(user_files[name])
    raise UnknownProfileError(
        f"unknown game profile {name!r}; known profiles: {known_profiles(roms_dir)}. To add one, write "
        f"{roms_dir}/{name}{PROFILE_SUFFIX} (format: gbc.profiles.load_profile_file) beside your ROM"
    )
