"""Function-vector screen maps: a variable's direction at a layer mapped back onto the screen through the network,
and its agreement with the game's own perturbation map of that variable. Game-independent (NumPy and torch).

- `direction_maps`: per frame stack x, the map of <activation(x), d> over the input: |d/dx <a(x), d>|
  ("gradient"), |x * d/dx <a(x), d>| ("gradient_x_input"), or |(x - background) * d/dx <a(x), d>|
  ("gradient_x_foreground"; background: the per-pixel median of play states, so the static screen scores 0),
  summed over the frames of the stack.
- `to_screen`: maps at the network's input size upsampled (bilinear) to the screen's size, for agents that see
  downscaled frames.
- `top_k_iou` and `pointing_hit`: IoU of the map's k highest pixels with the reference's region (k = the region's
  pixel count), and whether the map's highest pixel lies in the region, within a tolerance of one network input pixel
  on the screen (the map holds no finer detail; the pointing game of Zhang et al. 2016 allows 15 px); the hit rate
  comes with its 95% Wilson interval over the states (`wilson_interval`: with 32 states it spans about 30 points, so a
  rate near a bar says little alone).
- `map_variable`: both measures for one variable, layer and method, over the states of a `ScreenPerturbations`:
  each state's network inputs (the state, then the state with the variable perturbed) and the fraction of the
  perturbations that changed each screen pixel (the reference); for a variable the game draws only on events, whose
  perturbation changes no pixel, the state alone and where play draws its value (reference "play"). What a game
  supplies is that object
  (agents.probing.game.GameAdapter.screen_perturbations); the rest names no game.
- `write_screen_maps`: screen_maps.npz, screen_maps.csv and one PNG per variable (the map beside the reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from agents.probing.probes import HEAD_NAMES, Layer, ProbeError
from breakout_py.files import atomic_write, atomic_write_with, write_table

METHODS = ("gradient", "gradient_x_input", "gradient_x_foreground")
DIRECTIONS = ("probe", "meandiff")  # the function vectors of agents.probing.probes: probe weights, mean difference
# Chosen by measurement on both shipped pixel agents (agents/trained/results/probe.md, "Function-vector screen maps").
DEFAULT_METHOD = "gradient_x_foreground"
DEFAULT_DIRECTION = "meandiff"


@dataclass
class ScreenPerturbations:
    """A variable perturbed in some states of play, as the network sees it and as the screen shows it."""

    obs: np.ndarray  # (B, P + 1, F, S, S) uint8: per state its network input, then the P perturbed inputs
    changed: np.ndarray  # (B, H, W) float32: per state, the fraction of its perturbations that changed each screen
    #                      pixel (in any frame of the stack); all zero where the variable is not drawn
    screen: np.ndarray  # (B, H, W) uint8: each state's newest screen, greyscale (the figures' backdrop)
    reference_source: str = "perturbation"  # or "play": where play draws a variable the game draws on events (P = 0;
    #                                         changed: the region of the state's value there)


@dataclass
class ScreenMap:
    """One variable's function-vector map at one layer, by one method, against the reference."""

    variable: str
    layer: str
    direction: str  # which function vector: DIRECTIONS
    method: str
    mean_map: np.ndarray  # (H, W) mean over the states with a region of their normalised maps
    reference: np.ndarray  # (H, W) mean change frequency over the same states
    iou: float  # top-k IoU of the two means (nan when the reference is empty)
    k: int  # pixels in the reference's region
    tolerance: int  # the pointing game's tolerance, screen pixels (pointing_tolerance)
    state_iou: np.ndarray  # (B',) per state with a region: top-k IoU of its map with its own region
    hits: np.ndarray  # (B',) per state with a region: the map of the state itself peaks inside its region
    chosen: bool = False  # the layer and method of the variable's headline figures
    reference_source: str = "perturbation"  # ScreenPerturbations.reference_source

    @property
    def hit_rate(self) -> float:
        return float(self.hits.mean()) if self.hits.size else float("nan")

    @property
    def hit_interval(self) -> tuple[float, float]:
        return wilson_interval(int(self.hits.sum()), int(self.hits.size))

    @property
    def state_iou_median(self) -> float:
        return float(np.median(self.state_iou)) if self.state_iou.size else float("nan")


