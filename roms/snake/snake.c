/* Snake for the Game Boy Color (also runs on the original Game Boy).
 *
 * Rules:
 * - The snake lives on an 18 x 14 grid of background tiles inside a wall; it
 *   starts 3 cells long at the left of the middle row, heading right.
 * - It moves one cell every move_delay frames (12 at first, one less every 3
 *   foods, at least 4). The D-pad turns it; a turn back into itself is
 *   ignored. The direction pressed last before a move is the one it takes.
 * - Eating the food scores 1 point and grows the snake by one cell (the tail
 *   stays put on that move); new food appears on a random empty cell.
 * - The head may enter the cell the tail leaves on the same move.
 * - Game over when the head would hit a wall or the body (the snake stays
 *   where it was), or, as a win, when the snake fills the grid.
 * - Food is drawn from rng_state on the first frame of play and after each
 *   meal, so a seed written at the first frame of play decides the game.
 *
 * The playfield is the background map, not sprites: every move changes at most
 * three cells (new head, old head, old tail) plus the food and the HUD; those
 * tile changes go through a queue that the main loop writes to VRAM in the
 * next VBlank.
 *
 * Every global below carries a comment "kind: description" that
 * roms/tools/make_symbols.py copies into snake.symbols.json. */
#include <stdint.h>
#include "hardware.h"
#include "runtime.h"
#include "font.h"
#include "snake.h"

#define BG_PALETTE_GAME  0     /* one palette: 0 black, 1 snake, 2 food, 3 walls and text */
#define BG_QUEUE_SIZE    32    /* one move: 3 cells + food + 6 HUD digits, or a 9-letter message */
#define LCDC_GAME        (LCDC_TILES_8000 | LCDC_BG_ON)
#define DMG_PALETTE      0x1B  /* colour 0 black, 1 dark grey, 2 light grey, 3 white */

/* ---- game state ---- */
uint8_t game_state;            /* state: GAME_STATE_TITLE 0, GAME_STATE_PLAY 1, GAME_STATE_GAME_OVER 2 (snake.h) */
uint8_t body_x[BODY_CAPACITY]; /* state: ring buffer of the snake's cells (grid column 0-17), tail_index to head_index */
uint8_t body_y[BODY_CAPACITY]; /* state: ring buffer of the snake's cells, grid row 0-13, same indices as body_x */
uint8_t head_index;            /* state: ring buffer index of the head (wraps at 256) */
uint8_t tail_index;            /* state: ring buffer index of the tail (wraps at 256) */
uint8_t length;                /* state: cells in the snake, head_index - tail_index + 1 (starts 3) */
uint8_t board[GRID_CELLS];     /* state: per grid cell, row-major 18 per row: CELL_EMPTY 0, CELL_BODY 1, CELL_FOOD 2 */
uint8_t food_x;                /* state: grid column of the food */
uint8_t food_y;                /* state: grid row of the food */
uint8_t food_placed;           /* state: 0 until the first frame of play has drawn the food */
uint8_t direction;             /* state: DIR_UP 0, DIR_RIGHT 1, DIR_DOWN 2, DIR_LEFT 3: the way the last move went */
uint8_t next_direction;        /* state: the way the next move goes (the last D-pad press that is not a reversal) */
uint8_t move_delay;            /* state: frames between moves, 12 down to 4 as the snake eats */
uint8_t move_timer;            /* state: frames until the next move (moves when it reaches 0) */
uint16_t score;                /* state: points, binary little-endian, 1 per food */
uint8_t game_won;              /* state: 1 when the game ended with the grid full */
uint16_t title_frames;         /* runtime: frames spent on the title screen, mixed into the seed */

/* ---- background tile updates, written to VRAM during the next VBlank ---- */
uint16_t bg_queue_offset[BG_QUEUE_SIZE]; /* screen: tile-map offsets (from 0x9800) waiting to be written */
uint8_t bg_queue_tile[BG_QUEUE_SIZE];    /* screen: tile numbers waiting to be written */
uint8_t bg_queue_length;                 /* screen: entries in the queue */

