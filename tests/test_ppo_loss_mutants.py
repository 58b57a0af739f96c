"""agents.ppo.ppo_loss term by term (values and gradients) and at its boundaries: the tests that kill its mutants.

tests/test_ppo.py checks one hand-computed minibatch; these pin each term alone (the other coefficients 0), the
clipping boundaries exactly (`>` vs `>=`), the gradients that must or must not flow, and every field of the result.
"""

import math

import pytest
import torch

from agents.ppo import ppo_loss


def loss(new_logprob, advantages=None, new_value=None, old_value=None, returns=None, entropy=None, *,
         old_logprob=None, clip_coef=0.2, clip_vloss=True, ent_coef=0.0, vf_coef=0.0):
    n = len(new_logprob)
    zeros = torch.zeros(n)
    return ppo_loss(new_logprob, zeros if old_logprob is None else old_logprob,
                    zeros if advantages is None else advantages, zeros if new_value is None else new_value,
                    zeros if old_value is None else old_value, zeros if returns is None else returns,
                    zeros if entropy is None else entropy, clip_coef, clip_vloss, ent_coef, vf_coef)


def test_ratio_is_new_over_old_probability():
    # log-probs -1 and -2 vs old -2 and -1: ratios e and 1/e; with advantage 1 and no clipping (clip 10) the policy
    # loss is -mean(ratio)
    out = loss(torch.tensor([-1.0, -2.0]), torch.ones(2), old_logprob=torch.tensor([-2.0, -1.0]), clip_coef=10.0)
    assert out.policy_loss.item() == pytest.approx(-(math.e + 1 / math.e) / 2, rel=1e-6)
    assert out.loss.item() == pytest.approx(out.policy_loss.item(), rel=1e-6)


def test_kl_estimates_are_means_of_the_two_estimators_and_carry_no_gradient():
    logratio = torch.tensor([0.5, -0.25, 0.0], requires_grad=True)
    out = loss(logratio * 1.0, old_logprob=torch.zeros(3))
    ratios = [math.exp(v) for v in (0.5, -0.25, 0.0)]
    assert out.old_approx_kl.item() == pytest.approx(-(0.5 - 0.25) / 3, rel=1e-6)
    assert out.approx_kl.item() == pytest.approx(sum((r - 1) - math.log(r) for r in ratios) / 3, rel=1e-6)
    for stat in (out.old_approx_kl, out.approx_kl, out.clipfrac):
        assert not stat.requires_grad and stat.shape == ()


@pytest.mark.parametrize("ratio, clip_coef, clipped", [
    (1.0, 0.0, 0.0),  # |ratio - 1| == clip_coef exactly: not clipped
    (1.0, 0.2, 0.0),
    (1.5, 0.2, 1.0), (0.5, 0.2, 1.0), (1.1, 0.2, 0.0), (0.9, 0.2, 0.0),
])
def test_clipfrac_counts_ratios_strictly_outside_the_trust_region(ratio, clip_coef, clipped):
    out = loss(torch.full((2,), math.log(ratio)), clip_coef=clip_coef)
    assert out.clipfrac.item() == pytest.approx(clipped)
    assert out.clipfrac.dtype == torch.float32


def test_clipfrac_is_the_fraction_of_clipped_rows():
    out = loss(torch.log(torch.tensor([1.5, 1.0, 1.0, 0.5, 1.05])), clip_coef=0.2)
    assert out.clipfrac.item() == pytest.approx(2 / 5)


@pytest.mark.parametrize("ratio, advantage, expected", [
    # pessimistic bound: max(-A r, -A clip(r, 0.8, 1.2))
    (1.5, 1.0, -1.2), (1.5, -1.0, 1.5), (0.5, 1.0, -0.5), (0.5, -1.0, 0.8), (1.1, 2.0, -2.2), (0.9, -2.0, 1.8),
    (1.0, 3.0, -3.0),
])
def test_policy_loss_is_the_clipped_surrogate(ratio, advantage, expected):
    out = loss(torch.tensor([math.log(ratio)]), torch.tensor([advantage]), clip_coef=0.2)
    assert out.policy_loss.item() == pytest.approx(expected, rel=1e-5)


def test_policy_loss_is_a_mean_and_its_gradient_stops_at_the_clip():
    new_logprob = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.9])).requires_grad_()
    advantages = torch.tensor([1.0, -1.0, 1.0, -1.0])
    out = loss(new_logprob, advantages, clip_coef=0.2)
    assert out.policy_loss.item() == pytest.approx((-1.2 + 0.8 - 1.1 + 0.9) / 4, rel=1e-5)
    out.loss.backward()
    # clipped rows have no gradient; inside: d(-A r / n)/dlogp = -A r / n
    torch.testing.assert_close(new_logprob.grad, torch.tensor([0.0, 0.0, -1.1 / 4, 0.9 / 4]))


