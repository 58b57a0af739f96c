/* Breakout for the Game Boy Color: constants shared by the game code and
 * copied into breakout.symbols.json ("constants") for tools and tests. */
#ifndef BREAKOUT_H
#define BREAKOUT_H

#include "font.h"

/* game_state values */
#define GAME_STATE_TITLE     0   /* title screen, waits for START or A */
#define GAME_STATE_PLAY      1   /* playing (serve_timer > 0: the ball rests before it moves) */
#define GAME_STATE_GAME_OVER 2   /* last ball lost or wall cleared; START or A returns to title */

/* Wall of bricks: BRICK_ROWS x BRICK_COLUMNS, one byte per brick (1 = present),
 * row-major from the top-left brick. Rows score 3, 3, 2, 2, 1, 1 from the top. */
#define BRICK_COLUMNS 18
#define BRICK_ROWS    6
#define BRICK_COUNT   (BRICK_COLUMNS * BRICK_ROWS)
#define BRICK_WIDTH   8
#define BRICK_HEIGHT  4          /* two brick rows per 8x8 background tile */
#define RED_ROWS_END    2        /* rows 0-1: first brick broken speeds the ball up 2 levels */
#define ORANGE_ROWS_END 4        /* rows 2-3: first brick broken speeds the ball up 1 level */

#define START_LIVES   3

/* Screen layout: tile rows and columns of 8 px, pixel bounds of the playfield */
#define HUD_ROW          0
#define TOP_WALL_ROW     1
#define LEFT_WALL_COL    0
#define RIGHT_WALL_COL   19    /* last of the 20 visible columns */
#define PLAYFIELD_LEFT   8     /* first pixel right of the left wall */
#define PLAYFIELD_RIGHT  152   /* first pixel of the right wall */
#define PLAYFIELD_TOP    16    /* first pixel below the top wall */
#define BRICK_TOP_ROW    4     /* tile row of the top pair of brick rows */
#define BRICK_TILE_ROWS  (BRICK_ROWS / 2)
#define BRICK_FIRST_COL  1     /* tile column of the leftmost brick */
#define BRICK_TOP        (BRICK_TOP_ROW * 8)
#define BRICK_BOTTOM     (BRICK_TOP + BRICK_ROWS * BRICK_HEIGHT)
#define MESSAGE_ROW      12    /* "GAME OVER" / "YOU WIN" */
#define SCORE_DIGITS_COL 7     /* HUD: three score digits from this column */
#define LIVES_DIGIT_COL  18    /* HUD: lives digit */

/* Background and sprite tiles (tile data at 0x8000) */
#define TILE_EMPTY        0
#define TILE_WALL         1
#define TILE_BRICK_TOP    2    /* upper brick of the tile present (colour 1) */
#define TILE_BRICK_BOTTOM 3    /* lower brick present (colour 2) */
#define TILE_BRICK_BOTH   4
#define TILE_FONT         5    /* FONT_GLYPHS tiles: '0'-'9', 'A'-'Z' */
#define TILE_BALL         (TILE_FONT + FONT_GLYPHS)
#define TILE_PADDLE       (TILE_BALL + 1)

/* Ball and paddle (screen pixels, frames) */
#define BALL_SIZE        4
#define PADDLE_WIDTH     16    /* two 8-px sprites */
#define PADDLE_SPRITES   2
#define PADDLE_Y         132   /* top pixel row of the paddle */
#define PADDLE_SPEED     2     /* px per frame while LEFT or RIGHT is held */
#define PADDLE_START_X   ((PLAYFIELD_LEFT + PLAYFIELD_RIGHT - PADDLE_WIDTH) / 2)
/* Where the ball meets the paddle, ball centre minus paddle centre, is -9..9 px;
 * it sends the ball along (2.5 * offset / PADDLE_REACH, -1). */
#define PADDLE_REACH     ((PADDLE_WIDTH + BALL_SIZE) / 2)
#define PADDLE_OFFSET_MAX (PADDLE_REACH - 1)

/* Serve: the ball rests SERVE_DELAY frames on the serve line, at a random x,
 * then moves down at 45 degrees to a random side. */
#define SERVE_Y          (BRICK_BOTTOM + 7 * BRICK_HEIGHT)
#define SERVE_X_MIN      (PLAYFIELD_LEFT + 8)
#define SERVE_X_MAX      (PLAYFIELD_RIGHT - 8 - BALL_SIZE)
#define SERVE_DELAY      40

/* Speed level 0-5: |velocity| = (BALL_SPEED_BASE + level * BALL_SPEED_STEP) / 64 px per frame.
 * +1 after the 4th and the 12th paddle hit, +1 on the first orange brick,
 * +2 on the first red brick; each new ball starts at level 0 with the counters cleared. */
#define SPEED_LEVELS     6
#define BALL_SPEED_BASE  80    /* 1.25 px per frame */
#define BALL_SPEED_STEP  16    /* 0.25 px per frame */
#define SPEEDUP_HIT_1    4
#define SPEEDUP_HIT_2    12
#define HIT_COUNT_MAX    255

#endif
