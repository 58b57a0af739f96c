"""Which variable labels each unit and each conv channel in step 07's unit_labels.csv / channel_labels.csv (and the
report's activation charts).

A unit (or a channel: its best position) is labelled with the variable it correlates with most, among the variables
that vary on the test split, only when that |r| is at least LABEL_MIN_ABS_R and at least LABEL_MARGIN above what the
same architecture with random weights reaches for that variable at that layer (its best unit, or its best channel
position):
- a nearly constant target (a brick that breaks in a handful of states) correlates perfectly with some position by
  chance, so a variable labels units only when at least MIN_MINORITY_SHARE of the test split lies away from its
  most common value (for a 0/1 flag: a variance p(1 - p) of at least 0.0475);
- a first conv layer passes the picture on nearly unchanged even untrained, so a channel that reads a pixel-level
  variable as well as a random network does says nothing about what training built (measured on GBC Breakout's
  conv1: trained 0.9972 against random 0.9968 for a brick; the margin keeps such ties unlabelled).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

LABEL_MIN_ABS_R = 0.3
LABEL_MARGIN = 0.05
MIN_MINORITY_SHARE = 0.05


def varies_enough(test_targets: np.ndarray, min_share: float = MIN_MINORITY_SHARE) -> np.ndarray:
    """(K,) bool: at least `min_share` of the test samples differ from the column's most common value."""
    test_targets = np.asarray(test_targets)
    if len(test_targets) == 0:
        return np.zeros(test_targets.shape[1], dtype=bool)
    share = np.empty(test_targets.shape[1])
    for k in range(test_targets.shape[1]):
        _, counts = np.unique(test_targets[:, k], return_counts=True)
        share[k] = 1.0 - counts.max() / len(test_targets)
    return share >= min_share


def best_abs_r(correlations: np.ndarray) -> np.ndarray:
    """(K,) the largest |r| any unit of a layer reaches with each variable (the random-weights control)."""
    return np.abs(correlations).max(axis=0) if len(correlations) else np.zeros(correlations.shape[1])


def _label(abs_r: np.ndarray, control: np.ndarray, eligible: np.ndarray) -> tuple[int, str]:
    """(best eligible variable or -1, why it does not label the unit: "" when it does)."""
    candidates = np.where(eligible, abs_r, -1.0)
    k = int(candidates.argmax())
    if candidates[k] <= 0:
        return -1, "no variable that varies on the test split correlates"
    if abs_r[k] < LABEL_MIN_ABS_R:
        return k, f"|r| below {LABEL_MIN_ABS_R}"
    if abs_r[k] < control[k] + LABEL_MARGIN:
        return k, f"not {LABEL_MARGIN} above random weights"
    return k, ""


def unit_labels(layer: str, shape: Sequence[int], correlations: np.ndarray, control: np.ndarray,
                eligible: np.ndarray, names: Sequence[str], addresses: dict[str, str]) -> list[dict[str, Any]]:
    """One row per unit of a layer: its label ("" when none), its best eligible variable and r, the random-weights
    control's best |r| for that variable, and why it is unlabelled."""
    rows = []
    for unit, r in enumerate(correlations):
        k, why = _label(np.abs(r), control, eligible)
        best = names[k] if k >= 0 else ""
        rows.append({"layer": layer, "unit": unit, "index": "/".join(map(str, np.unravel_index(unit, tuple(shape)))),
                     "variable": "" if why else best, "address": addresses.get(best, "") if not why else "",
                     "best_variable": best, "r": float(r[k]) if k >= 0 else 0.0,
                     "abs_r": float(abs(r[k])) if k >= 0 else 0.0,
                     "random_weights_abs_r": float(control[k]) if k >= 0 else 0.0, "unlabelled_because": why})
    return rows


def channel_labels(layer: str, shape: Sequence[int], correlations: np.ndarray, control: np.ndarray,
                   eligible: np.ndarray, names: Sequence[str], addresses: dict[str, str]) -> list[dict[str, Any]]:
    """One row per channel of a conv layer (`shape` (C, H, W)), by the best |r| over its positions; `control` is
    the random-weights network's best |r| over all its channels and positions."""
    per_channel = np.abs(correlations).reshape(shape[0], -1, correlations.shape[1]).max(1)  # (C, K)
    rows = []
    for c in range(shape[0]):
        k, why = _label(per_channel[c], control, eligible)
        best = names[k] if k >= 0 else ""
        rows.append({"layer": layer, "channel": c, "variable": "" if why else best,
                     "address": addresses.get(best, "") if not why else "", "best_variable": best,
                     "abs_r": float(per_channel[c, k]) if k >= 0 else 0.0,
                     "random_weights_abs_r": float(control[k]) if k >= 0 else 0.0, "unlabelled_because": why})
    return rows
