"""The PPO maths: GAE, the clipped losses and one update over a rollout (CleanRL's ppo.py, split into functions).

Rollout tensors have shape (num_steps, num_envs). Index t holds the step taken from obs[t]:
`terminations[t]` / `dones[t]` say whether *that* step ended the episode (game over / game over or time limit), and
`valid[t]` is 0 for the dummy step a NEXT_STEP-autoreset vector env takes right after an episode ends (the env
ignores the action and returns the reset observation); such steps are never learned from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_value: torch.Tensor,
    terminations: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and returns.

    The value of the state after step t is `values[t + 1]` (`next_value` after the last step). With NEXT_STEP
    autoreset the observation after an episode's last step is that episode's final observation, so a truncated step
    bootstraps from V(final obs) with no extra forward pass; `terminations` cuts the bootstrap and `dones` cuts the
    advantage chain at every episode end.
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(next_value)
    for t in reversed(range(num_steps)):
        next_values = next_value if t == num_steps - 1 else values[t + 1]
        delta = rewards[t] + gamma * next_values * (1.0 - terminations[t]) - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * (1.0 - dones[t]) * lastgaelam
    return advantages, advantages + values


@dataclass
class PPOLoss:
    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    old_approx_kl: torch.Tensor
    clipfrac: torch.Tensor


def ppo_loss(
    new_logprob: torch.Tensor,
    old_logprob: torch.Tensor,
    advantages: torch.Tensor,
    new_value: torch.Tensor,
    old_value: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor,
    clip_coef: float,
    clip_vloss: bool,
    ent_coef: float,
    vf_coef: float,
) -> PPOLoss:
    """Clipped surrogate policy loss, (optionally clipped) value loss and entropy bonus on one minibatch."""
    logratio = new_logprob - old_logprob
    ratio = logratio.exp()
    with torch.no_grad():
        # http://joschu.net/blog/kl-approx.html
        old_approx_kl = (-logratio).mean()
        approx_kl = ((ratio - 1) - logratio).mean()
        clipfrac = ((ratio - 1.0).abs() > clip_coef).float().mean()

    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    policy_loss = torch.max(pg_loss1, pg_loss2).mean()

    if clip_vloss:
        v_loss_unclipped = (new_value - returns) ** 2
        v_clipped = old_value + torch.clamp(new_value - old_value, -clip_coef, clip_coef)
        v_loss_clipped = (v_clipped - returns) ** 2
        value_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
    else:
        value_loss = 0.5 * ((new_value - returns) ** 2).mean()

    entropy_mean = entropy.mean()
    loss = policy_loss - ent_coef * entropy_mean + vf_coef * value_loss
    return PPOLoss(loss, policy_loss, value_loss, entropy_mean, approx_kl, old_approx_kl, clipfrac)


def explained_variance(values: np.ndarray, returns: np.ndarray) -> float:
    """1 - Var(returns - values) / Var(returns); nan when the returns do not vary."""
    var_returns = np.var(returns)
    return float("nan") if var_returns == 0 else float(1 - np.var(returns - values) / var_returns)


@dataclass
class Rollout:
    """A flattened rollout: one row per env step, `valid` marks the rows to learn from."""

    obs: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    valid: np.ndarray


def ppo_update(
    agent: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: Rollout,
    rng: np.random.Generator,
    update_epochs: int,
    num_minibatches: int,
    clip_coef: float,
    clip_vloss: bool,
    ent_coef: float,
    vf_coef: float,
    max_grad_norm: float,
    norm_adv: bool = True,
    target_kl: float | None = None,
) -> dict[str, float]:
    """Shuffled minibatch epochs over the valid rows of `batch`; returns CleanRL's loss statistics."""
    valid_rows = np.flatnonzero(batch.valid)
    if len(valid_rows) < num_minibatches:
        raise ValueError(f"only {len(valid_rows)} valid steps for {num_minibatches} minibatches; collect more steps")
    clipfracs = []
    for _epoch in range(update_epochs):
        for mb_inds in np.array_split(rng.permutation(valid_rows), num_minibatches):
            mb = torch.as_tensor(mb_inds, device=batch.actions.device)
            _, new_logprob, entropy, new_value = agent.get_action_and_value(batch.obs[mb], batch.actions[mb])
            mb_advantages = batch.advantages[mb]
            if norm_adv and len(mb_inds) > 1:
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            out = ppo_loss(new_logprob, batch.logprobs[mb], mb_advantages, new_value.view(-1), batch.values[mb],
                           batch.returns[mb], entropy, clip_coef, clip_vloss, ent_coef, vf_coef)
            optimizer.zero_grad()
            out.loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), max_grad_norm)
            optimizer.step()
            clipfracs.append(out.clipfrac.item())
        if target_kl is not None and out.approx_kl.item() > target_kl:
            break

    values = batch.values[valid_rows].cpu().numpy()
    returns = batch.returns[valid_rows].cpu().numpy()
    return {
        "losses/value_loss": out.value_loss.item(),
        "losses/policy_loss": out.policy_loss.item(),
        "losses/entropy": out.entropy.item(),
        "losses/old_approx_kl": out.old_approx_kl.item(),
        "losses/approx_kl": out.approx_kl.item(),
        "losses/clipfrac": float(np.mean(clipfracs)),
        "losses/explained_variance": explained_variance(values, returns),
    }
