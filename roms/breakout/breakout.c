/* Breakout for the Game Boy Color (also runs on the original Game Boy).
 *
 * The rules mirror the Python Breakout of this repository (breakout_py/core.py),
 * in Game Boy pixels and 60 frames per second:
 * - 18 columns x 6 rows of 8x4-px bricks; rows score 3, 3, 2, 2, 1, 1 from the top.
 * - A brick hit reverses the ball's vertical velocity; at most one brick per frame.
 * - The paddle sends the ball along (2.5 * offset, -1), offset in [-1, 1] being
 *   where the ball met it; the exact centre sends it straight up.
 * - Speed levels (breakout.h): +1 after the 4th and 12th paddle hit, +1 on the
 *   first orange brick (rows 2-3), +2 on the first red brick (rows 0-1); every
 *   new ball starts again at level 0 with these counters cleared.
 * - 3 balls; each rests SERVE_DELAY frames at a random x on the serve line, then
 *   moves down at 45 degrees to a random side. The draws come from rng_state on
 *   the first frame of each rest, so a seed written at the first frame of play
 *   decides the game.
 * - Game over when the last ball is lost or the wall is cleared.
 *
 * Every global below carries a comment "kind: description" that
 * roms/tools/make_symbols.py copies into breakout.symbols.json. */
#include <stdint.h>
#include "hardware.h"
#include "runtime.h"
#include "font.h"
#include "breakout.h"

#define SPRITE_BALL        0   /* OAM slot; the paddle uses the next ones */
#define SPRITE_PADDLE      1
#define OBJ_PALETTE_BALL   0
#define OBJ_PALETTE_PADDLE 1
#define BG_PALETTE_TEXT    0   /* walls and text; brick tile row r uses palette r + 1 */

#define BG_QUEUE_SIZE    32    /* bounded by one frame's brick hit plus HUD and message text */
#define LCDC_GAME        (LCDC_TILES_8000 | LCDC_OBJ_ON | LCDC_BG_ON)
#define DMG_PALETTE      0x1B  /* colour 0 black, 1 dark grey, 2 light grey, 3 white */

/* ---- game state ---- */
uint8_t game_state;          /* state: GAME_STATE_TITLE 0, GAME_STATE_PLAY 1, GAME_STATE_GAME_OVER 2 (breakout.h) */
uint8_t paddle_x;            /* state: left edge of the paddle in screen pixels (width 16) */
uint8_t ball_x;              /* state: left edge of the 4x4 ball in screen pixels */
uint8_t ball_y;              /* state: top edge of the ball in screen pixels (>= 144: lost) */
uint8_t ball_x_frac;         /* state: sub-pixel accumulator of horizontal motion, 1/256 px */
uint8_t ball_y_frac;         /* state: sub-pixel accumulator of vertical motion, 1/256 px */
int16_t ball_dx;             /* state: horizontal velocity in 1/256 px per frame (negative: left) */
int16_t ball_dy;             /* state: vertical velocity in 1/256 px per frame (negative: up) */
uint8_t ball_direction;      /* state: distance 0-9 px of the last paddle hit from the paddle centre, sets the angle (4: 45 degrees, also the serve) */
uint8_t ball_speed;          /* state: speed level 0-5 of the current ball, 1.25 + 0.25 * level px per frame */
uint8_t hit_count;           /* state: paddle hits by the current ball (saturates at 255) */
uint8_t reached_orange;      /* state: 1 once the current ball has broken an orange brick (rows 2-3) */
uint8_t reached_red;         /* state: 1 once the current ball has broken a red brick (rows 0-1) */
uint8_t lives;               /* state: balls left including the one in play (starts 3) */
uint16_t score;              /* state: points, binary little-endian */
uint8_t bricks[BRICK_COUNT]; /* state: 1 per present brick, row-major from the top-left, 18 per row */
uint8_t bricks_left;         /* state: bricks still present (starts 108) */
uint8_t serve_timer;         /* state: frames the ball still rests before it moves (0: in flight) */
uint8_t game_won;            /* state: 1 when the game ended by clearing the wall */
uint16_t title_frames;       /* runtime: frames spent on the title screen, mixed into the seed */

/* ---- background tile updates, written to VRAM during the next VBlank ---- */
uint16_t bg_queue_offset[BG_QUEUE_SIZE]; /* screen: tile-map offsets (from 0x9800) waiting to be written */
uint8_t bg_queue_tile[BG_QUEUE_SIZE];    /* screen: tile numbers waiting to be written */
uint8_t bg_queue_length;                 /* screen: entries in the queue */

