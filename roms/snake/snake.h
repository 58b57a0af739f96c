/* Snake for the Game Boy Color: constants shared by the game code and
 * copied into snake.symbols.json ("constants") for tools and tests. */
#ifndef SNAKE_H
#define SNAKE_H

#include "font.h"

/* game_state values */
#define GAME_STATE_TITLE     0   /* title screen, waits for START */
#define GAME_STATE_PLAY      1   /* playing */
#define GAME_STATE_GAME_OVER 2   /* hit a wall or the body, or filled the grid; START returns to title */

/* The grid: GRID_WIDTH x GRID_HEIGHT cells of one background tile each, cell (x, y)
 * at tile column GRID_LEFT_COL + x, tile row GRID_TOP_ROW + y; walls around it. */
#define GRID_WIDTH     18
#define GRID_HEIGHT    14
#define GRID_CELLS     (GRID_WIDTH * GRID_HEIGHT)   /* 252: fits the 256-entry ring buffer */
#define GRID_LEFT_COL  1
#define GRID_TOP_ROW   2

/* board[] values, one per cell, row-major from the top-left cell */
#define CELL_EMPTY 0
#define CELL_BODY  1   /* any segment, head and tail included */
#define CELL_FOOD  2

/* Directions (direction, next_direction); the opposite of d is (d + 2) % 4 */
#define DIR_UP    0
#define DIR_RIGHT 1
#define DIR_DOWN  2
#define DIR_LEFT  3

/* Body: a ring buffer of BODY_CAPACITY cells (body_x, body_y) indexed by uint8_t,
 * tail at tail_index, head at head_index = tail_index + length - 1 (mod 256). */
#define BODY_CAPACITY  256
#define START_LENGTH   3
#define START_X        5      /* the tail; the head starts START_LENGTH - 1 cells right of it */
#define START_Y        (GRID_HEIGHT / 2)
#define START_DIRECTION DIR_RIGHT

/* Speed: the snake moves every move_delay frames,
 * move_delay = max(MOVE_DELAY_MIN, MOVE_DELAY_START - foods eaten / FOODS_PER_SPEEDUP);
 * the speed level shown is MOVE_DELAY_START - move_delay + 1 (1-9). */
#define MOVE_DELAY_START   12
#define MOVE_DELAY_MIN     4
#define FOODS_PER_SPEEDUP  3
#define POINTS_PER_FOOD    1

/* Screen layout: tile rows and columns */
#define HUD_ROW           0
#define TOP_WALL_ROW      1
#define BOTTOM_WALL_ROW   (GRID_TOP_ROW + GRID_HEIGHT)      /* 16 */
#define LEFT_WALL_COL     0
#define RIGHT_WALL_COL    (GRID_LEFT_COL + GRID_WIDTH)      /* 19 */
#define STATUS_ROW        17   /* "SPEED n" under the bottom wall */
#define SCORE_DIGITS_COL  7    /* HUD: three score digits from this column */
#define LENGTH_DIGITS_COL 16   /* HUD: three length digits from this column */
#define SPEED_DIGIT_COL   7    /* status row: the speed level digit */
#define MESSAGE_ROW       8    /* "GAME OVER" / "YOU WIN" across the grid */

/* Background tiles (tile data at 0x8000) */
#define TILE_EMPTY  0
#define TILE_WALL   1
#define TILE_BODY   2
#define TILE_HEAD   3
#define TILE_FOOD   4
#define TILE_FONT   5    /* FONT_GLYPHS tiles: '0'-'9', 'A'-'Z' */

#endif
