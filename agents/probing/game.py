"""What a game must supply to step 07, and the sizes of a probing run: the one interface between the
game-independent core (pipeline, causal, bars, outputs) and a game adapter (python_breakout, gbc_game).

A game adapter is a module-level object satisfying `GameAdapter`:

- `env_id` and `defaults`: the env it probes and its values of ProbeConfig's game-dependent fields (those that
  default to None, e.g. fewer games for GBC, whose emulated frames are about 100x slower to draw);
- `check_checkpoint(agent, checkpoint, source) -> ProbeSetup`: ProbeError unless the checkpoint is a pixel agent
  of that env whose network takes its frames;
- `spec(config, play=None) -> GameSpec`: the variables (names, which are 0/1 flags, where each lives, its family,
  array variables laid out as grids such as the 6x18 wall of bricks), the key variables of the R^2 bar, and the
  actions and predicted signs of the causal check (which action is RIGHT and LEFT); called once before play (for
  the names) and once with the play, for what a game measures on it (agents.probing.gbc_game);
- `play(agent, setup, config)` then `build_samples(play, setup, config) -> GameSamples`: the agent's own play and
  the sweeps made from it, as frame stacks with the value of every variable;
- `high_low_masks(samples, k)` and `screen_regions(samples, max_bases)`: samples with a high and a low value of
  variable k (for its mean-difference direction), and the screen pixels each variable's perturbations change;
- `screen_perturbations(play, setup, k, states, count) -> ScreenPerturbations`: variable k perturbed (about
  `count` values) in the play samples `states` (indices into play, as GameSamples.base): the network's input of
  each state and of each perturbed version, and the fraction of perturbations that changed each pixel of the game's
  own screen (the reference of agents.probing.screen_maps).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

import numpy as np
import torch.nn as nn

from agents.probing.probes import ProbeError
from agents.probing.screen_maps import ScreenPerturbations

KIND_PLAY = 0  # GameSamples.kind of a sample from the agent's own play; other kinds are the game's sweeps
KEY_VARIABLES_TOP = 6  # step 06's top features that become the probe's key variables


@dataclass
class ProbeConfig:
    """Sizes and seeds of one probing run, each documented at its field. A field left at None takes the game's
    default (GameAdapter.defaults, filled in by `with_game_defaults`), given here as Python Breakout / GBC."""

    num_games: Optional[int] = None
    """games played in parallel to collect states; None: the game's default (32 Python Breakout, 8 GBC)"""
    num_steps: Optional[int] = None
    """agent steps played in each game; None: the game's default (1,600 / 600)"""
    keep_every: Optional[int] = None
    """keep every k-th step of each game, consecutive steps being near-duplicates; None: the game's default
    (16 / 6)"""
    num_bases: Optional[int] = None
    """play states that every variable is swept in; None: the game's default (240 / 96)"""
    sweep_count: int = 8
    """values per swept variable (over its observed range)"""
    brick_patterns: int = 6
    """random walls (each brick present with probability 1/2) per base state (Python Breakout)"""
    joint_positions: Optional[int] = None
    """per base state: random joint placements of the game's positions over their observed box (Python Breakout:
    ball and paddle; a Game Boy game: every variable measured as a drawn position), since a place is read linearly
    only where the probe has seen it and play rarely shows e.g. the ball right above the paddle; None: the game's
    default (64 / 24)"""
    toggle_bases: int = 4
    """base states in which each brick is flipped on its own (brick screen regions, mean differences; Python
    Breakout)"""
    max_train: int = 20000
    """at most this many training samples per probe (a random subset; the defaults give about 10,000)"""
    pcs: int = 256
    """logistic probes run on this many principal components of the layer"""
    layers: tuple[str, ...] = ()
    """layers to probe (conv1, fc1, actor, ... or module paths); empty: all"""
    variables: tuple[str, ...] = ()
    """variables to probe (the game's names, e.g. breakout_py.STATE_NAMES); empty: all"""
    causal_variables: Optional[tuple[str, ...]] = None
    """variables of the causal check (steering; those with a predicted policy direction, e.g. ball_x and paddle_x,
    also get the predicted-direction test); None: the game's default (every scalar of Python Breakout; the key
    variables of a Game Boy game)"""
    key_variables_csv: str = ""
    """step 06's key_variables.csv, whose top variables become the key variables (R^2 bar, causal check of a Game
    Boy game, screen maps); empty: artifacts/key_variables/<env id>/shipped_memory/key_variables.csv when it exists,
    else the game's on-screen positions (`key_variables_of`)"""
    causal_states: Optional[int] = None
    """held-out play states per seed of the causal check; None: the game's default (64 / 48)"""
    causal_seeds: int = 3
    """seeds of the causal check (each: its own states and random directions)"""
    random_directions: int = 4
    """equal-norm random directions per seed"""
    alpha_scale: float = 1.0
    """steering strength, in units of the layer's mean activation difference between high and low values"""
    region_bases: int = 32
    """base states whose perturbations make the screen-region maps; also the most held-out play states of the
    function-vector screen maps (agents.probing.screen_maps)"""
    examples: int = 4
    """example states whose every activation step 08 draws"""
    group_steps: Optional[int] = None
    """consecutive agent steps of one game that form a block; splits hold out whole blocks; None: the game's default
    (64 / 60)"""
    seed: int = 0
    """seed of play, sampling, splits, random directions and the random-weights control"""


