"""Training presets: each agent's default settings (PPO, network, env kwargs per env id) and how to train it.

    from agents.presets import MemoryArgs, train_memory
    summary = train_memory(MemoryArgs(env_id="CartPole-v1", total_timesteps=150_000))

    from agents.presets import PRESETS
    preset = PRESETS["pixel"]            # .args_type, .env_kwargs, .train: what tune.py and bench_train.py use

Why the Args dataclasses live here rather than in scripts/02_train_memory.py and 03_train_pixel.py: the defaults
must exist once, and three kinds of reader need them: the training scripts (their command line), the tools that
train many runs from them (scripts/tune.py starts every study from the defaults, scripts/bench_train.py measures
them) and the tests. A default kept in a script could only reach the others by loading the script by path, and a
script overriding a default here would make tune and bench measure settings nobody trains with. So `MemoryArgs` and
`PixelArgs` below are the place a researcher reads and edits the defaults (each field documented, as on the command
line), and the scripts are `main(tyro.cli(MemoryArgs))`: `--help` of 02/03 prints these fields and defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from agents.trainer import PPOArgs, train
from breakout_py.errors import UserError
from breakout_py.files import json_text

# Env kwargs the memory agent gets when --env-kwargs is left empty. Breakout decides every 4 frames, as Atari agents
# do: measured here, PPO with the game's default 2 frames per step had not started to learn after 1M steps, with 4 it
# had. On the Game Boy the memory agent reads the bytes the extractor kept (step 01's spec committed beside each ROM);
# '{"obs_type": "ram"}' gives it the whole RAM instead. Other env ids (CartPole-v1) get no kwargs.
GBC_GAMES = ("GBCBreakout-v0", "GBCSnake-v0", "GBCPong-v0", "GBCRunner-v0", "GBCShooter-v0")  # our own ROMs
# On both Breakouts (and every Game Boy game) the state with each array counted as one feature ("arrays":
# breakout_py.env, gbc.extract.spec): with plain range scaling the 108 brick flags swamped the positions and the
# agent needed several times the steps (agents/trained/results/training_gbc.md, "Why the extracted state learned
# slower"; training_breakoutpy.md, "Brick flags scaled as one feature").
# The runner's, the shooter's and GBC Breakout's agents read each feature through thermometer inputs
# (gbc.extract.spec): with one input per feature the runner's hopped over every obstacle and died at half of them in
# every run tried (seeds, PPO settings, inputs, a shared trunk), though a clone of the scripted player on those inputs
# plays it; the shooter's reached 90% of its best 4x sooner (training_games.md, "The runner's memory agent:
# thermometer inputs"); on GBC Breakout three seeds reached 54 at 0.60-0.67M steps, where "arrays" stalled near 30 in
# 2 of 5 seeds and the raw RAM took 1.42-1.56M (training_gbc.md, "Thermometer inputs"). Pong and Snake keep "arrays",
# on which their shipped agents trained.
MEMORY_ENV_KWARGS = {"BreakoutPy-v0": {"obs_type": "state", "frame_skip": 4, "state_scaling": "arrays"},
                     **{env_id: {"obs_type": "state", "state_scaling": "arrays"} for env_id in GBC_GAMES},
                     **{env_id: {"obs_type": "state", "state_scaling": "thermometer"}
                        for env_id in ("GBCBreakout-v0", "GBCRunner-v0", "GBCShooter-v0")}}

# The memory agent's network per env id when --network is left empty (the MLP for envs not listed). Snake: the grid
# network over its board (agents.networks.GridAgent) played 7.33 a game after 6M steps (51 minutes here), the MLP on
# the same inputs 6.58 after 8M (58 minutes); both still far below the scripted player's 50.3 (training_games.md,
# "Snake: the board as a grid").
MEMORY_NETWORKS = {"GBCSnake-v0": "grid"}
MEMORY_NETWORK_KINDS = ("mlp", "grid")

# The memory agent's schedule length per env id when --total-timesteps is left at 0 (12M for envs not listed).
# Python Breakout, arrays scaling: three 24M-step seeds passed 195 at 4.6-7.6M steps and ended at 212-216, while a
# 12M-step run of seed 1 stalled near 30 (training_breakoutpy.md, "Brick flags scaled as one feature").
# The runner with thermometer inputs: 5M steps, 28 minutes alone here (training_games.md). GBC Breakout with
# thermometer inputs: 2.5M steps, 13-15 minutes here, 195-210 smoothed at the end (training_gbc.md). Snake with the
# grid network: 6M steps, 51 minutes here.
MEMORY_TOTAL_TIMESTEPS = {"BreakoutPy-v0": 24_000_000, "GBCBreakout-v0": 2_500_000, "GBCRunner-v0": 5_000_000,
                          "GBCSnake-v0": 6_000_000}
MEMORY_OTHER_TIMESTEPS = 12_000_000

# Env kwargs the pixel agent gets when --env-kwargs is left empty. Python Breakout: 42x42 frames (a 2x2-pixel ball
# still covers one pixel), 2 stacked frames (enough for the ball's direction), 4 frames per decision. Chosen by
# measured learning per CPU-second (agents/trained/results/tuning.md, "Pixel agent"): this frame and the two-layer
# CNN below learnt faster than 4 stacked 64x64 frames with the three-layer CNN, which update 5x slower per sample.
# The Game Boy games' 160x144 screens get the same 2 stacked 42x42 frames: the CNN updates 5.6x faster per frame
# than on 84x84 (the update is ~80% of the time), and the GBC Breakout ball still shows as a pixel of its own
# (agents/trained/results/training_speed.md, "GBC pixel agent: 42x42 frames"; the GBC agents shipped before were
# trained on 84x84 frames, which their model files record).
PIXEL_ENV_KWARGS = {"BreakoutPy-v0": {"obs_type": "pixels", "obs_size": 42, "frame_stack": 2, "frame_skip": 4},
                    **{env_id: {"obs_type": "pixels", "obs_size": 42, "frame_stack": 2, "frame_skip": 4}
                       for env_id in GBC_GAMES}}

# The pixel agent's schedule length per env id when --total-timesteps is left at 0 (9M for envs not listed).
# Python Breakout: what 2 hours of training buy on 2 CPU cores with the bfloat16 trunk (21M steps in 6,902 s at
# ~3,000 env steps/s; 146.9 in 100 greedy games, where the float32 run's 12M steps gave 104.5; training_breakoutpy.md,
# "The pixel agent in two hours with the bfloat16 trunk"). The Shooter, the Runner and Snake: about what an hour buys
# there (the shipped runs: 6.5M steps in 4,124 s, 4.5M in 3,573 s, 5.5M in 3,648 s, slower than Pong's 1,925 env
# steps/s; training_games.md).
PIXEL_TOTAL_TIMESTEPS = {"BreakoutPy-v0": 21_000_000, "GBCShooter-v0": 6_500_000, "GBCRunner-v0": 4_500_000,
                         "GBCSnake-v0": 5_500_000}
PIXEL_OTHER_TIMESTEPS = 9_000_000


@dataclass
class MemoryArgs(PPOArgs):
    """Train the memory agent: PPO with an MLP on the env's state/RAM vector."""

    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space and a flat observation"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments; empty: the env id's entry in MEMORY_ENV_KWARGS of agents/presets.py
    (none for other envs)"""
    total_timesteps: int = 0
    """env steps to train for (all sub-envs together); 0: the env id's entry in MEMORY_TOTAL_TIMESTEPS of
    agents/presets.py (BreakoutPy-v0 24M: 23-25 minutes measured with three runs sharing 2 CPU cores; GBCRunner-v0
    5M; GBCSnake-v0 6M), 12M for other envs"""
    num_envs: int = 64
    """parallel sub-envs (one batched forward pass per step for all of them)"""
    num_steps: int = 128
    """steps per sub-env in each rollout (64 x 128 = 8,192 steps per update)"""
    num_minibatches: int = 8
    """minibatches per epoch (1,024 steps each)"""
    update_epochs: int = 4
    """passes over each rollout"""
    learning_rate: float = 1e-3
    """Adam learning rate (eps 1e-5), annealed linearly to 0 over total_timesteps"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    torch_threads: int = 0
    """torch CPU threads; 0: automatic, which is 1 for this MLP (agents/cpu_threads.py; bench_train.py --threads 1 2
    measures others)"""
    video_interval: int = 1000
    """record one episode every this many iterations (about 8M steps), and after the last (0: never)"""
    network: str = ""
    """mlp: separate tanh MLPs for actor and critic (hidden_sizes); grid: for a game whose profile names a grid of
    its RAM (gbc.profiles.Grid, Snake's board), a conv stack over the grid beside the flat inputs (grid_channels,
    grid_hidden_size; agents.networks.GridAgent); empty: the env id's entry in MEMORY_NETWORKS of agents/presets.py,
    else mlp"""
    hidden_sizes: tuple[int, ...] = field(default_factory=lambda: (64, 64))
    """widths of the actor's and the critic's hidden layers (mlp)"""
    grid_channels: tuple[int, ...] = field(default_factory=lambda: (16, 16))
    """output channels of each 3x3 conv layer over the grid (grid; the first at stride 1, the others at stride 2)"""
    grid_hidden_size: int = 128
    """width of the ReLU layer shared by actor and critic (grid)"""


