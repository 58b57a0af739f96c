"""PPO pieces against hand-computed values: GAE, the clipped losses, masking of invalid steps, networks."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from agents.networks import CNNAgent, MLPAgent, build_network, layer_init, native_bfloat16, trunk_dtype_for
from agents.ppo import Rollout, compute_gae, explained_variance, ppo_loss, ppo_update


def test_gae_cuts_at_termination_and_bootstraps_truncation():
    # env 0: step 1 is truncated (its next stored value, values[2] = 1.5, is V(final obs) under NEXT_STEP),
    # step 3 terminates; env 1 never ends and bootstraps from next_value. gamma 0.9, lambda 0.5.
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 1.0]])
    values = torch.tensor([[0.5, 0.0], [1.0, 0.0], [1.5, 0.0], [2.0, 0.0]])
    next_value = torch.tensor([3.0, 10.0])
    terminations = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    dones = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])

    advantages, returns = compute_gae(rewards, values, next_value, terminations, dones, gamma=0.9, gae_lambda=0.5)

    # env 0 by hand: A3 = 4 - 2 = 2 (terminal: next_value 3 ignored)
    # A2 = (3 + .9*2 - 1.5) + .45*2 = 4.2
    # A1 = 2 + .9*1.5 - 1 = 2.35 (truncated: bootstraps, but A2 does not flow back)
    # A0 = (1 + .9*1 - .5) + .45*2.35 = 2.4575
    # env 1: A3 = 1 + .9*10 = 10, then A_t = .45 * A_{t+1}: 4.5, 2.025, 0.91125
    expected = torch.tensor([[2.4575, 0.91125], [2.35, 2.025], [4.2, 4.5], [2.0, 10.0]])
    torch.testing.assert_close(advantages, expected)
    torch.testing.assert_close(returns, expected + values)


def test_ppo_loss_matches_hand_computation():
    ratio = torch.tensor([1.5, 0.5, 1.1])
    out = ppo_loss(
        new_logprob=ratio.log(), old_logprob=torch.zeros(3), advantages=torch.tensor([1.0, -1.0, 2.0]),
        new_value=torch.tensor([1.0, 2.0, 0.0]), old_value=torch.tensor([0.5, 2.1, 0.0]),
        returns=torch.tensor([2.0, 1.0, 1.0]), entropy=torch.tensor([1.0, 0.5, 0.0]),
        clip_coef=0.2, clip_vloss=True, ent_coef=0.01, vf_coef=0.5,
    )
    # policy: max(-A*r, -A*clip(r)) = max(-1.5,-1.2), max(.5,.8), max(-2.2,-2.2) -> mean(-1.2, .8, -2.2)
    assert out.policy_loss.item() == pytest.approx(-2.6 / 3)
    # value: clipped predictions .7, 2.0, 0.0 -> squared errors max(1, 1.69), max(1, 1), max(1, 1)
    assert out.value_loss.item() == pytest.approx(0.5 * 3.69 / 3)
    assert out.entropy.item() == pytest.approx(0.5)
    assert out.loss.item() == pytest.approx(-2.6 / 3 - 0.01 * 0.5 + 0.5 * 0.615)
    assert out.clipfrac.item() == pytest.approx(2 / 3)
    kl = [(r - 1) - math.log(r) for r in (1.5, 0.5, 1.1)]
    assert out.approx_kl.item() == pytest.approx(sum(kl) / 3, rel=1e-5)
    assert out.old_approx_kl.item() == pytest.approx(-sum(math.log(r) for r in (1.5, 0.5, 1.1)) / 3, rel=1e-5)

    unclipped = ppo_loss(ratio.log(), torch.zeros(3), torch.tensor([1.0, -1.0, 2.0]), torch.tensor([1.0, 2.0, 0.0]),
                         torch.tensor([0.5, 2.1, 0.0]), torch.tensor([2.0, 1.0, 1.0]), torch.zeros(3),
                         clip_coef=0.2, clip_vloss=False, ent_coef=0.01, vf_coef=0.5)
    assert unclipped.value_loss.item() == pytest.approx(0.5)


def test_clipped_policy_loss_has_no_gradient_outside_the_trust_region():
    new_logprob = torch.tensor([math.log(1.5), math.log(1.1)], requires_grad=True)
    out = ppo_loss(new_logprob, torch.zeros(2), torch.tensor([1.0, 1.0]), torch.zeros(2), torch.zeros(2),
                   torch.zeros(2), torch.zeros(2), clip_coef=0.2, clip_vloss=True, ent_coef=0.0, vf_coef=0.0)
    out.loss.backward()
    # ratio 1.5 with a positive advantage is clipped (zero gradient); ratio 1.1 is inside: d(-A r / 2)/dlogp = -r/2
    torch.testing.assert_close(new_logprob.grad, torch.tensor([0.0, -1.1 / 2]))


def test_explained_variance():
    assert explained_variance(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(1.0)
    assert explained_variance(np.zeros(3), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.0)
    assert math.isnan(explained_variance(np.zeros(3), np.ones(3)))
    assert math.isnan(explained_variance(np.array([0.0, 1.0, 2.0]), np.ones(3)))  # constant returns: undefined


def _rollout(n: int, obs_dim: int, seed: int) -> Rollout:
    gen = torch.Generator().manual_seed(seed)
    return Rollout(
        obs=torch.randn(n, obs_dim, generator=gen), actions=torch.randint(0, 3, (n,), generator=gen),
        logprobs=torch.full((n,), math.log(1 / 3)), values=torch.randn(n, generator=gen),
        advantages=torch.randn(n, generator=gen), returns=torch.randn(n, generator=gen),
        valid=np.ones(n, dtype=bool),
    )


def _update(agent, batch, seed):
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3, eps=1e-5)
    return ppo_update(agent, optimizer, batch, np.random.default_rng(seed), update_epochs=2, num_minibatches=2,
                      clip_coef=0.2, clip_vloss=True, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5)


def test_update_ignores_invalid_steps():
    """Rows marked invalid (the dummy step after an episode end) must not touch the weights at all."""
    clean = _rollout(16, 4, seed=0)
    # 8 poisoned rows interleaved with the 16 clean ones: NaNs would spread into any weight they reached
    n = 24
    invalid_rows = np.arange(0, n, 3)
    valid_rows = np.setdiff1d(np.arange(n), invalid_rows)
    mixed = Rollout(*(torch.full((n,) + tuple(t.shape[1:]), float("nan"), dtype=t.dtype) if t.is_floating_point()
                      else torch.zeros((n,) + tuple(t.shape[1:]), dtype=t.dtype)
                      for t in (clean.obs, clean.actions, clean.logprobs, clean.values, clean.advantages,
                                clean.returns)), valid=np.zeros(n, dtype=bool))
    for field in ("obs", "actions", "logprobs", "values", "advantages", "returns"):
        getattr(mixed, field)[valid_rows] = getattr(clean, field)
    mixed.valid[valid_rows] = True

    torch.manual_seed(0)
    agent_a = MLPAgent((4,), 3)
    agent_b = MLPAgent((4,), 3)
    agent_b.load_state_dict(agent_a.state_dict())
    stats_clean = _update(agent_a, clean, seed=5)
    stats_mixed = _update(agent_b, mixed, seed=5)

    for p_a, p_b in zip(agent_a.parameters(), agent_b.parameters()):
        torch.testing.assert_close(p_a, p_b)
    assert stats_clean == pytest.approx(stats_mixed)
    assert all(np.isfinite(v) for v in stats_mixed.values())
    assert set(stats_mixed) >= {"losses/value_loss", "losses/policy_loss", "losses/entropy", "losses/approx_kl",
                                "losses/old_approx_kl", "losses/clipfrac", "losses/explained_variance"}


def test_update_raises_probability_of_positive_advantage_actions():
    torch.manual_seed(0)
    agent = MLPAgent((4,), 3)
    batch = _rollout(64, 4, seed=1)
    batch.obs[:] = 1.0  # one state: every row pushes the same action's probability
    batch.actions[:] = torch.where(torch.arange(64) % 2 == 0, 2, 0)
    batch.advantages = torch.where(batch.actions == 2, 1.0, -1.0)
    state, act2 = batch.obs[:1], torch.tensor([2])
    with torch.no_grad():
        before = agent.get_action_and_value(state, act2)[1].exp().item()
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-2, eps=1e-5)
    ppo_update(agent, optimizer, batch, np.random.default_rng(0), update_epochs=4, num_minibatches=2,
               clip_coef=0.2, clip_vloss=True, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5)
    with torch.no_grad():
        after = agent.get_action_and_value(state, act2)[1].exp().item()
    assert before == pytest.approx(1 / 3, abs=0.02)
    assert after > before + 0.05


def test_layer_init_is_orthogonal_with_gain():
    layer = layer_init(torch.nn.Linear(8, 8), std=2.0, bias_const=0.5)
    torch.testing.assert_close(layer.weight @ layer.weight.T, 4.0 * torch.eye(8), atol=1e-5, rtol=1e-5)
    assert torch.all(layer.bias == 0.5)


def test_networks_shapes_and_rebuild():
    mlp = MLPAgent((6,), 3, hidden_sizes=(32, 16))
    action, logprob, entropy, value = mlp.get_action_and_value(torch.randn(5, 6))
    assert action.shape == logprob.shape == entropy.shape == (5,) and value.shape == (5, 1)
    assert build_network(mlp.config).config == mlp.config

    cnn = CNNAgent((4, 84, 84), 3)
    frames = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    action, logprob, entropy, value = cnn.get_action_and_value(frames)
    assert action.shape == (2,) and value.shape == (2, 1)
    # near-uniform initial policy (policy head gain 0.01)
    assert entropy.min().item() > math.log(3) - 0.01
    rebuilt = build_network(cnn.config)
    rebuilt.load_state_dict(cnn.state_dict())
    torch.testing.assert_close(rebuilt.get_value(frames), cnn.get_value(frames))


def test_bfloat16_trunk_computes_the_trunk_in_bfloat16_and_the_heads_in_float32():
    torch.manual_seed(0)
    cnn = CNNAgent((2, 42, 42), 3, channels=(8, 16), kernels=(4, 5), strides=(2, 3), hidden_size=32)
    with torch.no_grad():
        cnn.critic.bias.fill_(200.3)  # bfloat16 keeps 3 significant digits: 200.3 would come out as 200
    frames = torch.randint(0, 256, (4, 2, 42, 42), dtype=torch.uint8)
    seen = {}
    cnn.network[0].register_forward_hook(lambda _module, _inputs, output: seen.update(conv=output.dtype))
    full_value = cnn.get_value(frames)
    assert seen["conv"] == torch.float32

    cnn.trunk_dtype = torch.bfloat16
    _, logprob, _, value = cnn.get_action_and_value(frames)
    assert seen["conv"] == torch.bfloat16
    assert logprob.dtype == value.dtype == torch.float32
    hidden = cnn.shared_features(frames)
    torch.testing.assert_close(value, cnn.critic(hidden))  # the head itself ran in float32 on the trunk's output
    torch.testing.assert_close(value, full_value, atol=0.05, rtol=0)  # bfloat16 rounding of the trunk only


def test_trunk_precision_settings():
    cpu = torch.device("cpu")
    assert trunk_dtype_for("float32", cpu) is None
    assert trunk_dtype_for("bfloat16", cpu) is torch.bfloat16
    assert trunk_dtype_for("auto", cpu) is (torch.bfloat16 if native_bfloat16(cpu) else None)
    with pytest.raises(ValueError, match="trunk precision must be one of"):
        trunk_dtype_for("half", cpu)


def test_networks_reject_wrong_observation_shapes():
    with pytest.raises(ValueError, match="pixel agent"):
        MLPAgent((4, 84, 84), 3)
    with pytest.raises(ValueError, match="obs_type"):
        CNNAgent((8,), 3)
    with pytest.raises(ValueError, match="does not fit"):
        CNNAgent((4, 8, 8), 3)
    with pytest.raises(ValueError, match="unknown network type"):
        build_network({"type": "rnn"})


def _one_state_batch(advantages: torch.Tensor, actions: torch.Tensor) -> Rollout:
    """A rollout in which every row is the same state, so each row only moves that state's action probabilities."""
    n = len(advantages)
    return Rollout(obs=torch.ones(n, 4), actions=actions, logprobs=torch.full((n,), math.log(1 / 3)),
                   values=torch.zeros(n), advantages=advantages, returns=torch.zeros(n), valid=np.ones(n, dtype=bool))