def direction_maps(agent: nn.Module, layer: Layer, direction: np.ndarray, obs: np.ndarray,
                   method: str = DEFAULT_METHOD, background: np.ndarray | None = None,
                   batch_size: int = 256) -> np.ndarray:
    """(N, S, S) float32: per frame stack in `obs` (N, F, S, S), the input map of the layer's projection on the
    unit `direction` (layer.size,), summed over the frames (see the module docstring); `background` (F, S, S) is
    gradient_x_foreground's (the per-pixel median of `obs` when None)."""
    if method not in METHODS:
        raise ProbeError(f"unknown screen-map method {method!r}; use one of {list(METHODS)}")
    if method == "gradient_x_foreground":
        background = np.median(obs, axis=0) if background is None else background
        reference = torch.as_tensor(np.asarray(background, dtype=np.float32))
    if direction.shape != (layer.size,):
        raise ProbeError(f"a direction of {layer.name} has {layer.size} entries, got shape {direction.shape}")
    module = dict(agent.named_modules())[layer.output_path]
    device = next(agent.parameters()).device
    d = torch.as_tensor(direction, dtype=torch.float32, device=device)
    captured: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, i, o: captured.append(o))
    out = []
    try:
        for start in range(0, len(obs), batch_size):
            x = torch.as_tensor(obs[start:start + batch_size], device=device).float().requires_grad_(True)
            captured.clear()
            agent.get_action_and_value(x, torch.zeros(len(x), dtype=torch.long, device=device))
            # samples do not interact, so the gradient of the sum is each sample's own gradient
            (captured[0].reshape(len(x), -1) @ d).sum().backward()
            grad = x.grad if method == "gradient" else x.grad * x if method == "gradient_x_input" else \
                x.grad * (x - reference.to(device))
            out.append(grad.abs().sum(1).detach().cpu().numpy())
    finally:
        handle.remove()
    return np.concatenate(out).astype(np.float32)


