/* Pong for the Game Boy Color (also runs on the original Game Boy).
 *
 * - The player's paddle is on the left (UP/DOWN move it 2 px per frame), the
 *   CPU's on the right. The CPU follows the ball only while the ball comes
 *   toward it past CPU_REACT_X, at CPU_SPEED px per frame, and drifts back to
 *   the centre otherwise: steep shots outrun it.
 * - The ball's velocity is a pair of int8_t in 1/32 px per frame; it moves one
 *   pixel at a time so that it never skips a paddle. A paddle hit sends it
 *   back with ball_dy set by where it met the paddle (pong.h) and, every
 *   SPEEDUP_HITS hits of the rally, 0.25 px per frame faster.
 * - A ball past the left edge is the CPU's point, past the right edge the
 *   player's. Each serve rests SERVE_DELAY frames ("SERVE" shows) at a random
 *   height on the centre line, then leaves toward a random side at a random
 *   angle. The draws come from rng_state on the first frame of each rest, so a
 *   seed written at the first frame of play decides the game.
 * - Game over when one side reaches WIN_SCORE points.
 * - Text (scores and messages) is composed in a RAM text buffer, one line per
 *   tile row, and copied into the background tile map during VBlank.
 * - sound.c plays the title tune and the effects of hits and points.
 *
 * Every global below carries a comment "kind: description" that
 * roms/tools/make_symbols.py copies into pong.symbols.json. */
#include <stdint.h>
#include "hardware.h"
#include "runtime.h"
#include "font.h"
#include "pong.h"
#include "sound.h"

#define SPRITE_BALL        0   /* OAM slots: the ball, then the player's paddle, then the CPU's */
#define SPRITE_PLAYER      1
#define SPRITE_CPU         (SPRITE_PLAYER + PADDLE_SPRITES)
#define OBJ_PALETTE_BALL   0
#define OBJ_PALETTE_PLAYER 1
#define OBJ_PALETTE_CPU    2
#define BG_PALETTE_FIELD   0

#define LCDC_GAME          (LCDC_TILES_8000 | LCDC_OBJ_ON | LCDC_BG_ON)
#define DMG_PALETTE        0x1B  /* colour 0 black, 1 dark grey, 2 light grey, 3 white */
#define SIDE_PLAYER        0
#define SIDE_CPU           1

/* ---- game state ---- */
uint8_t game_state;          /* state: GAME_STATE_TITLE 0, GAME_STATE_PLAY 1, GAME_STATE_GAME_OVER 2 (pong.h) */
uint8_t player_y;            /* state: top edge of the player's paddle (left, 4 x 24 px) in screen pixels */
uint8_t cpu_y;               /* state: top edge of the CPU's paddle (right, 4 x 24 px) in screen pixels */
uint8_t ball_x;              /* state: left edge of the 4x4 ball in screen pixels */
uint8_t ball_y;              /* state: top edge of the ball in screen pixels */
uint8_t ball_x_frac;         /* state: sub-pixel accumulator of horizontal motion, 1/32 px */
uint8_t ball_y_frac;         /* state: sub-pixel accumulator of vertical motion, 1/32 px */
int8_t ball_dx;              /* state: horizontal velocity in 1/32 px per frame (negative: toward the player) */
int8_t ball_dy;              /* state: vertical velocity in 1/32 px per frame (negative: up) */
uint8_t ball_speed;          /* state: |ball_dx| of the rally, BALL_SPEED_BASE..BALL_SPEED_MAX (1/32 px per frame) */
uint8_t hit_count;           /* state: paddle hits in the current rally (saturates at 255) */
uint8_t player_score;        /* state: the player's points (0..WIN_SCORE) */
uint8_t cpu_score;           /* state: the CPU's points (0..WIN_SCORE) */
uint8_t serve_timer;         /* state: frames the ball still rests before it moves (0: in flight) */
uint16_t title_frames;       /* runtime: frames spent on the title screen, mixed into the seed */