GAME_DEPENDENT = tuple(f.name for f in fields(ProbeConfig) if f.default is None)


def with_game_defaults(config: ProbeConfig, defaults: dict[str, Any]) -> ProbeConfig:
    """`config` with every field left at None set to the game's default."""
    return replace(config, **{name: defaults[name] for name in GAME_DEPENDENT if getattr(config, name) is None})


@dataclass(frozen=True)
class ProbeSetup:
    """What the agent saw: env id and kwargs from its checkpoint, and the frame geometry they imply."""

    env_id: str
    env_kwargs: dict[str, Any]
    obs_size: int
    frame_stack: int
    frame_skip: int
    action_meanings: tuple[str, ...]

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        return self.frame_stack, self.obs_size, self.obs_size


@dataclass(frozen=True)
class ArrayLayout:
    """An array variable of the game shown as a grid (the wall of bricks): its elements' names, row-major."""

    shape: tuple[int, int]
    names: tuple[str, ...]  # rows * cols names; "" where the game kept no variable for that element


@dataclass(frozen=True)
class GameSpec:
    """A game's variables (the target columns, in order) and what the bars and the causal check need of them."""

    names: tuple[str, ...]
    binary: tuple[bool, ...]  # per variable: a 0/1 flag (logistic probe) or a quantity (ridge)
    addresses: dict[str, str]  # where each variable lives: state[i] (Python Breakout), its RAM address (GBC)
    families: dict[str, str]  # per variable: its family or kind (the report's colours: report.FAMILY_COLOURS)
    kinds: dict[str, str]  # per variable: position, velocity, counter, flag, array element or value (games.html)
    arrays: dict[str, ArrayLayout]  # title ("Bricks") -> layout; every other variable is a scalar
    key_variables: tuple[str, ...]  # the R^2 bar: some layer reads each with R^2 >= 0.9, above the control
    policy_signs: dict[str, int]  # variable -> +1 if pushing it up should move the policy toward `toward`, -1 away
    toward: str  # the action meanings whose log-odds the causal check measures (RIGHT over LEFT)
    away: str
    causal_subset: str  # name of GameSamples.causal_subset (a column suffix of causal.csv)
    key_source: str = "the game's adapter"  # where key_variables came from (summary.json)
    # the key variables the R^2 bar holds to (the bar: every on-screen position among them); None: all of them
    r2_bar_variables: Optional[tuple[str, ...]] = None

    @property
    def r2_bar(self) -> tuple[str, ...]:
        return self.key_variables if self.r2_bar_variables is None else self.r2_bar_variables

    @property
    def scalars(self) -> list[str]:
        members = {name for layout in self.arrays.values() for name in layout.names}
        return [name for name in self.names if name not in members]


