"""Play a profiled Game Boy game in a pygame window through the env (the agent's view, one frame per step).

Keys (PyBoy's own layout): arrows = D-pad, Z = A, X = B, Enter = START, Backspace = SELECT. After game over,
SPACE starts a new game (next seed); ESC or closing the window quits. The held keys pick the profile action
with the same buttons (else the largest action whose buttons are all held, else NOOP).
"""

from __future__ import annotations

import os

from breakout_py.play import PlayOptionError
from gbc.env import GameBoyEnv
from gbc.hardware import FRAMES_PER_SECOND, SCREEN_HEIGHT, SCREEN_WIDTH
from gbc.window import Window

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

KEY_BUTTONS = {
    pygame.K_UP: "up", pygame.K_DOWN: "down", pygame.K_LEFT: "left", pygame.K_RIGHT: "right",
    pygame.K_z: "a", pygame.K_x: "b", pygame.K_RETURN: "start", pygame.K_BACKSPACE: "select",
}


def choose_action(actions: tuple[tuple[str, ...], ...], held: set[str]) -> int:
    """Index of the action whose buttons are held: exact match, else the largest held subset, else 0."""
    best, best_size = 0, -1
    for index, buttons in enumerate(actions):
        if set(buttons) == held:
            return index
        if set(buttons) <= held and len(buttons) > best_size:
            best, best_size = index, len(buttons)
    return best


def play(
    profile: str = "breakout",
    seed: int = 0,
    scale: int = 3,
    fps: float = FRAMES_PER_SECOND,
    max_frames: int = 0,
    scripted_keys: dict[int, list[tuple[int, int]]] | None = None,
) -> dict:
    """Runs the window until it is closed (or `max_frames` frames have passed, if positive).

    fps: frames per second (0: as fast as possible). `scripted_keys` maps a frame number to (event type, key)
    pairs posted as pygame events just before that frame, so a test can drive the real input path headless.
    Returns the frame count, games played, and the final score, lives and scalar variables of the profile (each
    read as its C type says: a signed one may be negative).
    """
    if scale < 1 or fps < 0 or max_frames < 0:
        raise PlayOptionError(f"need scale >= 1, fps >= 0 and max_frames >= 0, got {scale}, {fps}, {max_frames}")
    env = GameBoyEnv(profile, obs_type="ram", frame_skip=1, render_mode="rgb_array")
    window = Window(f"gbc: {env.profile.name}", SCREEN_WIDTH, SCREEN_HEIGHT, scale)
    held: set[str] = set()
    _, info = env.reset(seed=seed)
    frames, games, game_over, running = 0, 1, False, True
    try:
        while running and not window.closed and (max_frames == 0 or frames < max_frames):
            for event_type, key in (scripted_keys or {}).get(frames, ()):
                pygame.event.post(pygame.event.Event(event_type, key=key))
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    running = False
                elif event.type in (pygame.KEYDOWN, pygame.KEYUP) and event.key in KEY_BUTTONS:
                    (held.add if event.type == pygame.KEYDOWN else held.discard)(KEY_BUTTONS[event.key])
                elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE and game_over:
                    seed, games, game_over = seed + 1, games + 1, False
                    _, info = env.reset(seed=seed)
            if not running:
                break
            if not game_over:
                _, _, game_over, _, info = env.step(choose_action(env.profile.actions, held))
            frames += 1
            status = ("GAME OVER - SPACE: new game, ESC: quit" if game_over
                      else f"lives {info['lives']}" if "lives" in info else "")
            pygame.display.set_caption(f"gbc: {env.profile.name}   score {info['score']}   {status}")
            window.show(env.render(), fps)
        scalars = {n: v.value(env.game.read(n)) for n, v in env.profile.variables.items() if v.size <= 2}
    finally:
        window.close()
        env.close()
    return {"frames": frames, "games_played": games, "score": info["score"], "lives": info.get("lives"),
            "game_over": game_over, "variables": scalars}
