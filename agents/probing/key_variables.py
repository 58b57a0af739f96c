"""Step 06's core: which inputs a trained memory agent uses, by permutation importance on held-out play states.

Game-independent: it takes a memory agent (agents.networks.MLPAgent or GridAgent), a matrix of held-out observations
(one row per state, one column per input) and one `Feature` per column (name, addresses, symbol name when known,
extractor kind), or per group of columns where a feature is read through several inputs (a state spec's thermometer
inputs: the group is shuffled together, as one value). Which features an env has and how its play states are
recorded live in agents.probing.key_variable_games.

- Permutation importance: a feature's column is replaced by its values in other states (a within-column shuffle,
  `repeats` times); per state, the policy importance is KL(policy(original) || policy(permuted)) and the value
  importance |V(original) - V(permuted)|, each averaged over the repeats. The feature's importances are their means
  over states, with a 95% bootstrap interval over states for the policy's.
- Gradient x input, a second opinion: mean over states of |d log pi(a* | x) / d x_j * x_j|, a* the state's most
  probable action, x the network's input (after its input scale); a feature's inputs summed inside the | |.
- Rank: by policy importance, largest first.

A shuffle changes only one feature's inputs, so in an MLP only the first layer's pre-activation moves, by
(x'_J - x_J) W[:, J]: the code reuses the pre-activation of the original states and runs the rest of each MLP per
feature. Any other network (the grid network) runs whole on each shuffled copy. A column that is constant over the
states cannot be shuffled into anything else and scores exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn

from breakout_py.errors import UserError
from breakout_py.files import atomic_path, write_json, write_table

CSV_HEADER = ("feature", "addresses", "symbol", "kind", "policy_importance", "ci_low", "ci_high", "value_importance",
              "grad_x_input", "rank")
GRAD_X_INPUT = "mean over states of |d log pi(a*|x)/dx_j * x_j|, a* the most probable action, x after input_scale"


class KeyVariableError(UserError, ValueError):
    """An agent, observation matrix or feature list that step 06 cannot work with."""


@dataclass(frozen=True)
class Feature:
    """One input column of the memory agent."""

    name: str  # the symbol name when known (ball_x, bricks[5]), else the address or state index
    addresses: str  # where it lives: "state[1]" (Python Breakout), "0xC0A6" or "0xC0AA 0xC0AB" (Game Boy RAM)
    symbol: str  # the symbols file's variable (without an element index), "" when unknown
    kind: str  # the extractor's kind: byte, word, array (a member of one), scalar, ...
    symbol_kind: str = ""  # the symbols file's kind of that variable (state, screen, runtime), "" when unknown


@dataclass
class Importance:
    """Per feature (in the order of the features given): the importances, interval, second opinion and rank."""

    features: list[Feature]
    policy: np.ndarray  # (K,) mean KL over states
    ci_low: np.ndarray
    ci_high: np.ndarray
    value: np.ndarray  # (K,) mean |V - V'|
    grad_x_input: np.ndarray
    rank: np.ndarray  # (K,) 1 = most important to the policy
    states: int
    repeats: int

    def order(self) -> np.ndarray:
        """Feature indices from rank 1 on."""
        return np.argsort(self.rank, kind="stable")

    def rows(self) -> list[list[Any]]:
        rows = []
        for k in self.order():
            f = self.features[k]
            rows.append([f.name, f.addresses, f.symbol, f.kind, float(self.policy[k]), float(self.ci_low[k]),
                         float(self.ci_high[k]), float(self.value[k]), float(self.grad_x_input[k]), int(self.rank[k])])
        return rows


def _separate_mlps(agent: nn.Module) -> bool:
    """Whether actor and critic are MLPs of their own over the input (the fast path of the module docstring)."""
    heads = [getattr(agent, name, None) for name in ("actor", "critic")]
    return all(isinstance(h, nn.Sequential) and isinstance(h[0], nn.Linear) for h in heads)


def _check(agent: nn.Module, obs: np.ndarray, features: Sequence[Feature], columns: Sequence[np.ndarray]) -> None:
    shape = getattr(agent, "config", {}).get("obs_shape", [])
    if len(shape) != 1:
        raise KeyVariableError(f"key variables need a memory agent (a network on a flat observation: "
                               f"agents.networks.MLPAgent or GridAgent), got {type(agent).__name__} on {shape}; pass "
                               "a memory agent (scripts/02_train_memory.py), not a pixel agent")
    width = shape[0]
    if obs.ndim != 2 or obs.shape[1] != width:
        raise KeyVariableError(f"the agent takes {width} inputs per state, the observations have shape {obs.shape}")
    if len(columns) != len(features) or sorted(np.concatenate(columns).tolist()) != list(range(width)):
        raise KeyVariableError(f"{len(features)} features named for {width} inputs; name one per input, or give "
                               "each feature its columns so that every input belongs to exactly one")
    if len(obs) < 2:
        raise KeyVariableError(f"need at least 2 held-out states to shuffle a column, got {len(obs)}")


def _policy_kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def _policy_and_value(agent: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-policy (N, A) and value (N,) of a whole network on inputs already scaled (chunks of 8,192 states)."""
    log_p, value = [], []
    for chunk in torch.split(inputs, 8_192):
        hidden = agent.shared_features(chunk)
        log_p.append(torch.log_softmax(agent.actor(hidden), -1))
        value.append(agent.critic(hidden).squeeze(-1))
    return torch.cat(log_p), torch.cat(value)


