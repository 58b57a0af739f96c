"""agents.probing.screen_maps on a tiny network and a tiny synthetic game: a planted screen region is recovered by
the function-vector map (IoU and pointing game against the game's own perturbation map), and the measures on
hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.networks import CNNAgent
from agents.probing.probes import ProbeError, find_layers
from agents.probing.report import screen_maps_html
from agents.probing.screen_maps import (DEFAULT_METHOD, METHODS, ScreenMap, ScreenPerturbations, map_variable,
                                        pointing_hit, pointing_tolerance, to_screen, top_k_iou, top_k_pixels,
                                        wilson_interval, write_screen_maps)

SIZE, SCALE = 16, 2  # the network sees 16x16 frames of a 32x32 screen
PLANTED_ROWS = (2, 4)  # square A (the variable) lives in these network rows; its x is the variable
DISTRACTOR_ROW = 10  # square B (3x3, brighter than A's 2x2) moves along these rows, read by nothing


WALL_COLUMNS = (14, 16)  # a static bright wall beside A's rows, in every state: part of the background


def draw(size: int, a_x: np.ndarray, b_x: np.ndarray) -> np.ndarray:
    """(N, 2, size, size) uint8 frame stacks at `size` (SIZE or the screen's): A (2x2 at network scale) at a_x in
    the newest frame and a_x - 1 in the older one; the distractor B (3x3) at b_x in both; the wall."""
    s = size // SIZE
    out = np.zeros((len(a_x), 2, size, size), dtype=np.uint8)
    out[:, :, PLANTED_ROWS[0] * s:PLANTED_ROWS[1] * s, WALL_COLUMNS[0] * s:WALL_COLUMNS[1] * s] = 200
    for n, (a, b) in enumerate(zip(a_x, b_x)):
        for frame, shift in ((0, 1), (1, 0)):
            out[n, frame, PLANTED_ROWS[0] * s:PLANTED_ROWS[1] * s, (a - shift) * s:(a - shift + 2) * s] = 120
            out[n, frame, DISTRACTOR_ROW * s:(DISTRACTOR_ROW + 3) * s, b * s:(b + 3) * s] = 255
    return out


def perturbations(states: int = 6, values: int = 5, seed: int = 0) -> ScreenPerturbations:
    """The game's own perturbation map of A's x: each state redrawn with A moved to other places, diffed on the
    screen; B stays where the state has it."""
    rng = np.random.default_rng(seed)
    a = rng.integers(2, 12, states)
    b = rng.integers(1, 12, states)
    moved = rng.integers(2, 12, (states, values))  # A never reaches the wall
    xs = np.concatenate([a[:, None], moved], axis=1)  # the state, then its perturbations
    obs = np.stack([draw(SIZE, xs[i], np.full(values + 1, b[i])) for i in range(states)])
    screens = np.stack([draw(SIZE * SCALE, xs[i], np.full(values + 1, b[i])) for i in range(states)])
    changed = (screens[:, 1:] != screens[:, :1]).any(axis=2).mean(axis=1).astype(np.float32)
    return ScreenPerturbations(obs=obs, changed=changed, screen=screens[:, 0, -1])


def planted_network() -> tuple[CNNAgent, object, np.ndarray]:
    """A tiny CNN whose conv1 channel 0 lights up on any bright pixel, and the direction that reads channel 0 over
    A's rows only (the planted region)."""
    torch.manual_seed(0)
    agent = CNNAgent((2, SIZE, SIZE), 3, channels=(4,), kernels=(3,), strides=(1,), hidden_size=8).eval()
    conv = agent.network[0][0]
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0] = 0.25
        conv.weight[0, :, 1, 1] = 1.0  # a centre-weighted blob detector
    layer = find_layers(agent, (2, SIZE, SIZE))[0]
    direction = np.zeros(layer.shape, dtype=np.float32)
    direction[0, PLANTED_ROWS[0] - 1:PLANTED_ROWS[1], :] = 1.0  # conv1 output rows over A's input rows
    return agent, layer, (direction / np.linalg.norm(direction)).ravel()


def test_planted_region_is_recovered_by_the_screen_map():
    agent, layer, direction = planted_network()
    data = perturbations()
    found = map_variable(agent, layer, direction, data, "a_x", DEFAULT_METHOD)
    assert found.mean_map.shape == data.changed.shape[1:] == (SIZE * SCALE, SIZE * SCALE)
    assert found.k == np.count_nonzero(data.changed.mean(0))
    assert found.iou >= 0.5
    assert found.hits.size == 6 and found.hits.all()
    assert np.median(found.state_iou) >= 0.5
    # nothing of the map falls on the distractor's rows, which the direction does not read
    rows = slice(DISTRACTOR_ROW * SCALE, (DISTRACTOR_ROW + 3) * SCALE)
    assert found.mean_map[rows].sum() < 0.01 * found.mean_map.sum()


@pytest.mark.parametrize("method", ["gradient", "gradient_x_input"])
def test_without_the_background_removed_the_static_wall_draws_the_map(method):
    """Why the default is gradient x foreground: the plain gradient spreads over every pixel the read-out's units
    see, and gradient x input lights up the static wall they see; both lose the planted region."""
    agent, layer, direction = planted_network()
    data = perturbations()
    wall = (slice(PLANTED_ROWS[0] * SCALE, PLANTED_ROWS[1] * SCALE),
            slice(WALL_COLUMNS[0] * SCALE, WALL_COLUMNS[1] * SCALE))
    plain = map_variable(agent, layer, direction, data, "a_x", method)
    foreground = map_variable(agent, layer, direction, data, "a_x", DEFAULT_METHOD)
    assert DEFAULT_METHOD == "gradient_x_foreground" and method in METHODS
    assert plain.mean_map[wall].sum() > 0.05 * plain.mean_map.sum()
    assert foreground.mean_map[wall].sum() < 0.01 * foreground.mean_map.sum()
    assert plain.iou < 0.6 < foreground.iou


