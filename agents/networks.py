"""Actor-critic networks for PPO: an MLP for memory/state observations, a small CNN for pixels, and for a state
whose RAM pictures the playfield (Snake's board) a grid network: a conv stack over the decoded grid beside the MLP's
inputs.

All follow CleanRL (ppo.py, ppo_atari.py): orthogonal init with gain sqrt(2) for hidden layers, 0.01 for the
policy head (near-uniform initial policy) and 1 for the value head. Each network keeps the arguments that rebuild
it in `config`, so a checkpoint can be loaded without the script that trained it (`build_network`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn


def layer_init(layer: nn.Module, std: float = float(np.sqrt(2)), bias_const: float = 0.0) -> nn.Module:
    """Orthogonal weights with gain `std`, constant bias (CleanRL's layer_init)."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


def policy_outputs(logits: torch.Tensor, action: torch.Tensor | None):
    """Sample (when `action` is None), log-probability and entropy of a categorical policy.

    The same maths as torch.distributions.Categorical without its argument checks and object set-up, which cost more
    than the network itself on the small batches of a rollout step.
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    probs = log_probs.exp()
    if action is None:
        action = torch.multinomial(probs, 1).squeeze(-1)
    log_prob = log_probs.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
    entropy = -(probs * log_probs).sum(-1)
    return action, log_prob, entropy


class MLPAgent(nn.Module):
    """Separate tanh MLPs for actor and critic over a flat observation (CleanRL ppo.py).

    `input_scale` multiplies the observation before the first layer: the trainer sets it to 1/255 for uint8
    observations (RAM bytes), so every input lies in [0, 1] like the float state vectors, instead of reaching the
    tanh layers as 0-255 and saturating them. A fixed scale, not a running normaliser: the model needs no statistics
    beyond its weights, and a probe or a later run sees exactly the inputs training saw.
    """

    def __init__(self, obs_shape: Sequence[int], n_actions: int, hidden_sizes: Sequence[int] = (64, 64),
                 input_scale: float = 1.0):
        super().__init__()
        if len(obs_shape) != 1:
            raise ValueError(
                f"MLPAgent needs a flat observation of shape (D,), got {tuple(obs_shape)}; "
                "use the pixel agent (CNNAgent, scripts/03_train_pixel.py) for image observations"
            )
        if not hidden_sizes:
            raise ValueError("hidden_sizes must list at least one layer width, e.g. (64, 64)")
        if not input_scale > 0:
            raise ValueError(f"input_scale must be positive, got {input_scale!r}")
        self.config = {"type": "mlp", "obs_shape": list(obs_shape), "n_actions": int(n_actions),
                       "hidden_sizes": [int(h) for h in hidden_sizes], "input_scale": float(input_scale)}
        self.input_scale = float(input_scale)
        self.critic = self._mlp(obs_shape[0], hidden_sizes, 1, head_std=1.0)
        self.actor = self._mlp(obs_shape[0], hidden_sizes, n_actions, head_std=0.01)

    @staticmethod
    def _mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, head_std: float) -> nn.Sequential:
        layers: list[nn.Module] = []
        for width in hidden_sizes:
            layers += [layer_init(nn.Linear(in_dim, width)), nn.Tanh()]
            in_dim = width
        layers.append(layer_init(nn.Linear(in_dim, out_dim), std=head_std))
        return nn.Sequential(*layers)

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        return x * self.input_scale if self.input_scale != 1.0 else x

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(self._inputs(x))

    def policy_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.actor(self._inputs(x))

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        x = self._inputs(x)
        action, log_prob, entropy = policy_outputs(self.actor(x), action)
        return action, log_prob, entropy, self.critic(x)


class SharedTrunkAgent(nn.Module):
    """Actor and critic heads (`actor`, `critic`: linear layers) over one hidden layer both read, `shared_features`."""

    def shared_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(self.shared_features(x))

    def policy_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.actor(self.shared_features(x))

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        hidden = self.shared_features(x)
        action, log_prob, entropy = policy_outputs(self.actor(hidden), action)
        return action, log_prob, entropy, self.critic(hidden)


class CNNAgent(SharedTrunkAgent):
    """Conv trunk shared by actor and critic over uint8 (C, H, W) frames scaled to [0, 1] (CleanRL ppo_atari.py).

    `trunk_dtype` (not part of the config: a way of computing, not of the network) runs the conv layers and the
    shared fully connected layer under autocast in that dtype (the trainer sets torch.bfloat16 where the processor
    has it natively); the actor and critic heads, the losses and the weights stay float32, so a value of 200 keeps
    its precision. None (the default, as every loaded network has) computes everything in float32.
    """

    trunk_dtype: torch.dtype | None = None

    def __init__(
        self,
        obs_shape: Sequence[int],
        n_actions: int,
        channels: Sequence[int] = (16, 32, 32),
        kernels: Sequence[int] = (8, 4, 3),
        strides: Sequence[int] = (4, 2, 1),
        hidden_size: int = 256,
    ):
        super().__init__()
        if len(obs_shape) != 3:
            raise ValueError(
                f"CNNAgent needs channel-first image observations (C, H, W), got shape {tuple(obs_shape)}; "
                "pass the env's pixel mode (e.g. --env-kwargs '{\"obs_type\": \"pixels\"}')"
            )
        if not (len(channels) == len(kernels) == len(strides)) or not channels:
            raise ValueError(
                f"channels, kernels and strides need one entry per conv layer, got {channels}, {kernels}, {strides}"
            )
        self.config = {"type": "cnn", "obs_shape": list(obs_shape), "n_actions": int(n_actions),
                       "channels": [int(c) for c in channels], "kernels": [int(k) for k in kernels],
                       "strides": [int(s) for s in strides], "hidden_size": int(hidden_size)}
        layers: list[nn.Module] = []
        in_channels = obs_shape[0]
        for out_channels, kernel, stride in zip(channels, kernels, strides):
            layers += [layer_init(nn.Conv2d(in_channels, out_channels, kernel, stride)), nn.ReLU()]
            in_channels = out_channels
        conv = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            try:
                flat = conv(torch.zeros(1, *obs_shape)).shape[1]
            except RuntimeError as err:
                raise ValueError(
                    f"the conv stack (kernels {kernels}, strides {strides}) does not fit a {tuple(obs_shape[1:])} "
                    f"image: {err}; use smaller kernels/strides or a larger obs_size"
                ) from err
        self.network = nn.Sequential(conv, layer_init(nn.Linear(flat, hidden_size)), nn.ReLU())
        self.actor = layer_init(nn.Linear(hidden_size, n_actions), std=0.01)
        self.critic = layer_init(nn.Linear(hidden_size, 1), std=1.0)

    def shared_features(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden layer that actor and critic both read."""
        if self.trunk_dtype is None:
            return self.network(x.float() / 255.0)
        with torch.autocast(x.device.type, dtype=self.trunk_dtype):
            return self.network(x.float() / 255.0).float()


class GridAgent(SharedTrunkAgent):
    """The memory agent's network for a game whose RAM holds a picture of its playfield (gbc.profiles.Grid): each
    grid's cells, decoded from the flat state observation back to their bytes, become planes (one per non-zero code,
    one per marker such as the snake's head) under a small conv stack; its features and the flat observation itself
    feed one ReLU layer shared by actor and critic.

    Why: Snake's scripted player plans around its own body, and the MLP on the 781 inputs, fitted to the script's
    actions, played 7.8 a game where this network played 10.35 on the same recorded games
    (agents/trained/results/training_games.md, "Snake: the board as a grid"). Each grid layout (what
    `gbc.env.GameBoyEnv.grid_layouts` gives) is part of the config, so a saved agent runs without profile or spec.
    The planes are exact codes (a rounded decode), so no gradient flows through them: gradient x input sees the
    grids' bytes only through the flat path, while permutation importance sees both.
    """

    def __init__(self, obs_shape: Sequence[int], n_actions: int, grids: Sequence[dict[str, Any]],
                 channels: Sequence[int] = (16, 16), strides: Sequence[int] = (1, 2), hidden_size: int = 128):
        super().__init__()
        if len(obs_shape) != 1:
            raise ValueError(f"GridAgent reads a flat state observation (D,), got shape {tuple(obs_shape)}")
        if not grids:
            raise ValueError("GridAgent needs at least one grid layout (gbc.env.GameBoyEnv.grid_layouts)")
        if len(channels) != len(strides) or not channels:
            raise ValueError(f"channels and strides need one entry per conv layer, got {channels}, {strides}")
        self.config = {"type": "grid", "obs_shape": list(obs_shape), "n_actions": int(n_actions),
                       "grids": [dict(g) for g in grids], "channels": [int(c) for c in channels],
                       "strides": [int(s) for s in strides], "hidden_size": int(hidden_size)}
        self.shapes, self.codes, self.markers = [], [], []
        trunks, flat = [], obs_shape[0]
        for k, grid in enumerate(grids):
            cells = np.asarray(grid["cells"], np.int64)
            shape = (int(grid["height"]), int(grid["width"]))
            if len(cells) != shape[0] * shape[1] or cells.max() >= obs_shape[0]:
                raise ValueError(f"grid {grid.get('name', k)!r} lists {len(cells)} cells for {shape[0]} x {shape[1]} "
                                 f"or a column past the observation's {obs_shape[0]}")
            self.register_buffer(f"cells{k}", torch.as_tensor(np.maximum(cells, 0)))
            self.register_buffer(f"kept{k}", torch.as_tensor(cells >= 0, dtype=torch.float32))
            self.register_buffer(f"low{k}", torch.as_tensor(grid["cell_low"], dtype=torch.float32))
            self.register_buffer(f"span{k}", torch.as_tensor(grid["cell_span"], dtype=torch.float32))
            self.shapes.append(shape)
            self.codes.append([float(c) for c in grid["codes"]])
            self.markers.append([(int(m["x"]), float(m["x_low"]), float(m["x_span"]),
                                  int(m["y"]), float(m["y_low"]), float(m["y_span"])) for m in grid["markers"]])
            layers: list[nn.Module] = []
            in_channels = len(grid["codes"]) + len(grid["markers"])
            for out_channels, stride in zip(channels, strides):
                layers += [layer_init(nn.Conv2d(in_channels, out_channels, 3, stride, padding=1)), nn.ReLU()]
                in_channels = out_channels
            trunk = nn.Sequential(*layers, nn.Flatten())
            with torch.no_grad():
                flat += trunk(torch.zeros(1, len(grid["codes"]) + len(grid["markers"]), *shape)).shape[1]
            trunks.append(trunk)
        self.trunks = nn.ModuleList(trunks)
        self.network = nn.Sequential(layer_init(nn.Linear(flat, hidden_size)), nn.ReLU())
        self.actor = layer_init(nn.Linear(hidden_size, n_actions), std=0.01)
        self.critic = layer_init(nn.Linear(hidden_size, 1), std=1.0)

    def planes(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(N, codes + markers, height, width) 0/1 planes of grid k from observations x (N, D)."""
        height, width = self.shapes[k]
        cells, low, span, kept = (getattr(self, f"{name}{k}") for name in ("cells", "low", "span", "kept"))
        value = torch.round(x[:, cells] * span + low) * kept
        planes = [(value == code).float() for code in self.codes[k]]
        rows = torch.arange(len(x), device=x.device)
        for column, x_low, x_span, row, y_low, y_span in self.markers[k]:
            cx = torch.round(x[:, column] * x_span + x_low).long().clamp(0, width - 1)
            cy = torch.round(x[:, row] * y_span + y_low).long().clamp(0, height - 1)
            plane = torch.zeros(len(x), height * width, device=x.device)
            plane[rows, cy * width + cx] = 1.0
            planes.append(plane)
        return torch.stack(planes, 1).view(len(x), -1, height, width)

    def shared_features(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden layer that actor and critic both read."""
        x = x.float()
        parts = [trunk(self.planes(x, k)) for k, trunk in enumerate(self.trunks)]
        return self.network(torch.cat([*parts, x], 1))


NETWORKS = {"mlp": MLPAgent, "cnn": CNNAgent, "grid": GridAgent}
TRUNK_PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 natively (AVX-512 BF16 or AMX on a CPU; a CUDA GPU that supports it),
    where bfloat16 convolutions run about twice as fast as float32 ones; elsewhere they are emulated and slower."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's probes (private, hence getattr)
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def trunk_dtype_for(precision: str, device: torch.device) -> torch.dtype | None:
    """The CNN trunk's autocast dtype for a `trunk_precision` setting: None (float32) or torch.bfloat16; "auto"
    picks bfloat16 where `native_bfloat16(device)`."""
    if precision not in TRUNK_PRECISIONS:
        raise ValueError(f"trunk precision must be one of {TRUNK_PRECISIONS}, got {precision!r}")
    if precision == "bfloat16" or (precision == "auto" and native_bfloat16(device)):
        return torch.bfloat16
    return None


def trunk_dtype_name(agent: nn.Module) -> str:
    """"bfloat16" when `agent` is a CNN whose trunk computes in bfloat16, else "float32" (what run records say)."""
    return "bfloat16" if getattr(agent, "trunk_dtype", None) is torch.bfloat16 else "float32"


def build_network(config: dict[str, Any]) -> nn.Module:
    """Rebuild a network from its `config` (as stored in checkpoints)."""
    kwargs = dict(config)
    kind = kwargs.pop("type", None)
    if kind not in NETWORKS:
        raise ValueError(f"unknown network type {kind!r} in config; expected one of {sorted(NETWORKS)}")
    return NETWORKS[kind](**kwargs)
