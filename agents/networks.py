"""Actor-critic networks for PPO: an MLP for memory/state observations and a small CNN for pixels.

Both follow CleanRL (ppo.py, ppo_atari.py): orthogonal init with gain sqrt(2) for hidden layers, 0.01 for the
policy head (near-uniform initial policy) and 1 for the value head. Each network keeps the arguments that rebuild
it in `config`, so a checkpoint can be loaded without the script that trained it (`build_network`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical


def layer_init(layer: nn.Module, std: float = float(np.sqrt(2)), bias_const: float = 0.0) -> nn.Module:
    """Orthogonal weights with gain `std`, constant bias (CleanRL's layer_init)."""
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class MLPAgent(nn.Module):
    """Separate tanh MLPs for actor and critic over a flat float observation (CleanRL ppo.py)."""

    def __init__(self, obs_shape: Sequence[int], n_actions: int, hidden_sizes: Sequence[int] = (64, 64)):
        super().__init__()
        if len(obs_shape) != 1:
            raise ValueError(
                f"MLPAgent needs a flat observation of shape (D,), got {tuple(obs_shape)}; "
                "use the pixel agent (CNNAgent, scripts/03_train_pixel.py) for image observations"
            )
        if not hidden_sizes:
            raise ValueError("hidden_sizes must list at least one layer width, e.g. (64, 64)")
        self.config = {"type": "mlp", "obs_shape": list(obs_shape), "n_actions": int(n_actions),
                       "hidden_sizes": [int(h) for h in hidden_sizes]}
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

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x.float())

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        x = x.float()
        probs = Categorical(logits=self.actor(x))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


class CNNAgent(nn.Module):
    """Conv trunk shared by actor and critic over uint8 (C, H, W) frames scaled to [0, 1] (CleanRL ppo_atari.py)."""

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

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x.float() / 255.0)

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(self._features(x))

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        hidden = self._features(x)
        probs = Categorical(logits=self.actor(hidden))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(hidden)


NETWORKS = {"mlp": MLPAgent, "cnn": CNNAgent}


def build_network(config: dict[str, Any]) -> nn.Module:
    """Rebuild a network from its `config` (as stored in checkpoints)."""
    kwargs = dict(config)
    kind = kwargs.pop("type", None)
    if kind not in NETWORKS:
        raise ValueError(f"unknown network type {kind!r} in config; expected one of {sorted(NETWORKS)}")
    return NETWORKS[kind](**kwargs)