@pytest.mark.parametrize("clip_vloss", [True, False])
def test_value_loss_is_half_the_mean_squared_error_when_inside_the_clip(clip_vloss):
    new_value = torch.tensor([1.0, 2.0, -1.0], requires_grad=True)
    returns = torch.tensor([3.0, 1.0, 0.0])
    old_value = new_value.detach().clone()  # no change: clipping cannot matter
    out = loss(torch.zeros(3), new_value=new_value, old_value=old_value, returns=returns, clip_vloss=clip_vloss,
               vf_coef=2.0)
    assert out.value_loss.item() == pytest.approx(0.5 * (4 + 1 + 1) / 3)
    assert out.loss.item() == pytest.approx(2.0 * out.value_loss.item())
    out.loss.backward()
    # d(vf * 0.5 * mean((v - R)^2))/dv = vf * (v - R) / n
    torch.testing.assert_close(new_value.grad, 2.0 * torch.tensor([-2.0, 1.0, -1.0]) / 3)


def test_clipped_value_loss_takes_the_larger_error_of_the_clipped_and_unclipped_predictions():
    # old 0; new values move by +1, -1, +0.1, +1 (clip 0.2): clipped predictions 0.2, -0.2, 0.1, 0.2
    new_value = torch.tensor([1.0, -1.0, 0.1, 1.0], requires_grad=True)
    returns = torch.tensor([2.0, 0.0, 0.0, 0.0])
    out = loss(torch.zeros(4), new_value=new_value, old_value=torch.zeros(4), returns=returns, vf_coef=1.0)
    # squared errors: max(1, 3.24), max(1, 0.04), max(.01, .01), max(1, 0.04)
    assert out.value_loss.item() == pytest.approx(0.5 * (3.24 + 1 + 0.01 + 1) / 4, rel=1e-5)
    out.loss.backward()
    # row 0: the clipped prediction is the larger error and has no gradient; rows 1, 3: unclipped; row 2: both
    # equal (torch.max splits the gradient between them)
    torch.testing.assert_close(new_value.grad, torch.tensor([0.0, -1.0 / 4, 0.1 / 4, 1.0 / 4]))


def test_value_clip_is_around_the_old_value_on_both_sides():
    old_value = torch.tensor([5.0, 5.0])
    new_value = torch.tensor([6.0, 4.0])
    returns = torch.tensor([10.0, 0.0])
    out = loss(torch.zeros(2), new_value=new_value, old_value=old_value, returns=returns, clip_coef=0.5)
    # clipped predictions 5.5 and 4.5: errors 4.5^2 = 20.25 and 4.5^2; unclipped 16 and 16
    assert out.value_loss.item() == pytest.approx(0.5 * 20.25)
    unclipped = loss(torch.zeros(2), new_value=new_value, old_value=old_value, returns=returns, clip_coef=0.5,
                     clip_vloss=False)
    assert unclipped.value_loss.item() == pytest.approx(0.5 * 16)


def test_entropy_bonus_lowers_the_loss():
    entropy = torch.tensor([1.0, 3.0], requires_grad=True)
    out = loss(torch.zeros(2), entropy=entropy, ent_coef=0.5)
    assert out.entropy.item() == pytest.approx(2.0)
    assert out.loss.item() == pytest.approx(-0.5 * 2.0)
    out.loss.backward()
    torch.testing.assert_close(entropy.grad, torch.tensor([-0.25, -0.25]))


def test_total_loss_weights_each_term():
    out = loss(torch.log(torch.tensor([1.1, 1.0])), torch.tensor([1.0, 1.0]), new_value=torch.tensor([1.0, 1.0]),
               old_value=torch.tensor([1.0, 1.0]), returns=torch.tensor([0.0, 2.0]),
               entropy=torch.tensor([2.0, 4.0]), ent_coef=0.1, vf_coef=3.0)
    policy, value, entropy = -(1.1 + 1.0) / 2, 0.5, 3.0
    assert (out.policy_loss.item(), out.value_loss.item(), out.entropy.item()) == pytest.approx(
        (policy, value, entropy), rel=1e-5)
    assert out.loss.item() == pytest.approx(policy - 0.1 * entropy + 3.0 * value, rel=1e-5)