/* ---- text, written to the tile map during the next VBlank ---- */
uint8_t text_buffer[TEXT_LINES * SCREEN_TILES_W]; /* screen: tile numbers of the HUD, message and prompt rows, 20 per line */
uint8_t text_dirty;          /* screen: bit i set when text line i changed since it was last copied to VRAM */
uint8_t net_visible;         /* screen: 1 when cleared text lines show the net (play and game over) */

static const uint8_t text_line_rows[TEXT_LINES] = {HUD_ROW, MESSAGE_ROW, PROMPT_ROW};

/* 1 bit per pixel shapes, drawn into 2bpp tiles by vram_load_1bpp */
static const uint8_t shape_solid[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
static const uint8_t shape_net[8] = {0x03, 0x03, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00};
static const uint8_t shape_ball[8] = {0xF0, 0xF0, 0xF0, 0xF0, 0x00, 0x00, 0x00, 0x00};
static const uint8_t shape_paddle[8] = {0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0};

#define BLACK RGB15(0, 0, 0)
#define WHITE RGB15(31, 31, 31)
#define GREY  RGB15(16, 16, 16)
#define NAVY  RGB15(2, 4, 10)
static const uint16_t cgb_field_palette[4] = {NAVY, GREY, GREY, WHITE};
static const uint16_t cgb_ball_palette[4] = {BLACK, RGB15(31, 29, 8), WHITE, WHITE};
static const uint16_t cgb_player_palette[4] = {BLACK, RGB15(8, 28, 10), WHITE, WHITE};
static const uint16_t cgb_cpu_palette[4] = {BLACK, RGB15(30, 8, 8), WHITE, WHITE};

/* ---- text ---- */

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

/* Blank a text line (the net shows through it during play). */
static void text_clear(uint8_t line)
{
    uint8_t *tiles = text_buffer + line * SCREEN_TILES_W;
    uint8_t col;
    for (col = 0; col < SCREEN_TILES_W; col++) {
        tiles[col] = TILE_EMPTY;
    }
    if (net_visible && line != TEXT_LINE_HUD) {
        tiles[NET_COL] = TILE_NET;
    }
    text_dirty |= (uint8_t)(1 << line);
}

static void text_put(uint8_t line, uint8_t col, const char *text)
{
    uint8_t *tiles = text_buffer + line * SCREEN_TILES_W + col;
    while (*text) {
        *tiles++ = char_tile(*text++);
    }
    text_dirty |= (uint8_t)(1 << line);
}

/* A whole line with `text` centred on it. */
static void text_show(uint8_t line, const char *text)
{
    uint8_t length = 0;
    while (text[length]) {
        length++;
    }
    text_clear(line);
    text_put(line, (uint8_t)(SCREEN_TILES_W - length) / 2, text);
}

static void draw_scores(void)
{
    uint8_t *tiles = text_buffer + TEXT_LINE_HUD * SCREEN_TILES_W;
    tiles[PLAYER_SCORE_COL] = TILE_FONT + player_score;
    tiles[CPU_SCORE_COL] = TILE_FONT + cpu_score;
    text_dirty |= 1 << TEXT_LINE_HUD;
}

/* Copy the changed text lines into the tile map (VBlank or LCD off). */
static void flush_text(void)
{
    uint8_t line, col;
    const uint8_t *tiles;
    volatile uint8_t *map;
    for (line = 0; line < TEXT_LINES; line++) {
        if (text_dirty & (uint8_t)(1 << line)) {
            tiles = text_buffer + line * SCREEN_TILES_W;
            map = VRAM_BG_MAP + (uint16_t)text_line_rows[line] * BG_MAP_WIDTH;
            for (col = 0; col < SCREEN_TILES_W; col++) {
                map[col] = tiles[col];
            }
        }
    }
    text_dirty = 0;
}

/* ---- background (LCD off) ---- */

static void clear_background(void)
{
    if (is_cgb()) {
        VBK_REG = 1;  /* bank 1 holds each tile's palette */
        vram_fill(VRAM_BG_MAP, BG_PALETTE_FIELD, BG_MAP_WIDTH * SCREEN_TILES_H);
        VBK_REG = 0;
    }
    vram_fill(VRAM_BG_MAP, TILE_EMPTY, BG_MAP_WIDTH * SCREEN_TILES_H);
}

static void draw_court(void)
{
    uint8_t row;
    clear_background();
    vram_fill(VRAM_BG_MAP + TOP_WALL_ROW * BG_MAP_WIDTH, TILE_WALL, SCREEN_TILES_W);
    vram_fill(VRAM_BG_MAP + BOTTOM_WALL_ROW * BG_MAP_WIDTH, TILE_WALL, SCREEN_TILES_W);
    for (row = TOP_WALL_ROW + 1; row < BOTTOM_WALL_ROW; row++) {
        VRAM_BG_MAP[(uint16_t)row * BG_MAP_WIDTH + NET_COL] = TILE_NET;
    }
}

/* ---- sprites ---- */

static void draw_paddle(uint8_t slot, uint8_t x, uint8_t y, uint8_t palette, uint8_t show)
{
    uint8_t i;
    uint8_t *sprite = shadow_oam + 4 * slot;
    for (i = 0; i < PADDLE_SPRITES; i++) {
        sprite[0] = show ? (uint8_t)(y + OAM_Y_OFFSET + i * 8) : 0;
        sprite[1] = x + OAM_X_OFFSET;
        sprite[2] = TILE_PADDLE;
        sprite[3] = palette;  /* CGB palette; DMG uses OBP0 (bit 4 clear) */
        sprite += 4;
    }
}

/* OAM y = 0 hides a sprite */
static void draw_sprites(uint8_t show_ball, uint8_t show_paddles)
{
    uint8_t *sprite = shadow_oam + 4 * SPRITE_BALL;
    sprite[0] = show_ball ? (uint8_t)(ball_y + OAM_Y_OFFSET) : 0;
    sprite[1] = ball_x + OAM_X_OFFSET;
    sprite[2] = TILE_BALL;
    sprite[3] = OBJ_PALETTE_BALL;
    draw_paddle(SPRITE_PLAYER, PLAYER_X, player_y, OBJ_PALETTE_PLAYER, show_paddles);
    draw_paddle(SPRITE_CPU, CPU_X, cpu_y, OBJ_PALETTE_CPU, show_paddles);
}

/* ---- rules ---- */

/* A new rally: the ball rests on the centre line; serve_ball() places it on the first rest frame. */
static void place_ball_for_serve(void)
{
    ball_x = SERVE_X;
    ball_y = (SERVE_Y_MIN + SERVE_Y_MAX) / 2;
    ball_x_frac = 0;
    ball_y_frac = 0;
    ball_dx = 0;
    ball_dy = 0;
    ball_speed = BALL_SPEED_BASE;
    hit_count = 0;
    serve_timer = SERVE_DELAY;
    text_show(TEXT_LINE_MESSAGE, "SERVE");
}

/* Runs after play has started, so a seed written into rng_state at the first
 * frame of play decides every serve. */
static void serve_ball(void)
{
    ball_y = SERVE_Y_MIN + rng_next() % (SERVE_Y_MAX - SERVE_Y_MIN + 1);
    ball_dy = (int8_t)(rng_next() % (2 * SERVE_DY_MAX + 1)) - SERVE_DY_MAX;
    ball_dx = (rng_next() & 1) ? (int8_t)ball_speed : -(int8_t)ball_speed;
}

static void end_game(void)
{
    game_state = GAME_STATE_GAME_OVER;
    text_show(TEXT_LINE_MESSAGE, "GAME OVER");
    text_show(TEXT_LINE_PROMPT, player_score == WIN_SCORE ? "YOU WIN" : "CPU WINS");
    sfx_play(SFX_GAME_OVER);
}

static void score_point(uint8_t side)
{
    if (side == SIDE_PLAYER) {
        player_score++;
        sfx_play(SFX_PLAYER_POINT);
    } else {
        cpu_score++;
        sfx_play(SFX_CPU_POINT);
    }
    draw_scores();
    if (player_score == WIN_SCORE || cpu_score == WIN_SCORE) {
        end_game();
    } else {
        place_ball_for_serve();
    }
}

static uint8_t ball_meets(uint8_t paddle_y)
{
    return ball_y + BALL_SIZE > paddle_y && ball_y < paddle_y + PADDLE_HEIGHT;
}

/* Send the ball back from the paddle at `paddle_y`: the farther from its centre, the steeper. */
static void bounce_off_paddle(uint8_t paddle_y, uint8_t to_right)
{
    int8_t offset = (int8_t)(ball_y + BALL_SIZE / 2) - (int8_t)(paddle_y + PADDLE_HEIGHT / 2);
    ball_dy = (int8_t)(offset * BALL_DY_PER_PX);
    if (hit_count < HIT_COUNT_MAX) {
        hit_count++;
    }
    if (hit_count % SPEEDUP_HITS == 0 && ball_speed < BALL_SPEED_MAX) {
        ball_speed += BALL_SPEED_STEP;
    }
    ball_dx = to_right ? (int8_t)ball_speed : -(int8_t)ball_speed;
    sfx_play(SFX_PADDLE);
}

/* One pixel sideways; returns 1 when the ball left the court (a point). */
static uint8_t step_x(void)
{
    if (ball_dx < 0) {
        if (ball_x == 0) {
            score_point(SIDE_CPU);
            return 1;
        }
        ball_x--;
        if (ball_x == PLAYER_X + PADDLE_WIDTH && ball_meets(player_y)) {
            bounce_off_paddle(player_y, 1);
        }
    } else {
        if (ball_x + BALL_SIZE == SCREEN_WIDTH) {
            score_point(SIDE_PLAYER);
            return 1;
        }
        ball_x++;
        if (ball_x + BALL_SIZE == CPU_X && ball_meets(cpu_y)) {
            bounce_off_paddle(cpu_y, 0);
        }
    }
    return 0;
}

static void step_y(void)
{
    if (ball_dy < 0) {
        if (ball_y == PLAYFIELD_TOP) {
            ball_dy = -ball_dy;
            sfx_play(SFX_WALL);
            return;
        }
        ball_y--;
    } else {
        if (ball_y + BALL_SIZE == PLAYFIELD_BOTTOM) {
            ball_dy = -ball_dy;
            sfx_play(SFX_WALL);
            return;
        }
        ball_y++;
    }
}

/* Move the ball one pixel at a time so that it never skips a paddle. */
static void move_ball(void)
{
    uint8_t acc, steps_x, steps_y;
    acc = ball_x_frac + (uint8_t)(ball_dx < 0 ? -ball_dx : ball_dx);
    steps_x = acc >> SUBPIXEL_SHIFT;
    ball_x_frac = acc & SUBPIXEL_MASK;
    acc = ball_y_frac + (uint8_t)(ball_dy < 0 ? -ball_dy : ball_dy);
    steps_y = acc >> SUBPIXEL_SHIFT;
    ball_y_frac = acc & SUBPIXEL_MASK;
    while (steps_x | steps_y) {
        if (steps_x) {
            steps_x--;
            if (step_x()) {
                return;
            }
        }
        if (steps_y) {
            steps_y--;
            step_y();
        }
    }
}

static void move_player(void)
{
    if (joypad_held & J_UP) {
        player_y = player_y > PADDLE_Y_MIN + PLAYER_SPEED ? player_y - PLAYER_SPEED : PADDLE_Y_MIN;
    } else if (joypad_held & J_DOWN) {
        player_y = player_y + PLAYER_SPEED < PADDLE_Y_MAX ? player_y + PLAYER_SPEED : PADDLE_Y_MAX;
    }
}

/* The CPU aims its centre at the ball's while the ball flies toward it on its side of CPU_REACT_X,
 * else at the court's centre. */
static void move_cpu(void)
{
    uint8_t target = PADDLE_START_Y;
    if (serve_timer == 0 && ball_dx > 0 && ball_x >= CPU_REACT_X) {
        target = ball_y + BALL_SIZE / 2;
        target = target < PADDLE_Y_MIN + PADDLE_HEIGHT / 2 ? PADDLE_Y_MIN : target - PADDLE_HEIGHT / 2;
        if (target > PADDLE_Y_MAX) {
            target = PADDLE_Y_MAX;
        }
    }
    if (cpu_y + CPU_DEAD_ZONE < target) {
        cpu_y += CPU_SPEED;
    } else if (cpu_y > target + CPU_DEAD_ZONE) {
        cpu_y -= CPU_SPEED;
    }
}

static void update_play(void)
{
    move_player();
    move_cpu();
    if (serve_timer) {
        if (serve_timer == SERVE_DELAY) {
            serve_ball();
        }
        serve_timer--;
        if (serve_timer == 0) {
            text_clear(TEXT_LINE_MESSAGE);
        }
        return;
    }
    move_ball();
}

/* ---- screens ---- */

/* The screen is redrawn with the LCD off, which takes a few frames. */
static void enter_title(void)
{
    lcd_off();
    clear_background();
    net_visible = 0;
    text_clear(TEXT_LINE_HUD);
    text_show(TEXT_LINE_MESSAGE, "PONG");
    text_show(TEXT_LINE_PROMPT, "PRESS START");
    flush_text();
    title_frames = 0;
    game_state = GAME_STATE_TITLE;
    draw_sprites(0, 0);
    oam_dma();
    lcd_on(LCDC_GAME);
    music_start();
}

static void start_game(void)
{
    /* on hardware the player's timing varies the game */
    rng_seed(rng_state ^ title_frames);
    music_stop();
    player_score = 0;
    cpu_score = 0;
    player_y = PADDLE_START_Y;
    cpu_y = PADDLE_START_Y;

    lcd_off();
    draw_court();
    net_visible = 1;
    text_clear(TEXT_LINE_HUD);
    text_put(TEXT_LINE_HUD, PLAYER_SCORE_COL - 4, "YOU");
    text_put(TEXT_LINE_HUD, CPU_SCORE_COL - 4, "CPU");
    draw_scores();
    text_clear(TEXT_LINE_PROMPT);
    place_ball_for_serve();
    flush_text();
    draw_sprites(1, 1);
    oam_dma();
    lcd_on(LCDC_GAME);
    /* The LCD shows a blank frame after it is switched on: start play once
     * it is over, so that the first frame of play shows the court. */
    wait_vblank();
    wait_frame_start();
    game_state = GAME_STATE_PLAY;
}

static void init_video(void)
{
    lcd_off();
    vram_load_1bpp(VRAM_TILES + TILE_EMPTY * TILE_BYTES, shape_solid, 1, 0);
    vram_load_1bpp(VRAM_TILES + TILE_WALL * TILE_BYTES, shape_solid, 1, 1);
    vram_load_1bpp(VRAM_TILES + TILE_NET * TILE_BYTES, shape_net, 1, 1);
    vram_load_1bpp(VRAM_TILES + TILE_FONT * TILE_BYTES, font_glyphs, FONT_GLYPHS, 3);
    vram_load_1bpp(VRAM_TILES + TILE_BALL * TILE_BYTES, shape_ball, 1, 1);
    vram_load_1bpp(VRAM_TILES + TILE_PADDLE * TILE_BYTES, shape_paddle, 1, 1);
    SCX_REG = 0;
    SCY_REG = 0;
    if (is_cgb()) {
        cgb_set_bg_palette(BG_PALETTE_FIELD, cgb_field_palette);
        cgb_set_obj_palette(OBJ_PALETTE_BALL, cgb_ball_palette);
        cgb_set_obj_palette(OBJ_PALETTE_PLAYER, cgb_player_palette);
        cgb_set_obj_palette(OBJ_PALETTE_CPU, cgb_cpu_palette);
    } else {
        BGP_REG = DMG_PALETTE;
        OBP0_REG = DMG_PALETTE;
        OBP1_REG = DMG_PALETTE;
    }
}

void main(void)
{
    uint8_t pressed;
    sound_init();
    init_video();
    enter_title();
    while (1) {
        /* VRAM and OAM are written during VBlank; the game logic runs after
         * it, while the LCD draws the frame, so the screen shows the state
         * of the frame before. */
        wait_vblank();
        oam_dma();
        if (text_dirty) {
            flush_text();
        }
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
        sound_update();
        draw_sprites(game_state == GAME_STATE_PLAY, game_state != GAME_STATE_TITLE);
    }
}