@dataclass
class PixelArgs(PPOArgs):
    """Train the pixel agent: PPO with a small CNN on stacked grey frames."""

    env_id: str = "BreakoutPy-v0"
    """a registered Gymnasium env id with a Discrete action space and uint8 (C, H, W) frames"""
    env_kwargs: str = ""
    """JSON object of env keyword arguments selecting pixel observations; empty: the env id's entry in
    PIXEL_ENV_KWARGS of agents/presets.py"""
    total_timesteps: int = 0
    """env steps to train for (all sub-envs together); 0: the env id's entry in PIXEL_TOTAL_TIMESTEPS of
    agents/presets.py (BreakoutPy-v0 21M: under 2 hours alone on 2 CPU cores with a
    bfloat16 trunk; GBCShooter-v0 6.5M, GBCRunner-v0 4.5M, GBCSnake-v0 5.5M: about an hour each), 9M for other
    envs"""
    num_envs: int = 64
    """parallel sub-envs (one batched forward pass per step for all of them)"""
    num_steps: int = 64
    """steps per sub-env in each rollout (64 x 64 = 4,096 steps per update)"""
    num_minibatches: int = 16
    """minibatches per epoch (256 frames each: on the CPU an update costs the same per frame from 256 to 1,024
    frames a minibatch, so small minibatches give 4x the gradient steps for the same time, as in ppo_atari.py)"""
    update_epochs: int = 4
    """passes over each rollout"""
    learning_rate: float = 2.5e-4
    """Adam learning rate (eps 1e-5), annealed linearly to 0 (ppo_atari.py's value)"""
    clip_coef: float = 0.1
    """surrogate (and value) clipping coefficient (ppo_atari.py's value)"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    torch_threads: int = 0
    """torch CPU threads; 0: automatic, which is 2 waiting passively (agents/cpu_threads.py): on an idle 2-core
    machine 2 threads trained 1.6x faster than 1, and sleeping rather than spinning threads keep a busy machine's
    cost near 1 thread's (agents/trained/results/training_speed.md)"""
    trunk_precision: str = "auto"
    """dtype of the conv trunk in training: auto is bfloat16 where the processor computes it natively (AVX-512 BF16,
    as this machine's), where the update ran 1.3-2.2x faster, else float32; heads, losses and weights stay float32
    (agents/trained/results/training_speed.md, "bfloat16 trunk")"""
    video_interval: int = 500
    """record one episode every this many iterations (about 2M steps), and after the last (0: never)"""
    channels: tuple[int, ...] = field(default_factory=lambda: (16, 32))
    """output channels of each conv layer"""
    kernels: tuple[int, ...] = field(default_factory=lambda: (4, 5))
    """kernel size of each conv layer"""
    strides: tuple[int, ...] = field(default_factory=lambda: (2, 3))
    """stride of each conv layer: a stride-2 first layer keeps the ball's height linearly readable (6x6 filters at
    stride 3 mixed ball and paddle: agents/trained/results/training_breakoutpy.md, "The pixel agent's first
    layer"), at 1.7x the update cost"""
    hidden_size: int = 128
    """width of the fully connected layer shared by actor and critic"""