static const int8_t direction_dx[4] = {0, 1, 0, -1};
static const int8_t direction_dy[4] = {-1, 0, 1, 0};

/* 2bpp tiles (per pixel row: low bit plane, high bit plane) */
static const uint8_t tile_body[TILE_BYTES] = {   /* colour 1 block with a 1-px gap around */
    0x00, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x00, 0x00,
};
static const uint8_t tile_head[TILE_BYTES] = {   /* the body block with two colour-3 eyes */
    0x00, 0x00, 0x7E, 0x00, 0x7E, 0x24, 0x7E, 0x24, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x00, 0x00,
};
static const uint8_t tile_food[TILE_BYTES] = {   /* colour 2 disc */
    0x00, 0x00, 0x00, 0x3C, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x7E, 0x00, 0x3C, 0x00, 0x00,
};
static const uint8_t shape_solid[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

#define BLACK RGB15(0, 0, 0)
static const uint16_t cgb_game_palette[4] = {BLACK, RGB15(8, 26, 8), RGB15(31, 6, 4), RGB15(20, 20, 20)};

/* ---- background drawing ---- */

/* Write a tile now when the LCD is off, else queue it for the next VBlank. */
static void set_bg_tile(uint8_t col, uint8_t row, uint8_t tile)
{
    uint16_t offset = (uint16_t)row * BG_MAP_WIDTH + col;
    if (!(LCDC_REG & LCDC_ON)) {
        VRAM_BG_MAP[offset] = tile;
    } else if (bg_queue_length < BG_QUEUE_SIZE) {
        bg_queue_offset[bg_queue_length] = offset;
        bg_queue_tile[bg_queue_length] = tile;
        bg_queue_length++;
    }
}

static void flush_bg_queue(void)
{
    uint8_t i;
    for (i = 0; i < bg_queue_length; i++) {
        VRAM_BG_MAP[bg_queue_offset[i]] = bg_queue_tile[i];
    }
    bg_queue_length = 0;
}

static void set_cell_tile(uint8_t x, uint8_t y, uint8_t tile)
{
    set_bg_tile(GRID_LEFT_COL + x, GRID_TOP_ROW + y, tile);
}

static uint8_t char_tile(char c)
{
    if (c >= '0' && c <= '9') {
        return TILE_FONT + (uint8_t)(c - '0');
    }
    if (c >= 'A' && c <= 'Z') {
        return TILE_FONT + 10 + (uint8_t)(c - 'A');
    }
    return TILE_EMPTY;
}

static void draw_text(uint8_t col, uint8_t row, const char *text)
{
    while (*text) {
        set_bg_tile(col++, row, char_tile(*text++));
    }
}

/* Three decimal digits ending at column first_col + 2. */
static void draw_number(uint8_t first_col, uint8_t row, uint16_t value)
{
    uint8_t col = first_col + 3;
    do {
        col--;
        set_bg_tile(col, row, TILE_FONT + (uint8_t)(value % 10));
        value /= 10;
    } while (col > first_col);
}

static void draw_hud(void)
{
    draw_number(SCORE_DIGITS_COL, HUD_ROW, score);
    draw_number(LENGTH_DIGITS_COL, HUD_ROW, length);
    set_bg_tile(SPEED_DIGIT_COL, STATUS_ROW, TILE_FONT + (uint8_t)(MOVE_DELAY_START + 1 - move_delay));
}

/* Clear the tile map and, on CGB, its palette attributes (LCD off). */
static void clear_background(void)
{
    if (is_cgb()) {
        VBK_REG = 1;
        vram_fill(VRAM_BG_MAP, BG_PALETTE_GAME, BG_MAP_WIDTH * SCREEN_TILES_H);
        VBK_REG = 0;
    }
    vram_fill(VRAM_BG_MAP, TILE_EMPTY, BG_MAP_WIDTH * SCREEN_TILES_H);
}

/* Walls, HUD and the snake's cells (LCD off). */
static void draw_playfield(void)
{
    uint8_t row, col, i;
    clear_background();
    for (col = LEFT_WALL_COL; col <= RIGHT_WALL_COL; col++) {
        set_bg_tile(col, TOP_WALL_ROW, TILE_WALL);
        set_bg_tile(col, BOTTOM_WALL_ROW, TILE_WALL);
    }
    for (row = TOP_WALL_ROW + 1; row < BOTTOM_WALL_ROW; row++) {
        set_bg_tile(LEFT_WALL_COL, row, TILE_WALL);
        set_bg_tile(RIGHT_WALL_COL, row, TILE_WALL);
    }
    for (i = tail_index; i != head_index; i++) {
        set_cell_tile(body_x[i], body_y[i], TILE_BODY);
    }
    set_cell_tile(body_x[head_index], body_y[head_index], TILE_HEAD);
    draw_text(1, HUD_ROW, "SCORE");
    draw_text(12, HUD_ROW, "LEN");
    draw_text(1, STATUS_ROW, "SPEED");
    draw_hud();
}

/* ---- rules ---- */

static uint8_t cell_index(uint8_t x, uint8_t y)
{
    return y * GRID_WIDTH + x;
}

/* Food on a random empty cell: a random start cell, then the first empty cell
 * from there in row-major order (wrapping). The grid must have an empty cell. */
static void place_food(void)
{
    uint8_t cell = rng_next();
    while (cell >= GRID_CELLS) {
        cell -= GRID_CELLS;
    }
    while (board[cell] != CELL_EMPTY) {
        cell = cell + 1 == GRID_CELLS ? 0 : cell + 1;
    }
    board[cell] = CELL_FOOD;
    food_y = cell / GRID_WIDTH;
    food_x = cell - food_y * GRID_WIDTH;
    set_cell_tile(food_x, food_y, TILE_FOOD);
}

static void end_game(uint8_t won)
{
    game_state = GAME_STATE_GAME_OVER;
    game_won = won;
    draw_text(won ? 6 : 5, MESSAGE_ROW, won ? "YOU WIN" : "GAME OVER");
}

static void set_move_delay(void)
{
    uint8_t steps = (uint8_t)((length - START_LENGTH) / FOODS_PER_SPEEDUP);
    move_delay = steps > MOVE_DELAY_START - MOVE_DELAY_MIN ? MOVE_DELAY_MIN : MOVE_DELAY_START - steps;
}

/* One cell forward in next_direction: eat, collide or just move. */
static void move_snake(void)
{
    uint8_t x = body_x[head_index] + (uint8_t)direction_dx[next_direction];
    uint8_t y = body_y[head_index] + (uint8_t)direction_dy[next_direction];
    uint8_t cell, eats;
    direction = next_direction;
    /* x and y are unsigned: one step left of column 0 or above row 0 wraps to 255 */
    if (x >= GRID_WIDTH || y >= GRID_HEIGHT) {
        end_game(0);
        return;
    }
    cell = cell_index(x, y);
    eats = board[cell] == CELL_FOOD;
    if (board[cell] == CELL_BODY
        && (eats || x != body_x[tail_index] || y != body_y[tail_index])) {
        end_game(0);
        return;
    }
    if (!eats) {  /* the tail leaves its cell first, so the head may take it */
        board[cell_index(body_x[tail_index], body_y[tail_index])] = CELL_EMPTY;
        set_cell_tile(body_x[tail_index], body_y[tail_index], TILE_EMPTY);
        tail_index++;
    }
    set_cell_tile(body_x[head_index], body_y[head_index], TILE_BODY);
    head_index++;
    body_x[head_index] = x;
    body_y[head_index] = y;
    board[cell] = CELL_BODY;
    set_cell_tile(x, y, TILE_HEAD);
    if (eats) {
        length++;
        score += POINTS_PER_FOOD;
        set_move_delay();
        if (length == GRID_CELLS) {
            draw_hud();
            end_game(1);
            return;
        }
        place_food();
        draw_hud();
    }
}

static void read_direction(void)
{
    uint8_t wanted;
    if (joypad_held & J_UP) {
        wanted = DIR_UP;
    } else if (joypad_held & J_DOWN) {
        wanted = DIR_DOWN;
    } else if (joypad_held & J_LEFT) {
        wanted = DIR_LEFT;
    } else if (joypad_held & J_RIGHT) {
        wanted = DIR_RIGHT;
    } else {
        return;
    }
    if (wanted != ((direction + 2) & 3)) {  /* reversing into the body is ignored */
        next_direction = wanted;
    }
}

static void update_play(void)
{
    /* Runs on the first frame of play, so a seed written then decides the food. */
    if (!food_placed) {
        food_placed = 1;
        place_food();
    }
    read_direction();
    if (--move_timer == 0) {
        move_snake();
        move_timer = move_delay;  /* after the move: a meal's speed-up counts from this move on */
    }
}

/* ---- screens ---- */

/* The screen is redrawn with the LCD off, which takes a few frames. */
static void enter_title(void)
{
    lcd_off();
    clear_background();
    draw_text(7, 6, "SNAKE");
    draw_text(4, 10, "PRESS START");
    title_frames = 0;
    game_state = GAME_STATE_TITLE;
    lcd_on(LCDC_GAME);
}

static void start_game(void)
{
    uint8_t i;
    /* on hardware the player's timing varies the game */
    rng_seed(rng_state ^ title_frames);
    for (i = 0; i < GRID_CELLS; i++) {
        board[i] = CELL_EMPTY;
    }
    tail_index = 0;
    head_index = START_LENGTH - 1;
    for (i = 0; i < START_LENGTH; i++) {
        body_x[i] = START_X + i;
        body_y[i] = START_Y;
        board[cell_index(START_X + i, START_Y)] = CELL_BODY;
    }
    length = START_LENGTH;
    direction = START_DIRECTION;
    next_direction = START_DIRECTION;
    score = 0;
    game_won = 0;
    food_placed = 0;
    food_x = 0;
    food_y = 0;
    set_move_delay();
    move_timer = move_delay;

    lcd_off();
    bg_queue_length = 0;
    draw_playfield();
    lcd_on(LCDC_GAME);
    /* The LCD shows a blank frame after it is switched on: start play once
     * it is over, so that the first frame of play shows the playfield. */
    wait_vblank();
    wait_frame_start();
    game_state = GAME_STATE_PLAY;
}

static void init_video(void)
{
    lcd_off();
    vram_load_1bpp(VRAM_TILES + TILE_EMPTY * TILE_BYTES, shape_solid, 1, 0);
    vram_load_1bpp(VRAM_TILES + TILE_WALL * TILE_BYTES, shape_solid, 1, 3);
    vram_copy(VRAM_TILES + TILE_BODY * TILE_BYTES, tile_body, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_HEAD * TILE_BYTES, tile_head, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_FOOD * TILE_BYTES, tile_food, TILE_BYTES);
    vram_load_1bpp(VRAM_TILES + TILE_FONT * TILE_BYTES, font_glyphs, FONT_GLYPHS, 3);
    SCX_REG = 0;
    SCY_REG = 0;
    if (is_cgb()) {
        cgb_set_bg_palette(BG_PALETTE_GAME, cgb_game_palette);
    } else {
        BGP_REG = DMG_PALETTE;
    }
}

void main(void)
{
    uint8_t pressed;
    init_video();
    enter_title();
    while (1) {
        /* VRAM is written during VBlank; the game logic runs after it, while
         * the LCD draws the frame, so the screen shows the state of the frame
         * before. No sprites: the shadow OAM stays empty. */
        wait_vblank();
        flush_bg_queue();
        wait_frame_start();
        pressed = joypad_update();
        if (game_state == GAME_STATE_TITLE) {
            title_frames++;
            if (pressed & J_START) {
                start_game();
            }
        } else if (game_state == GAME_STATE_PLAY) {
            update_play();
        } else if (pressed & J_START) {
            enter_title();
        }
    }
}
