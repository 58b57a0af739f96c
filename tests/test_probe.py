"""agents.probing.probes on a tiny network and a tiny game: a planted variable is found, steering along it moves the
policy, random directions of the same norm hardly do; bad layer/variable names are clear errors."""

import numpy as np
import pytest
import torch

from agents.networks import CNNAgent
from agents.probing.probes import (ProbeError, check_variables, find_layers, fit_probes, random_directions,
                          record_activations, select_layers, split_by_group, steer_effects, unit_correlations,
                          unit_norm)

SIZE = 12
HIDDEN = 48
GAIN = 4.0  # logit(RIGHT) - logit(LEFT) = 2 * GAIN * (x unit - 0.5)


def tiny_game(n: int, seed: int):
    """Frames (n, 1, 12, 12) uint8 with one lit pixel at (y, x); variables x, y in [0, 1] and the flag x < 1/2."""
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, SIZE, n), rng.integers(0, SIZE, n)
    obs = np.zeros((n, 1, SIZE, SIZE), dtype=np.uint8)
    obs[np.arange(n), 0, y, x] = 255
    targets = np.stack([x / (SIZE - 1), y / (SIZE - 1), (x < SIZE // 2).astype(float)], axis=1)
    return obs, targets


def planted_agent() -> CNNAgent:
    """A CNN whose conv passes the frame through and whose dense unit 0 computes x; the policy reads only unit 0."""
    torch.manual_seed(0)
    agent = CNNAgent((1, SIZE, SIZE), 3, channels=(1,), kernels=(1,), strides=(1,), hidden_size=HIDDEN)
    with torch.no_grad():
        conv = agent.network[0][0]
        conv.weight.fill_(1.0)
        conv.bias.zero_()
        dense = agent.network[1]
        ramp = np.tile(np.arange(SIZE) / (SIZE - 1), SIZE)  # x of each flattened pixel
        dense.weight[0] = torch.as_tensor(ramp, dtype=torch.float32)
        dense.bias[0] = 0.05
        agent.actor.weight.zero_()
        agent.actor.bias.zero_()
        agent.actor.weight[2, 0], agent.actor.weight[1, 0] = GAIN, -GAIN
        agent.actor.bias[2], agent.actor.bias[1] = -GAIN / 2, GAIN / 2
    return agent.eval()


@pytest.fixture(scope="module")
def probed():
    agent = planted_agent()
    layers = find_layers(agent, (1, SIZE, SIZE))
    obs, targets = tiny_game(900, seed=1)
    acts = record_activations(agent, layers, obs)
    split = split_by_group(np.arange(len(obs)), seed=0)
    binary = np.array([False, False, True])
    fit = fit_probes(acts["fc1"], targets, split, binary, max_train=600, pcs=32)
    return agent, layers, obs, targets, acts, split, fit


def test_layers_are_found_by_traversal(probed):
    _, layers, *_ = probed
    assert [layer.name for layer in layers] == ["conv1", "fc1", "actor", "critic"]
    assert layers[0].output_path == "network.0.1"  # recorded after the ReLU that follows the conv
    assert layers[0].shape == (1, SIZE, SIZE) and layers[1].shape == (HIDDEN,) and layers[2].shape == (3,)


def test_planted_variable_is_found_by_probe_and_unit_labels(probed):
    _, _, _, targets, acts, _, fit = probed
    assert fit.test_score[0] > 0.99  # x is a linear read-out of unit 0
    assert fit.test_score[2] > 0.95  # the flag x < 1/2, logistic, balanced accuracy
    corr = unit_correlations(acts["fc1"], targets)
    assert np.abs(corr[:, 0]).argmax() == 0  # the unit that correlates most with x is the planted one
    assert corr[0, 0] > 0.99 and np.abs(corr[0]).argmax() == 0  # and x is unit 0's best variable


def test_steering_along_the_variable_moves_the_policy_random_directions_barely(probed):
    agent, layers, obs, targets, acts, split, fit = probed
    by_name = {layer.name: layer for layer in layers}
    direction = unit_norm(fit.weights[:, :1].T)  # the probe's direction for x
    randoms = random_directions(HIDDEN, 16, seed=3)
    effect = steer_effects(agent, torch.as_tensor(obs[:64]), by_name["fc1"], np.concatenate([direction, randoms]),
                           alpha=0.5, readout_layer=by_name["fc1"], readout=fit, readout_column=0, toward=2, away=1,
                           actor=by_name["actor"])
    sign = np.array([-1.0, 1.0])[:, None]
    steered = effect.policy_shift[0] * sign
    random = effect.policy_shift[1:] * sign
    assert np.all(steered > 0)  # pushing x up moves probability toward RIGHT in every state, and down toward LEFT
    assert np.all(effect.readout_shift[0] * sign > 0)
    assert np.abs(random).mean() < 0.35 * np.abs(steered).mean()
    assert 0.2 < np.mean(random > 0) < 0.8  # random directions: either way, about half the time


def test_steering_a_unit_the_policy_does_not_read_changes_nothing(probed):
    agent, layers, obs, *_, fit = probed
    by_name = {layer.name: layer for layer in layers}
    # unit 1 is not read by the policy: steering along it leaves the action distribution exactly as it was
    along_unit_1 = np.zeros((1, HIDDEN), dtype=np.float32)
    along_unit_1[0, 1] = 1.0
    effect = steer_effects(agent, torch.as_tensor(obs[:16]), by_name["fc1"], along_unit_1, 1.0, by_name["fc1"], fit,
                           0, 2, 1, by_name["actor"])
    assert np.allclose(effect.policy_shift, 0.0) and np.allclose(effect.total_variation, 0.0)


def test_unknown_layer_and_variable_are_clear_errors(probed):
    _, layers, *_ = probed
    with pytest.raises(ProbeError, match=r"no layer named \['conv9'\].*conv1 \(network\.0\.0\)"):
        select_layers(layers, ["conv9"])
    assert select_layers(layers, ["network.1"])[0].name == "fc1"
    with pytest.raises(ProbeError, match=r"unknown variable\(s\) \['ball_z'\]"):
        check_variables(["ball_x", "ball_z"], ["ball_x", "ball_y"])


def test_split_keeps_groups_whole():
    groups = np.repeat(np.arange(20), 5)
    split = split_by_group(groups, seed=0)
    for g in range(20):
        assert len(set(split[groups == g].tolist())) == 1
    assert set(split.tolist()) == {0, 1, 2}
    with pytest.raises(ProbeError, match="at least 3 groups"):
        split_by_group(np.zeros(10, dtype=int), seed=0)


def nearly_collinear(n: int = 3000, d: int = 8, spread: float = 3e-3):
    """Features sharing one large common factor, apart by `spread`: a target of their small differences (linear in
    them) is read only through the Gram matrix's smallest eigenvalues. Columns: that target and a flag."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, 1)) + spread * rng.standard_normal((n, d))).astype(np.float32)
    y = np.concatenate([(x[:, :1].astype(np.float64) - x[:, 1:2]) / spread, x[:, 2:3] > x[:, 3:4]], axis=1)
    return x, y, np.repeat(np.arange(3), n // 3).astype(np.int8)


def test_ridge_probe_reads_small_eigen_directions_whatever_the_order_of_samples():
    # a Gram matrix summed in float32 reads this target at R^2 0.973 or 0.987 depending on the order of the
    # training samples; in float64 at 0.990 either way
    x, y, split = nearly_collinear()
    order = np.concatenate([np.random.default_rng(1).permutation(1000), np.arange(1000, 3000)])
    fits = [fit_probes(x[rows], y[rows], split, np.array([False, True]), max_train=3000)
            for rows in (np.arange(3000), order)]
    assert fits[0].test_score[0] > 0.985
    assert fits[1].test_score[0] == pytest.approx(fits[0].test_score[0], abs=1e-9)
    assert np.allclose(fits[1].weights[:, 0], fits[0].weights[:, 0], rtol=1e-5, atol=0)


def test_a_layer_constant_on_every_training_sample_reads_nothing_and_does_not_fail():
    """A dead layer (every unit constant, e.g. all ReLUs off) is probed, not refused: zero weights, the training
    mean as the prediction (R^2 about 0), chance balanced accuracy."""
    rng = np.random.default_rng(0)
    n = 600
    y = np.stack([rng.normal(size=n), rng.integers(0, 2, n)], axis=1)
    fit = fit_probes(np.full((n, 5), 3.0, np.float32), y, np.repeat([0, 1, 2], n // 3), np.array([False, True]))
    assert np.array_equal(fit.weights, np.zeros((5, 2)))
    train_mean = y[:n // 3, 0].mean()
    assert fit.intercept[0] == pytest.approx(train_mean)
    assert abs(fit.test_score[0]) < 0.02 and fit.test_score[1] == 0.5


def test_features_constant_on_the_training_samples_change_nothing():
    x, y, split = nearly_collinear()
    padded = np.concatenate([x[:, :4], np.full((len(x), 3), 7.0, np.float32), x[:, 4:]], axis=1)
    padded[split != 0, 4] = 9.0  # constant on the training samples only: still no weight
    plain = fit_probes(x, y, split, np.array([False, True]), max_train=3000)
    fit = fit_probes(padded, y, split, np.array([False, True]), max_train=3000)
    assert np.array_equal(fit.weights[4:7], np.zeros((3, 2)))
    assert np.allclose(np.delete(fit.weights, [4, 5, 6], axis=0), plain.weights, rtol=1e-4, atol=1e-6)
    assert np.allclose(fit.test_score, plain.test_score, atol=1e-9)