def _probabilities_after_update(batch: Rollout, **kwargs) -> torch.Tensor:
    torch.manual_seed(0)
    agent = MLPAgent((4,), 3)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-2, eps=1e-5)
    settings = dict(update_epochs=4, num_minibatches=1, clip_coef=0.2, clip_vloss=True, ent_coef=0.0, vf_coef=0.5,
                    max_grad_norm=0.5)
    ppo_update(agent, optimizer, batch, np.random.default_rng(0), **{**settings, **kwargs})
    with torch.no_grad():
        return torch.softmax(agent.actor(batch.obs[:1]), dim=-1)[0]


def test_advantage_normalisation_turns_below_average_advantages_negative():
    # both taken actions have positive advantages, action 1 twice as much as action 0: normalised, action 0's
    # advantage is below the mean and its probability must fall; unnormalised it rises with action 1's
    actions = torch.tensor([0, 1] * 16)
    batch = _one_state_batch(torch.where(actions == 1, 2.0, 1.0), actions)
    normalised = _probabilities_after_update(batch)
    raw = _probabilities_after_update(batch, norm_adv=False)
    assert normalised[0] < 1 / 3 - 0.02 and normalised[1] > 1 / 3 + 0.02
    assert raw[0] > 1 / 3 + 0.02 and raw[1] > 1 / 3 + 0.02 and raw[2] < 1 / 3 - 0.02


