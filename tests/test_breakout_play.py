"""breakout_py.play (what scripts/00_play.py runs) driven headless (SDL dummy video driver) with scripted key
events."""

import pygame
import pytest

from breakout_py import core
from breakout_py.errors import UserError
from breakout_py.play import PlayLoop, play


def test_arrow_keys_move_the_paddle():
    centre = (core.PLAY_LEFT + core.PLAY_RIGHT) / 2
    held = 15
    keys = {0: [(pygame.KEYDOWN, pygame.K_RIGHT)], held: [(pygame.KEYUP, pygame.K_RIGHT)]}
    summary = play(max_frames=40, fps=0, scripted_keys=keys)
    assert summary["frames"] == 40
    assert summary["paddle_x"] == pytest.approx(centre + held * core.PADDLE_SPEED)

    keys = {0: [(pygame.KEYDOWN, pygame.K_LEFT)], 5: [(pygame.KEYDOWN, pygame.K_RIGHT)], 10: [(pygame.KEYUP, pygame.K_RIGHT)]}
    summary = play(max_frames=20, fps=0, scripted_keys=keys)
    # left 5 frames, both held 5 frames (no move), left again 10 frames
    assert summary["paddle_x"] == pytest.approx(centre - 15 * core.PADDLE_SPEED)


def test_escape_quits():
    summary = play(max_frames=100, fps=0, scripted_keys={7: [(pygame.KEYDOWN, pygame.K_ESCAPE)]})
    assert summary["frames"] == 7


def test_game_over_then_space_starts_a_new_game():
    loop = PlayLoop()
    try:
        state = loop.state
        state.lives[:] = 1
        state.serve_timer[:] = 0
        state.score[:] = 42
        state.paddle_x[:] = core.PADDLE_MIN_X
        state.ball_x[:], state.ball_y[:], state.ball_vx[:], state.ball_vy[:] = core.PADDLE_MAX_X, 80.0, 0.0, 1.0
        for _ in range(10):
            loop.frame()
        assert loop.summary()["game_over"] and loop.summary()["lives"] == 0
        assert pygame.display.get_caption()[0].endswith("score 42   lives 0")
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE))
        loop.frame()
        summary = loop.summary()
        assert summary["games_played"] == 2 and not summary["game_over"]
        assert summary["lives"] == 3 and summary["score"] == 0 and state.bricks.all()
        shown = pygame.surfarray.array3d(pygame.display.get_surface())
        assert shown.shape == (core.SCREEN_SIZE * 8, core.SCREEN_SIZE * 8, 3) and shown.any()
    finally:
        loop.window.close()


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError, match="scale"):
        PlayLoop(scale=0)
    with pytest.raises(ValueError, match="fps"):
        play(fps=-1)