def to_screen(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(N, S, S) maps at the network's input size -> (N, H, W) at the screen's, bilinear (pixel centres aligned)."""
    if maps.shape[1:] == tuple(shape):
        return maps.astype(np.float32)
    up = F.interpolate(torch.as_tensor(maps, dtype=torch.float32)[:, None], size=tuple(shape), mode="bilinear",
                       align_corners=False)
    return up[:, 0].clamp_min(0).numpy()


def top_k_pixels(heat: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k highest positive pixels of `heat` (fewer when fewer are positive)."""
    flat = heat.ravel()
    mask = np.zeros(flat.size, dtype=bool)
    k = min(int(k), int(np.count_nonzero(flat > 0)))
    if k > 0:
        mask[np.argpartition(-flat, k - 1)[:k]] = True
    return mask.reshape(heat.shape)


def top_k_iou(heat: np.ndarray, reference: np.ndarray, k: int | None = None) -> tuple[float, int]:
    """(IoU, k): the intersection over union of the k highest pixels of `heat` with the reference's region (its
    k highest pixels; k = its nonzero pixel count when None). nan when the reference is empty."""
    if heat.shape != reference.shape:
        raise ProbeError(f"map {heat.shape} and reference {reference.shape} differ in shape")
    k = int(np.count_nonzero(reference > 0)) if k is None else int(k)
    if k == 0:
        return float("nan"), 0
    ours, theirs = top_k_pixels(heat, k), top_k_pixels(reference, k)
    return float(np.sum(ours & theirs) / np.sum(ours | theirs)), k


def pointing_hit(heat: np.ndarray, reference: np.ndarray, tolerance: int = 0) -> bool:
    """The pointing game: the map's highest pixel lies in the reference's region, or within `tolerance` pixels of it
    (in both directions); a map with no positive pixel misses."""
    if heat.shape != reference.shape:
        raise ProbeError(f"map {heat.shape} and reference {reference.shape} differ in shape")
    if heat.max() <= 0:
        return False
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return bool((reference[max(y - tolerance, 0):y + tolerance + 1, max(x - tolerance, 0):x + tolerance + 1] > 0).any())


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate (95% for z = 1.96): unlike rate +- z * standard error it stays
    inside [0, 1] and is not empty at 0 or n successes. (nan, nan) for no trials."""
    if trials <= 0:
        return float("nan"), float("nan")
    rate, z2 = successes / trials, z * z
    centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * np.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def pointing_tolerance(input_shape: tuple[int, ...], screen_shape: tuple[int, ...]) -> int:
    """Screen pixels per network input pixel (rounded up): 0 when the network sees the screen at its own size."""
    ratio = max(screen / size for screen, size in zip(screen_shape, input_shape))
    return 0 if ratio <= 1 else int(np.ceil(ratio))


def _normalised(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its sum, so that every state weighs the same in a mean."""
    total = maps.reshape(len(maps), -1).sum(1)
    return maps / np.where(total > 0, total, 1)[:, None, None]


def map_variable(agent: nn.Module, layer: Layer, direction: np.ndarray, perturbations: ScreenPerturbations,
                 variable: str, method: str = DEFAULT_METHOD, background: np.ndarray | None = None,
                 direction_kind: str = DEFAULT_DIRECTION) -> ScreenMap:
    """The variable's map at `layer` along `direction` (a function vector of kind `direction_kind`), against the
    reference of `perturbations`.

    Each state's map is the mean of the normalised maps of its inputs (the state and its perturbed versions: the
    states the reference diffed), upsampled to the screen; its pointing game uses the map of the state itself, with
    a tolerance of one network input pixel (`pointing_tolerance`). The variable's map is the mean over the states
    whose reference region is not empty."""
    obs = perturbations.obs
    states, inputs = obs.shape[:2]
    screen_shape = perturbations.changed.shape[1:]
    raw = direction_maps(agent, layer, direction, obs.reshape(states * inputs, *obs.shape[2:]), method, background)
    per_input = to_screen(_normalised(raw), screen_shape).reshape(states, inputs, *screen_shape)
    per_state = per_input.mean(1)
    drawn = np.flatnonzero(perturbations.changed.reshape(states, -1).max(1) > 0)
    state_iou = np.array([top_k_iou(per_state[b], perturbations.changed[b])[0] for b in drawn])
    tolerance = pointing_tolerance(obs.shape[-2:], screen_shape)
    hits = np.array([pointing_hit(per_input[b, 0], perturbations.changed[b], tolerance) for b in drawn], dtype=bool)
    if drawn.size:
        mean_map, reference = per_state[drawn].mean(0), perturbations.changed[drawn].mean(0)
    else:
        mean_map, reference = per_state.mean(0), np.zeros(screen_shape, dtype=np.float32)
    iou, k = top_k_iou(mean_map, reference)
    return ScreenMap(variable, layer.name, direction_kind, method, mean_map.astype(np.float32), reference.astype(np.float32), iou, k,
                     tolerance, state_iou, hits, reference_source=perturbations.reference_source)


def choose(maps: list[ScreenMap], best_layer: dict[str, str], method: str = DEFAULT_METHOD,
           direction: str = DEFAULT_DIRECTION) -> list[ScreenMap]:
    """Marks each variable's headline map: at the layer where its probe scores best (`best_layer`), by `method`,
    along `direction`."""
    for m in maps:
        m.chosen = m.method == method and m.direction == direction and best_layer.get(m.variable) == m.layer
    return maps


def summary_of(maps: list[ScreenMap]) -> dict[str, Any]:
    """The headline figures: per chosen variable its IoU and hit rate, and their medians over variables with a
    region (for summary.json)."""
    chosen = [m for m in maps if m.chosen and m.k > 0]
    return {"method": next((m.method for m in maps if m.chosen), DEFAULT_METHOD),
            "direction": next((m.direction for m in maps if m.chosen), DEFAULT_DIRECTION),
            "variables": {m.variable: {"layer": m.layer, "reference": m.reference_source, "iou": m.iou, "k": m.k,
                                       "pointing_hit_rate": m.hit_rate,
                                       "pointing_interval": list(m.hit_interval),
                                       "pointing_tolerance_px": m.tolerance,
                                       "states": int(m.hits.size), "state_iou_median": m.state_iou_median}
                          for m in chosen},
            "median_iou": float(np.median([m.iou for m in chosen])) if chosen else float("nan"),
            "median_pointing_hit_rate": float(np.median([m.hit_rate for m in chosen])) if chosen else float("nan")}


def screen_map_lines(maps: list[ScreenMap]) -> list[str]:
    """One line per variable's headline map."""
    lines = []
    for m in maps:
        if not m.chosen:
            continue
        if m.k == 0:
            lines.append(f"screen map {m.variable}: perturbing it changed no screen pixel in the states tried")
            continue
        lines.append(f"screen map {m.variable} ({m.layer} {m.direction}, {m.method}): IoU {m.iou:.2f} with the "
                     f"{m.reference_source} map "
                     f"(top {m.k} px), pointing game {int(m.hits.sum())}/{m.hits.size} = {m.hit_rate:.0%} "
                     f"[{m.hit_interval[0]:.0%}, {m.hit_interval[1]:.0%}] (within {m.tolerance} px)")
    return lines


CSV_HEADER = ["variable", "layer", "direction", "method", "chosen", "reference", "iou", "k", "pointing_hit_rate",
              "pointing_low", "pointing_high", "pointing_states", "pointing_tolerance_px", "state_iou_median"]


def write_screen_maps(maps: list[ScreenMap], backdrop: dict[str, np.ndarray], out_dir: str | Path) -> list[Path]:
    """screen_maps.npz (`<variable>/<layer>/<direction>/<method>` mean maps, `<variable>/reference`, `<variable>/screen`),
    screen_maps.csv (CSV_HEADER, one row per variable x layer x direction x method) and screen_maps/<variable>.png (the headline
    map beside the reference); `backdrop`: per variable a screen to draw under both."""
    out = Path(out_dir)
    arrays: dict[str, np.ndarray] = {}
    for m in maps:
        arrays[f"{m.variable}/{m.layer}/{m.direction}/{m.method}"] = m.mean_map
        arrays[f"{m.variable}/reference"] = m.reference
        arrays[f"{m.variable}/screen"] = backdrop[m.variable]
    written = [atomic_write_with(out / "screen_maps.npz", lambda tmp: np.savez_compressed(tmp, **arrays))]
    rows = [[m.variable, m.layer, m.direction, m.method, m.chosen, m.reference_source, m.iou, m.k, m.hit_rate,
             *m.hit_interval, m.hits.size, m.tolerance, m.state_iou_median] for m in maps]
    written.append(write_table(out / "screen_maps.csv", CSV_HEADER, rows))
    for m in maps:
        if m.chosen:
            written.append(atomic_write(out / "screen_maps" / f"{m.variable}.png", figure_png(m, backdrop[m.variable])))
    return written


REFERENCE_TITLES = {"perturbation": "perturbation map (the game redrawn)",
                    "play": "play map (where play draws its values)"}


def figure_png(m: ScreenMap, screen: np.ndarray) -> bytes:
    """The function-vector map beside the reference, each over the screen, titled with the measures."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), dpi=100)
    panels = [(m.mean_map, f"{m.direction} direction at {m.layer}, {m.method.replace('_', ' ')}"),
              (m.reference, REFERENCE_TITLES[m.reference_source])]
    for ax, (heat, title) in zip(axes, panels):
        ax.imshow(screen, cmap="gray", interpolation="nearest", alpha=0.5)
        if heat.max() > 0:  # the faintest 5% left out, so the screen shows through
            ax.imshow(np.ma.masked_where(heat < 0.05 * heat.max(), heat), cmap="inferno", interpolation="nearest",
                      alpha=0.85, vmin=0, vmax=float(heat.max()))
        if m.k and heat is m.mean_map:
            ax.contour(m.reference > 0, levels=[0.5], colors="cyan", linewidths=0.4, alpha=0.8)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    low, high = m.hit_interval
    title = (f"{m.variable}: IoU of the top {m.k} px {m.iou:.2f}; pointing game {m.hit_rate:.0%} [{low:.0%}, "
             f"{high:.0%}] of {m.hits.size} states (within {m.tolerance} px); cyan: the {m.reference_source} map's "
             "region" if m.k
             else f"{m.variable}: the {m.reference_source} map is empty (no screen pixel changed in the states tried)")
    fig.suptitle(title, fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def hidden_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers whose directions are mapped: every probed layer but the policy and value heads."""
    return [layer for layer in layers if layer.name not in HEAD_NAMES]