@pytest.mark.parametrize("rows", [2, 32])  # 2: the smallest minibatch that is normalised
def test_advantage_normalisation_uses_the_minibatch_mean_and_std(rows):
    """With one minibatch, norm_adv=True on advantages A equals norm_adv=False on (A - mean(A)) / (std(A) + 1e-8)."""
    batch = _rollout(rows, 4, seed=3)
    batch.advantages = batch.advantages * 3.0 + 2.0  # off-centre and wide, so normalising changes them
    normalised = dataclasses.replace(batch, advantages=(batch.advantages - batch.advantages.mean())
                                     / (batch.advantages.std() + 1e-8))
    weights = []
    for data, norm_adv in ((batch, True), (normalised, False), (batch, False)):
        torch.manual_seed(0)
        agent = MLPAgent((4,), 3)
        optimizer = torch.optim.Adam(agent.parameters(), lr=1e-2, eps=1e-5)
        ppo_update(agent, optimizer, data, np.random.default_rng(4), update_epochs=2, num_minibatches=1,
                   clip_coef=0.2, clip_vloss=True, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5, norm_adv=norm_adv)
        weights.append([p.detach().clone() for p in agent.parameters()])
    for p_norm, p_manual in zip(weights[0], weights[1]):
        torch.testing.assert_close(p_norm, p_manual)
    assert any(not torch.allclose(a, b) for a, b in zip(weights[0], weights[2]))  # raw advantages train otherwise