@dataclass
class GameSamples:
    """Every probe sample of a game: its frame stack, the value of every variable, and where it came from."""

    obs: np.ndarray  # (N, frame_stack, S, S) uint8
    targets: np.ndarray  # (N, K) float32, columns GameSpec.names
    kind: np.ndarray  # (N,) KIND_PLAY or one of the game's sweep kinds
    kind_names: tuple[str, ...]  # name of each kind, indexed by kind
    variable: np.ndarray  # (N,) column of the swept variable, -1 where none
    base: np.ndarray  # (N,) row of the play sample it was made from (itself for play)
    group: np.ndarray  # (N,) block of play it comes from (splits hold out whole blocks)
    sweep_source: dict[str, str]  # per variable: how its values were varied ("observed", "full", "play only")
    in_flight: np.ndarray  # (N,) the ball is in flight: example states are drawn from these
    causal_subset: np.ndarray  # (N,) the subset the causal check also scores apart (GameSpec.causal_subset)
    episodes: int  # games finished while collecting play
    mean_score: float  # their mean score (nan if none)


class GameAdapter(Protocol):
    """What a game supplies to step 07 (see the module docstring)."""

    env_id: str
    defaults: dict[str, Any]  # a value for each of GAME_DEPENDENT

    def check_checkpoint(self, agent: nn.Module, checkpoint: dict[str, Any], source: str) -> ProbeSetup: ...

    def spec(self, config: ProbeConfig, play: Any = None) -> GameSpec: ...

    def play(self, agent: nn.Module, setup: ProbeSetup, config: ProbeConfig) -> Any: ...

    def build_samples(self, play: Any, setup: ProbeSetup, config: ProbeConfig) -> GameSamples: ...

    def high_low_masks(self, samples: GameSamples, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def screen_regions(self, samples: GameSamples, max_bases: int) -> tuple[np.ndarray, np.ndarray]: ...

    def screen_perturbations(self, play: Any, setup: ProbeSetup, k: int, states: np.ndarray,
                             count: int) -> ScreenPerturbations: ...


def default_key_variables_csv(env_id: str) -> Path:
    """Where step 06 writes the shipped memory agent's key variables (scripts/06_key_variables.py)."""
    return Path("artifacts") / "key_variables" / env_id.replace("/", "-") / "shipped_memory" / "key_variables.csv"


def key_variables_of(config: ProbeConfig | None, env_id: str, owner_of: Callable[[str], Optional[str]],
                     top: int = KEY_VARIABLES_TOP) -> tuple[tuple[str, ...], str] | None:
    """The probe variables holding step 06's top `top` features, by rank, and where they came from; None when there
    is no step 06 file (config.key_variables_csv, else the shipped agent's default). `owner_of` maps a feature's
    first address (a column of key_variables.csv) to the probe variable holding it, None if none does."""
    given = config is not None and config.key_variables_csv
    path = Path(config.key_variables_csv) if given else default_key_variables_csv(env_id)
    if not path.is_file():
        if given:
            raise ProbeError(f"--key-variables-csv {path} does not exist; run scripts/06_key_variables.py or "
                             "leave it empty")
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"addresses", "rank"} <= set(rows[0]):
        raise ProbeError(f"{path} is not a key_variables.csv of scripts/06_key_variables.py (no addresses/rank)")
    out: list[str] = []
    for row in sorted(rows, key=lambda row: int(row["rank"])):
        if row.get("kind") == "grid":  # a whole picture of the playfield (a grid network's input), not a variable
            continue
        owner = owner_of(row["addresses"].split()[0])
        if owner is not None and owner not in out:
            out.append(owner)
        if len(out) == top:
            break
    return tuple(out), f"step 06: {path}"


def check_actions(spec: GameSpec, setup: ProbeSetup) -> tuple[int, int]:
    """Indices of the causal check's two actions in the agent's action meanings."""
    missing = [name for name in (spec.toward, spec.away) if name not in setup.action_meanings]
    if missing:
        raise ProbeError(f"{setup.env_id} has no action {missing}; its actions are {list(setup.action_meanings)}")
    return setup.action_meanings.index(spec.toward), setup.action_meanings.index(spec.away)