def _grad_x_input(agent: nn.Module, inputs: torch.Tensor, columns: Sequence[np.ndarray]) -> np.ndarray:
    x = inputs.clone().requires_grad_(True)
    logits = agent.actor(x) if _separate_mlps(agent) else agent.actor(agent.shared_features(x))
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(-1, log_probs.argmax(-1, keepdim=True)).sum()
    (grad,) = torch.autograd.grad(chosen, x)
    per_input = (grad * x).detach()
    # a feature read through several inputs: the attributions of its inputs add up before the magnitude is taken
    return np.array([per_input[:, cols].sum(1).abs().mean().item() for cols in columns], np.float64)


def bootstrap_interval(per_state: np.ndarray, resamples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile intervals of the mean over states: per_state (K, N), resamples (B, N) state indices."""
    means = np.stack([row[resamples].mean(1) for row in per_state])  # (K, B)
    return np.percentile(means, 2.5, axis=1), np.percentile(means, 97.5, axis=1)


@torch.no_grad()
def permutation_importance(agent: nn.Module, obs: np.ndarray, features: Sequence[Feature], repeats: int = 5,
                           bootstrap: int = 1000, seed: int = 0,
                           columns: Sequence[np.ndarray] | None = None) -> Importance:
    """The importances of every feature (see the module docstring) on the held-out states `obs` (N, W). `columns`:
    the observation columns of each feature (a state spec's thermometer inputs), shuffled together; default one
    column per feature."""
    columns = [np.array([k]) for k in range(len(features))] if columns is None else columns
    _check(agent, obs, features, columns)
    if repeats < 1 or bootstrap < 1:
        raise KeyVariableError(f"repeats and bootstrap must be at least 1, got {repeats} and {bootstrap}")
    rng = np.random.default_rng(seed)
    n, count = len(obs), len(features)
    inputs = torch.as_tensor(obs, dtype=torch.float32) * float(getattr(agent, "input_scale", 1.0))
    mlps = _separate_mlps(agent)
    if mlps:
        actor_first, critic_first = agent.actor[0], agent.critic[0]
        actor_rest, critic_rest = agent.actor[1:], agent.critic[1:]
        actor_pre, critic_pre = actor_first(inputs), critic_first(inputs)
        log_p = torch.log_softmax(actor_rest(actor_pre), -1)
        value = critic_rest(critic_pre).squeeze(-1)
    else:
        log_p, value = _policy_and_value(agent, inputs)
    per_state_policy = np.zeros((count, n))
    per_state_value = np.zeros((count, n))
    perms = torch.as_tensor(np.stack([rng.permutation(n) for _ in range(repeats)]))  # (R, N)
    for j, cols in enumerate(columns):
        block = inputs[:, torch.as_tensor(cols)]  # (N, C): the feature's columns, shuffled together
        if bool((block == block[0]).all()):
            continue  # a shuffle of a constant feature changes nothing
        if mlps:
            delta = (block[perms] - block).reshape(-1, len(cols))  # (R*N, C)
            a_pre = actor_pre.repeat(repeats, 1) + delta @ actor_first.weight[:, cols].T
            c_pre = critic_pre.repeat(repeats, 1) + delta @ critic_first.weight[:, cols].T
            log_q, shuffled_value = torch.log_softmax(actor_rest(a_pre), -1), critic_rest(c_pre).squeeze(-1)
        else:
            shuffled = inputs.repeat(repeats, 1)
            shuffled[:, torch.as_tensor(cols)] = block[perms].reshape(-1, len(cols))
            log_q, shuffled_value = _policy_and_value(agent, shuffled)
        kl = _policy_kl(log_p.repeat(repeats, 1), log_q)
        dv = (shuffled_value - value.repeat(repeats)).abs()
        per_state_policy[j] = kl.reshape(repeats, n).mean(0).clamp_min(0).double().numpy()
        per_state_value[j] = dv.reshape(repeats, n).mean(0).double().numpy()
    with torch.enable_grad():
        grad_x_input = _grad_x_input(agent, inputs, columns)
    low, high = bootstrap_interval(per_state_policy, rng.integers(0, n, size=(bootstrap, n)))
    policy = per_state_policy.mean(1)
    rank = np.empty(count, np.int64)
    rank[np.argsort(-policy, kind="stable")] = np.arange(1, count + 1)
    return Importance(list(features), policy, low, high, per_state_value.mean(1), grad_x_input, rank, n, repeats)


def score_top(result: Importance, top: int, scripted_reads: Sequence[str] | None,
              has_symbols: bool) -> dict[str, Any]:
    """The top features scored: how many are `state` variables of the symbols file and how many `screen` (when
    there is a symbols file), and whether every variable the game's scripted player reads is among them."""
    ranked = [result.features[k] for k in result.order()[:top]]
    score: dict[str, Any] = {"top": top, "top_features": [
        {"rank": i + 1, "feature": f.name, "addresses": f.addresses, "symbol": f.symbol, "kind": f.kind,
         "symbol_kind": f.symbol_kind} for i, f in enumerate(ranked)]}
    if has_symbols:
        score["state_in_top"] = sum(f.symbol_kind == "state" for f in ranked)
        score["screen_in_top"] = sum(f.symbol_kind == "screen" for f in ranked)
    if scripted_reads is not None:
        found = {f.symbol or f.name for f in ranked}
        missing = [name for name in scripted_reads if name not in found]
        score["scripted_reads"] = list(scripted_reads)
        score["scripted_reads_missing"] = missing
        score["scripted_reads_all_in_top"] = not missing
    return score


def draw_top(result: Importance, path: Path, top: int, title: str) -> Path:
    """A horizontal bar chart of the top features' policy importance with their 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = result.order()[:top][::-1]
    labels = [f"{result.features[k].name} ({result.features[k].addresses})" for k in order]
    mean = result.policy[order]
    errors = np.stack([mean - result.ci_low[order], result.ci_high[order] - mean])
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(order) + 1.2))
    ax.barh(range(len(order)), mean, xerr=errors, color="tab:blue", ecolor="black", capsize=3)
    ax.set_yticks(range(len(order)), labels, fontsize=8)
    ax.set_xscale("symlog", linthresh=1e-3)  # importances span orders of magnitude; 0 stays drawable
    ax.set_xlabel("policy importance: mean KL(policy || policy with the feature shuffled), 95% interval "
                  "(linear below 0.001)", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def write_key_variables(out_dir: Path, result: Importance, summary: dict[str, Any], top: int,
                        title: str) -> dict[str, Path]:
    """key_variables.csv (every feature, by rank), key_variables.json (`summary`) and key_variables.png."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"csv": write_table(out_dir / "key_variables.csv", CSV_HEADER, result.rows()),
               "json": write_json(out_dir / "key_variables.json", summary),
               "png": draw_top(result, out_dir / "key_variables.png", top, title)}
    return {name: Path(path) for name, path in written.items()}