static const uint8_t row_points[BRICK_ROWS] = {3, 3, 2, 2, 1, 1};

/* Unit vectors x 256 of (2.5 * o / PADDLE_REACH, -1) for |o| = 0..9 px:
 * round(256 * u / hypot(u, 1)) and round(256 / hypot(u, 1)), u = 0.25 * o. */
#define DIRECTIONS      (PADDLE_OFFSET_MAX + 1)
#define SERVE_DIRECTION 4      /* u = 1: 45 degrees */
static const uint8_t direction_dx[DIRECTIONS] = {0, 62, 114, 154, 181, 200, 213, 222, 229, 234};
static const uint16_t direction_dy[DIRECTIONS] = {256, 248, 229, 205, 181, 160, 142, 127, 114, 104};

/* 2bpp tiles: a brick is 8x4 px less a 1-px gap right and below */
static const uint8_t tile_brick_top[TILE_BYTES] = {
    0xFE, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t tile_brick_bottom[TILE_BYTES] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0x00,
};
static const uint8_t tile_brick_both[TILE_BYTES] = {
    0xFE, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0x00, 0x00, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0xFE, 0x00, 0x00,
};
/* 1 bit per pixel shapes, drawn into 2bpp tiles by vram_load_1bpp */
static const uint8_t shape_solid[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const uint8_t shape_ball[8] = {0xF0, 0xF0, 0xF0, 0xF0, 0x00, 0x00, 0x00, 0x00};
static const uint8_t shape_paddle[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00};

/* Colours of the Python Breakout (breakout_py/render.py) in 5 bits per channel */
#define BLACK RGB15(0, 0, 0)
#define WHITE RGB15(31, 31, 31)
#define GREY  RGB15(17, 17, 17)
#define RED   RGB15(31, 0, 0)
static const uint16_t cgb_text_palette[4] = {BLACK, GREY, GREY, GREY};
/* brick tile row r: colour 1 = brick row 2r, colour 2 = brick row 2r + 1 */
static const uint16_t cgb_brick_palettes[BRICK_TILE_ROWS][4] = {
    {BLACK, RGB15(24, 9, 9), RGB15(24, 13, 7), BLACK},    /* red, orange */
    {BLACK, RGB15(24, 18, 6), RGB15(23, 23, 6), BLACK},   /* dark yellow, yellow */
    {BLACK, RGB15(9, 24, 9), RGB15(8, 9, 25), BLACK},     /* green, blue */
};
static const uint16_t cgb_ball_palette[4] = {BLACK, WHITE, WHITE, WHITE};
static const uint16_t cgb_paddle_palette[4] = {BLACK, RED, RED, RED};

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

static void draw_score(void)
{
    uint16_t value = score;
    uint8_t col = SCORE_DIGITS_COL + 3;
    do {
        col--;
        set_bg_tile(col, HUD_ROW, TILE_FONT + (uint8_t)(value % 10));
        value /= 10;
    } while (col > SCORE_DIGITS_COL);
}

static void draw_lives(void)
{
    set_bg_tile(LIVES_DIGIT_COL, HUD_ROW, TILE_FONT + lives);
}

/* The tile showing brick column `col` of brick rows 2 * tile_row and 2 * tile_row + 1. */
static void draw_brick_tile(uint8_t col, uint8_t tile_row)
{
    uint8_t index = tile_row * (2 * BRICK_COLUMNS) + col;
    uint8_t shape = bricks[index] | (uint8_t)(bricks[index + BRICK_COLUMNS] << 1);
    set_bg_tile(BRICK_FIRST_COL + col, BRICK_TOP_ROW + tile_row,
                shape ? TILE_BRICK_TOP - 1 + shape : TILE_EMPTY);
}

/* Clear the tile map and, on CGB, its palette attributes (LCD off). */
static void clear_background(void)
{
    if (is_cgb()) {
        VBK_REG = 1;
        vram_fill(VRAM_BG_MAP, BG_PALETTE_TEXT, BG_MAP_WIDTH * SCREEN_TILES_H);
        VBK_REG = 0;
    }
    vram_fill(VRAM_BG_MAP, TILE_EMPTY, BG_MAP_WIDTH * SCREEN_TILES_H);
}

static void draw_playfield(void)
{
    uint8_t row, col;
    clear_background();
    for (col = 0; col < SCREEN_TILES_W; col++) {
        set_bg_tile(col, TOP_WALL_ROW, TILE_WALL);
    }
    for (row = TOP_WALL_ROW + 1; row < SCREEN_TILES_H; row++) {
        set_bg_tile(LEFT_WALL_COL, row, TILE_WALL);
        set_bg_tile(RIGHT_WALL_COL, row, TILE_WALL);
    }
    for (row = 0; row < BRICK_TILE_ROWS; row++) {
        for (col = 0; col < BRICK_COLUMNS; col++) {
            draw_brick_tile(col, row);
        }
    }
    if (is_cgb()) {
        /* bank 1 holds each tile's palette */
        VBK_REG = 1;
        for (row = 0; row < BRICK_TILE_ROWS; row++) {
            vram_fill(VRAM_BG_MAP + (uint16_t)(BRICK_TOP_ROW + row) * BG_MAP_WIDTH + BRICK_FIRST_COL,
                      row + 1, BRICK_COLUMNS);
        }
        VBK_REG = 0;
    }
    draw_text(1, HUD_ROW, "SCORE");
    draw_text(12, HUD_ROW, "LIVES");
    draw_score();
    draw_lives();
}

/* ---- sprites ---- */

/* OAM y = 0 hides a sprite */
static void draw_sprites(uint8_t show_ball, uint8_t show_paddle)
{
    uint8_t i;
    uint8_t *sprite = shadow_oam + 4 * SPRITE_BALL;

    sprite[0] = show_ball ? (uint8_t)(ball_y + OAM_Y_OFFSET) : 0;
    sprite[1] = ball_x + OAM_X_OFFSET;
    sprite[2] = TILE_BALL;
    sprite[3] = OBJ_PALETTE_BALL;
    sprite = shadow_oam + 4 * SPRITE_PADDLE;
    for (i = 0; i < PADDLE_SPRITES; i++) {
        sprite[0] = show_paddle ? PADDLE_Y + OAM_Y_OFFSET : 0;
        sprite[1] = paddle_x + OAM_X_OFFSET + i * 8;
        sprite[2] = TILE_PADDLE;
        sprite[3] = OBJ_PALETTE_PADDLE;  /* CGB palette 1; DMG uses OBP0 (bit 4 clear) */
        sprite += 4;
    }
}

/* ---- ball physics ---- */

/* Velocity from ball_direction and ball_speed, with the given signs (0 = +). */
static void set_velocity(uint8_t left, uint8_t up)
{
    uint16_t speed = BALL_SPEED_BASE + ball_speed * BALL_SPEED_STEP;  /* px per frame x 64 */
    int16_t dx = (int16_t)((direction_dx[ball_direction] * speed) >> 6);
    int16_t dy = (int16_t)((direction_dy[ball_direction] * speed) >> 6);
    ball_dx = left ? -dx : dx;
    ball_dy = up ? -dy : dy;
}

static void speed_up(uint8_t levels)
{
    ball_speed += levels;
    if (ball_speed > SPEED_LEVELS - 1) {
        ball_speed = SPEED_LEVELS - 1;
    }
    set_velocity(ball_dx < 0, ball_dy < 0);
}

/* A new ball: rests on the serve line; serve_ball() places it on the first rest frame. */
static void place_ball_for_serve(void)
{
    ball_x = (SERVE_X_MIN + SERVE_X_MAX) / 2;
    ball_y = SERVE_Y;
    ball_x_frac = 0;
    ball_y_frac = 0;
    ball_dx = 0;
    ball_dy = 0;
    ball_speed = 0;
    hit_count = 0;
    reached_orange = 0;
    reached_red = 0;
    serve_timer = SERVE_DELAY;
}

/* Runs after play has started, so a seed written into rng_state at the first
 * frame of play decides every serve. */
static void serve_ball(void)
{
    ball_x = SERVE_X_MIN + rng_next() % (SERVE_X_MAX - SERVE_X_MIN + 1);
    ball_direction = SERVE_DIRECTION;
    set_velocity(rng_next() & 1, 0);
}

static void end_game(uint8_t won)
{
    game_state = GAME_STATE_GAME_OVER;
    game_won = won;
    draw_text(won ? 6 : 5, MESSAGE_ROW, won ? "YOU WIN" : "GAME OVER");
}

static void lose_ball(void)
{
    lives--;
    draw_lives();
    if (lives == 0) {
        end_game(0);
    } else {
        place_ball_for_serve();
    }
}

/* Remove the brick under pixel (px, py), if any; returns 1 when one was broken. */
static uint8_t break_brick_at(uint8_t px, uint8_t py)
{
    uint8_t row, col, index;
    if (py < BRICK_TOP || py >= BRICK_BOTTOM) {
        return 0;
    }
    row = (uint8_t)(py - BRICK_TOP) / BRICK_HEIGHT;
    col = (uint8_t)(px - PLAYFIELD_LEFT) / BRICK_WIDTH;
    index = row * BRICK_COLUMNS + col;
    if (!bricks[index]) {
        return 0;
    }
    bricks[index] = 0;
    bricks_left--;
    score += row_points[row];
    draw_brick_tile(col, row >> 1);
    draw_score();
    if (row < RED_ROWS_END) {
        if (!reached_red) {
            reached_red = 1;
            speed_up(2);
        }
    } else if (row < ORANGE_ROWS_END) {
        if (!reached_orange) {
            reached_orange = 1;
            speed_up(1);
        }
    }
    return 1;
}

static void bounce_off_paddle(void)
{
    int16_t offset = (int16_t)(ball_x + BALL_SIZE / 2) - (int16_t)(paddle_x + PADDLE_WIDTH / 2);
    uint8_t left = offset < 0;
    ball_direction = (uint8_t)(left ? -offset : offset);
    if (ball_direction > PADDLE_OFFSET_MAX) {
        ball_direction = PADDLE_OFFSET_MAX;
    }
    set_velocity(left, 1);
    if (hit_count < HIT_COUNT_MAX) {
        hit_count++;
    }
    if (hit_count == SPEEDUP_HIT_1 || hit_count == SPEEDUP_HIT_2) {
        speed_up(1);
    }
}

/* The ball's leading edge meets a brick: break it and send the ball back vertically. */
static uint8_t brick_under_leading_edge(void)
{
    uint8_t edge = ball_dy < 0 ? ball_y : ball_y + BALL_SIZE - 1;
    if (break_brick_at(ball_x + BALL_SIZE / 2, edge)) {
        ball_dy = -ball_dy;
        return 1;
    }
    return 0;
}

static void step_x(void)
{
    if (ball_dx < 0) {
        if (ball_x == PLAYFIELD_LEFT) {
            ball_dx = -ball_dx;
            return;
        }
        ball_x--;
    } else {
        if (ball_x + BALL_SIZE == PLAYFIELD_RIGHT) {
            ball_dx = -ball_dx;
            return;
        }
        ball_x++;
    }
}

/* Returns 1 when the ball was lost. */
static uint8_t step_y(void)
{
    if (ball_dy < 0) {
        if (ball_y == PLAYFIELD_TOP) {
            ball_dy = -ball_dy;
            return 0;
        }
        ball_y--;
    } else {
        ball_y++;
        if (ball_y >= SCREEN_HEIGHT) {
            lose_ball();
            return 1;
        }
        if (ball_y + BALL_SIZE == PADDLE_Y && ball_x + BALL_SIZE > paddle_x
            && ball_x < paddle_x + PADDLE_WIDTH) {
            bounce_off_paddle();
        }
    }
    return 0;
}

/* Move the ball one pixel at a time so that it never skips a brick or the
 * paddle; at most one brick breaks per frame. */
static void move_ball(void)
{
    uint16_t acc;
    uint8_t steps_x, steps_y;
    uint8_t brick_broken = 0;
    acc = ball_x_frac + (uint16_t)(ball_dx < 0 ? -ball_dx : ball_dx);
    steps_x = (uint8_t)(acc >> 8);
    ball_x_frac = (uint8_t)acc;
    acc = ball_y_frac + (uint16_t)(ball_dy < 0 ? -ball_dy : ball_dy);
    steps_y = (uint8_t)(acc >> 8);
    ball_y_frac = (uint8_t)acc;
    while (steps_x | steps_y) {
        if (steps_x) {
            steps_x--;
            step_x();
        }
        if (steps_y) {
            steps_y--;
            if (step_y()) {
                return;
            }
        }
        if (!brick_broken) {
            brick_broken = brick_under_leading_edge();
        }
    }
}

/* ---- screens ---- */

/* The screen is redrawn with the LCD off, which takes a few frames. */
static void enter_title(void)
{
    lcd_off();
    clear_background();
    draw_text(6, 6, "BREAKOUT");
    draw_text(4, 10, "PRESS START");
    title_frames = 0;
    game_state = GAME_STATE_TITLE;
    draw_sprites(0, 0);
    oam_dma();
    lcd_on(LCDC_GAME);
}

static void start_game(void)
{
    uint8_t i;
    /* on hardware the player's timing varies the game */
    rng_seed(rng_state ^ title_frames);
    for (i = 0; i < BRICK_COUNT; i++) {
        bricks[i] = 1;
    }
    bricks_left = BRICK_COUNT;
    score = 0;
    lives = START_LIVES;
    game_won = 0;
    ball_direction = SERVE_DIRECTION;
    paddle_x = PADDLE_START_X;
    place_ball_for_serve();

    lcd_off();
    bg_queue_length = 0;
    draw_playfield();
    draw_sprites(1, 1);
    oam_dma();
    lcd_on(LCDC_GAME);
    /* The LCD shows a blank frame after it is switched on: start play once
     * it is over, so that the first frame of play shows the playfield. */
    wait_vblank();
    wait_frame_start();
    game_state = GAME_STATE_PLAY;
}

static void update_play(void)
{
    if (joypad_held & J_LEFT) {
        paddle_x = paddle_x > PLAYFIELD_LEFT + PADDLE_SPEED ? paddle_x - PADDLE_SPEED : PLAYFIELD_LEFT;
    } else if (joypad_held & J_RIGHT) {
        paddle_x = paddle_x + PADDLE_SPEED < PLAYFIELD_RIGHT - PADDLE_WIDTH
                       ? paddle_x + PADDLE_SPEED
                       : PLAYFIELD_RIGHT - PADDLE_WIDTH;
    }
    if (serve_timer) {
        if (serve_timer == SERVE_DELAY) {
            serve_ball();
        }
        serve_timer--;
        return;
    }
    move_ball();
    if (game_state == GAME_STATE_PLAY && bricks_left == 0) {
        end_game(1);
    }
}

static void init_video(void)
{
    uint8_t row;
    lcd_off();
    vram_load_1bpp(VRAM_TILES + TILE_EMPTY * TILE_BYTES, shape_solid, 1, 0);
    vram_load_1bpp(VRAM_TILES + TILE_WALL * TILE_BYTES, shape_solid, 1, 3);
    vram_copy(VRAM_TILES + TILE_BRICK_TOP * TILE_BYTES, tile_brick_top, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_BRICK_BOTTOM * TILE_BYTES, tile_brick_bottom, TILE_BYTES);
    vram_copy(VRAM_TILES + TILE_BRICK_BOTH * TILE_BYTES, tile_brick_both, TILE_BYTES);
    vram_load_1bpp(VRAM_TILES + TILE_FONT * TILE_BYTES, font_glyphs, FONT_GLYPHS, 3);
    vram_load_1bpp(VRAM_TILES + TILE_BALL * TILE_BYTES, shape_ball, 1, 3);
    vram_load_1bpp(VRAM_TILES + TILE_PADDLE * TILE_BYTES, shape_paddle, 1, 3);
    SCX_REG = 0;
    SCY_REG = 0;
    if (is_cgb()) {
        cgb_set_bg_palette(BG_PALETTE_TEXT, cgb_text_palette);
        for (row = 0; row < BRICK_TILE_ROWS; row++) {
            cgb_set_bg_palette(row + 1, cgb_brick_palettes[row]);
        }
        cgb_set_obj_palette(OBJ_PALETTE_BALL, cgb_ball_palette);
        cgb_set_obj_palette(OBJ_PALETTE_PADDLE, cgb_paddle_palette);
    } else {
        BGP_REG = DMG_PALETTE;
        OBP0_REG = DMG_PALETTE;
        OBP1_REG = DMG_PALETTE;
    }
}

void main(void)
{
    uint8_t pressed;
    init_video();
    enter_title();
    while (1) {
        /* VRAM and OAM are written during VBlank; the game logic runs after
         * it, while the LCD draws the frame, so the screen shows the state
         * of the frame before. */
        wait_vblank();
        oam_dma();
        flush_bg_queue();
        wait_frame_start();
        pressed = joypad_update();
        if (game_state == GAME_STATE_TITLE) {
            title_frames++;
            if (pressed & (J_START | J_A)) {
                start_game();
            }
        } else if (game_state == GAME_STATE_PLAY) {
            update_play();
        } else if (pressed & (J_START | J_A)) {
            enter_title();
        }
        draw_sprites(game_state == GAME_STATE_PLAY, game_state != GAME_STATE_TITLE);
    }
}