def test_a_direction_reading_the_distractor_misses_the_region():
    agent, layer, _ = planted_network()
    elsewhere = np.zeros(layer.shape, dtype=np.float32)
    elsewhere[0, DISTRACTOR_ROW - 1:DISTRACTOR_ROW + 3, :] = 1.0
    found = map_variable(agent, layer, elsewhere.ravel() / np.linalg.norm(elsewhere), perturbations(), "a_x")
    assert found.iou < 0.1
    assert not found.hits.any()


def test_iou_on_hand_made_maps():
    reference = np.zeros((4, 6))
    reference[0, :4] = [0.25, 0.5, 1.0, 1.0]  # a region of 4 pixels, changed by some perturbations or all
    assert top_k_iou(reference * 3, reference) == (1.0, 4)
    heat = np.zeros((4, 6))
    heat[0, 2:6] = [4, 3, 2, 1]  # top 4: two inside the region, two outside
    assert top_k_iou(heat, reference) == (pytest.approx(2 / 6), 4)
    assert top_k_iou(heat, reference, k=2) == (1.0, 2)  # the two highest of each: (0, 2) and (0, 3)
    far = np.zeros((4, 6))
    far[3, 3] = 1.0
    assert top_k_iou(far, reference) == (0.0, 4)  # only positive pixels count as the map's top pixels
    iou, k = top_k_iou(heat, np.zeros((4, 6)))
    assert np.isnan(iou) and k == 0
    assert top_k_pixels(heat, 2).sum() == 2 and top_k_pixels(heat, 2)[0, 2:4].all()
    with pytest.raises(ProbeError, match="differ in shape"):
        top_k_iou(heat, reference[:3])


def test_pointing_game_on_hand_made_maps():
    reference = np.zeros((5, 5))
    reference[1:3, 1:3] = 0.25
    heat = np.zeros((5, 5))
    heat[2, 2] = 1.0
    heat[4, 4] = 0.5
    assert pointing_hit(heat, reference)
    heat[4, 4] = 2.0
    assert not pointing_hit(heat, reference)
    assert not pointing_hit(np.zeros((5, 5)), reference)  # a flat map points nowhere
    heat[4, 4] = 0.0
    heat[3, 4] = 3.0  # one row below and two columns right of the region's corner (2, 2)
    assert not pointing_hit(heat, reference) and not pointing_hit(heat, reference, tolerance=1)
    assert pointing_hit(heat, reference, tolerance=2)
    assert pointing_tolerance((42, 42), (84, 84)) == 2 and pointing_tolerance((84, 84), (144, 160)) == 2
    assert pointing_tolerance((84, 84), (84, 84)) == 0


def test_the_pointing_rate_interval_is_wilsons():
    # worked by hand from the score formula: centre (p + z²/2n) / (1 + z²/n),
    # half-width z √(p(1-p)/n + z²/4n²) / (1 + z²/n)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(25, 32)
    assert low == pytest.approx(0.6124, abs=1e-4) and high == pytest.approx(0.8898, abs=1e-4)
    assert wilson_interval(32, 32)[1] == 1.0 and wilson_interval(32, 32)[0] < 1.0  # not empty at n of n
    assert all(np.isnan(wilson_interval(0, 0)))
    narrower = wilson_interval(100, 128)
    assert narrower[1] - narrower[0] < high - low  # four times the states: about half the width


def test_the_report_gives_each_map_its_interval_and_none_to_a_map_of_no_state(tmp_path):
    """A variable whose perturbation changed no pixel has no state to point in: its CSV bounds are empty and the
    report's interval cell says so, where a drawn one's gives Wilson's bounds (3 of 4 states: 0.30 to 0.95)."""
    blank = np.zeros((4, 4), np.float32)
    empty = ScreenMap("score", "conv1", "meandiff", DEFAULT_METHOD, blank, blank, float("nan"), 0, 0, np.zeros(0),
                      np.zeros(0, bool), chosen=True)
    drawn = ScreenMap("ball_x", "conv1", "meandiff", DEFAULT_METHOD, blank + 1, blank + 1, 0.5, 3, 0, np.full(4, 0.5),
                      np.array([True, True, True, False]), chosen=True)
    write_screen_maps([empty, drawn], {"score": blank.astype(np.uint8), "ball_x": blank.astype(np.uint8)}, tmp_path)
    page = screen_maps_html(tmp_path)
    rows = {row.split("</td>")[0]: row for row in page.split("<tr><td>")[1:3]}
    assert "<td>-</td>" in rows["score"] and "[0.30, 0.95]" not in rows["score"]
    assert "<td>[0.30, 0.95]</td>" in rows["ball_x"]


def test_upsampling_keeps_a_hot_pixel_in_place():
    maps = np.zeros((1, 4, 4), dtype=np.float32)
    maps[0, 1, 2] = 1.0
    up = to_screen(maps, (8, 12))
    y, x = np.unravel_index(np.argmax(up[0]), up[0].shape)
    assert up.shape == (1, 8, 12) and y in (2, 3) and x in (6, 7, 8)
    assert (up >= 0).all()