def memory_network(args: MemoryArgs) -> dict[str, Any]:
    """The agents.networks config of the memory agent's network (sizes of observations and actions, and a grid
    network's layouts, filled by train)."""
    kind = args.network or MEMORY_NETWORKS.get(args.env_id, "mlp")
    if kind not in MEMORY_NETWORK_KINDS:
        raise UserError(f"--network must be one of {', '.join(MEMORY_NETWORK_KINDS)}, got {kind!r}")
    if kind == "grid":
        channels = [int(c) for c in args.grid_channels]
        return {"type": "grid", "channels": channels, "strides": [1] + [2] * (len(channels) - 1),
                "hidden_size": args.grid_hidden_size}
    return {"type": "mlp", "hidden_sizes": list(args.hidden_sizes)}


def pixel_network(args: PixelArgs) -> dict[str, Any]:
    """The agents.networks config of the pixel agent's CNN."""
    return {"type": "cnn", "channels": list(args.channels), "kernels": list(args.kernels),
            "strides": list(args.strides), "hidden_size": args.hidden_size}


@dataclass(frozen=True)
class Preset:
    """One agent's training preset: its Args type (the defaults), its env kwargs and schedule length per env id
    (for Args left empty / 0) and its network."""

    agent: str
    args_type: type[PPOArgs]
    env_kwargs: dict[str, dict[str, Any]]
    network: Callable[[Any], dict[str, Any]]
    total_timesteps: dict[str, int]
    other_total_timesteps: int

    def default_env_kwargs(self, env_id: str) -> dict[str, Any]:
        """The env kwargs an empty --env-kwargs means for `env_id` (a copy; {} for envs without a preset)."""
        return dict(self.env_kwargs.get(env_id, {}))

    def with_env_defaults(self, args: PPOArgs) -> PPOArgs:
        """`args` with an empty env_kwargs and a total_timesteps of 0 replaced by this preset's for args.env_id."""
        if not args.env_kwargs:
            args = dataclasses.replace(args, env_kwargs=json_text(self.default_env_kwargs(args.env_id)))
        if args.total_timesteps == 0:
            args = dataclasses.replace(
                args, total_timesteps=self.total_timesteps.get(args.env_id, self.other_total_timesteps))
        return args

    def train(self, args: PPOArgs, callback: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """Train (or resume) this agent with `args`; `callback` is agents.trainer.train's per-iteration hook."""
        args = self.with_env_defaults(args)
        return train(args, agent_name=self.agent, network=self.network(args), callback=callback)


PRESETS = {
    "memory": Preset("memory", MemoryArgs, MEMORY_ENV_KWARGS, memory_network, MEMORY_TOTAL_TIMESTEPS,
                     MEMORY_OTHER_TIMESTEPS),
    "pixel": Preset("pixel", PixelArgs, PIXEL_ENV_KWARGS, pixel_network, PIXEL_TOTAL_TIMESTEPS,
                    PIXEL_OTHER_TIMESTEPS),
}


def preset_of(agent: str) -> Preset:
    """The preset of `agent` ("memory" or "pixel"); a UserError naming the choices for anything else."""
    if agent not in PRESETS:
        raise UserError(f"unknown agent {agent!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[agent]


def train_memory(args: MemoryArgs, callback: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Train (or resume) the memory agent; see Preset.train."""
    return PRESETS["memory"].train(args, callback)


def train_pixel(args: PixelArgs, callback: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Train (or resume) the pixel agent; see Preset.train."""
    return PRESETS["pixel"].train(args, callback)
