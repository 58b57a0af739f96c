"""Hand-written PPO (CleanRL's recipe) with an MLP memory agent and a CNN pixel agent."""

# First: it sets OMP_WAIT_POLICY before torch loads OpenMP (agents/cpu_threads.py says why).
from agents.cpu_threads import use_torch_threads  # isort: skip
from agents.checkpoint import CheckpointError, load_agent
from agents.networks import CNNAgent, MLPAgent, build_network, layer_init
from agents.ppo import compute_gae, ppo_loss, ppo_update
from agents.trainer import PPOArgs, make_vec_env, train

__all__ = [
    "CNNAgent", "CheckpointError", "MLPAgent", "PPOArgs", "build_network", "compute_gae", "layer_init",
    "load_agent", "make_vec_env", "ppo_loss", "ppo_update", "train", "use_torch_threads",
]