def _weights_after(batch: Rollout, **kwargs) -> list[torch.Tensor]:
    torch.manual_seed(0)
    agent = MLPAgent((4,), 3)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-2, eps=1e-5)
    stats = ppo_update(agent, optimizer, batch, np.random.default_rng(0), num_minibatches=2, clip_coef=0.2,
                       clip_vloss=True, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5, **kwargs)
    return [p.detach().clone() for p in agent.parameters()], stats


def test_target_kl_stops_the_update_after_the_epoch_that_exceeds_it():
    batch = _rollout(64, 4, seed=2)
    one_epoch, _ = _weights_after(batch, update_epochs=1)
    four_epochs, _ = _weights_after(batch, update_epochs=4)
    stopped, stopped_stats = _weights_after(batch, update_epochs=4, target_kl=0.0)  # any policy change exceeds 0
    never_reached, _ = _weights_after(batch, update_epochs=4, target_kl=1e9)
    assert stopped_stats["losses/approx_kl"] > 0.0 and np.isfinite(stopped_stats["losses/value_loss"])
    for a, b in zip(stopped, one_epoch):
        torch.testing.assert_close(a, b)
    for a, b in zip(never_reached, four_epochs):
        torch.testing.assert_close(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(one_epoch, four_epochs))


def test_update_needs_one_valid_step_per_minibatch_and_handles_single_row_minibatches():
    batch = _rollout(3, 4, seed=6)
    batch.valid[:] = [True, False, True]
    agent = MLPAgent((4,), 3)
    with pytest.raises(ValueError, match="only 2 valid steps for 3 minibatches; collect more steps"):
        ppo_update(agent, torch.optim.Adam(agent.parameters()), batch, np.random.default_rng(0), update_epochs=1,
                   num_minibatches=3, clip_coef=0.2, clip_vloss=True, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5)
    # exactly one valid row per minibatch is enough; a one-row minibatch is not normalised (its std is undefined)
    torch.manual_seed(0)
    agent = MLPAgent((4,), 3)
    stats = ppo_update(agent, torch.optim.Adam(agent.parameters(), lr=1e-2), batch, np.random.default_rng(0),
                       update_epochs=2, num_minibatches=2, clip_coef=0.2, clip_vloss=True, ent_coef=0.01, vf_coef=0.5,
                       max_grad_norm=0.5)
    assert all(torch.isfinite(p).all() for p in agent.parameters())
    assert np.isfinite(stats["losses/policy_loss"]) and np.isfinite(stats["losses/value_loss"])


def test_update_clips_the_value_change_only_with_clip_vloss():
    """Returns 5 above the rollout's values: with clip_vloss the critic stops once it is clip_coef past them (plus the
    last Adam step), without it goes on toward the returns."""
    moved = {}
    for clip_vloss in (True, False):
        torch.manual_seed(0)
        agent = MLPAgent((4,), 3)
        batch = _rollout(64, 4, seed=7)
        with torch.no_grad():
            batch.values = agent.get_value(batch.obs).flatten()
        batch.returns = batch.values + 5.0
        optimizer = torch.optim.Adam(agent.parameters(), lr=1e-2, eps=1e-5)
        ppo_update(agent, optimizer, batch, np.random.default_rng(0), update_epochs=8, num_minibatches=1,
                   clip_coef=0.2, clip_vloss=clip_vloss, ent_coef=0.0, vf_coef=0.5, max_grad_norm=10.0)
        with torch.no_grad():
            moved[clip_vloss] = (agent.get_value(batch.obs).flatten() - batch.values).mean().item()
    assert 0.1 < moved[True] < 1.0 and moved[False] > 2.5
