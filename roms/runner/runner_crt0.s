;; Assembled in front of runtime/crt0.s for this ROM (roms/Makefile:
;; runner_CRT0_OPTIONS): the crt0 options the runner needs, and its level data
;; in CGB WRAM bank 2.

;; The LCD STAT vector jumps to _stat_handler (runner.c): the LY == LYC
;; interrupt splits the status bar off mid-frame.
CRT0_STAT_HANDLER = 1
;; The stack stays out of 0xD000-0xDFFF: that window shows WRAM bank 2 while the
;; game reads the column ring, and a stack there would change under the code.
CRT0_STACK_TOP = 0xD000

        .globl  _column_ring

        ;; This file comes first: name crt0.s's areas in its order (the linker
        ;; lays areas out in the order it first meets them), then the bank-2 one.
        .area   _CODE
        .area   _HOME
        .area   _INITIALIZER
        .area   _GSINIT
        .area   _GSFINAL
        .area   _SHADOW_OAM
        .area   _DATA
        .area   _INITIALIZED
        .area   _BSS
        .area   _HEAP

        ;; Placed at 0xD000 by the linker (runner_LDFLAGS: -b _WRAM_BANK2=0xD000).
        ;; On CGB the game selects bank 2 (SVBK) to reach it and bank 1 after; on
        ;; DMG, which has no SVBK, the same addresses are its fixed bank 1.
        .area   _WRAM_BANK2
_column_ring::  ; state uint8_t[32]: kind of each world column mod 32, COLUMN_EMPTY 0, COLUMN_BLOCK 1, COLUMN_BAR 2 (CGB WRAM bank 2, DMG bank 1)
        .ds     32
