"""Hand-written PPO (CleanRL's recipe) with an MLP memory agent and a CNN pixel agent."""

from agents.checkpoint import CheckpointError, load_agent
from agents.networks import CNNAgent, MLPAgent, build_network, layer_init
from agents.ppo import compute_gae, ppo_loss, ppo_update
from agents.trainer import PPOArgs, make_vec_env, train

__all__ = [
    "CNNAgent", "CheckpointError", "MLPAgent", "PPOArgs", "build_network", "compute_gae", "layer_init",
    "load_agent", "make_vec_env", "ppo_loss", "ppo_update", "train",
]
