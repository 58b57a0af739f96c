;; Default options of runtime/crt0.s, assembled in front of it (roms/Makefile:
;; <rom>_CRT0_OPTIONS). A ROM that needs others gives its own file defining both.

;; Where the stack starts (it grows down): the top of WRAM.
CRT0_STACK_TOP = 0xE000
;; 1: the LCD STAT vector jumps to the ROM's _stat_handler; 0: it only returns
;; (the LY == 0 interrupt then just wakes wait_frame_start).
CRT0_STAT_HANDLER = 0
