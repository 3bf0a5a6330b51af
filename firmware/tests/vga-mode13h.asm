; VGA register-level test for PCEmu's display tests: programs mode 13h
; through the ports (no BIOS call), loads a DAC ramp, draws a diagonal
; pattern with chain-4, then turns chain-4 off (mode X) and fills a band
; through the map mask, and redraws a block with write mode 1 (latch copy).
; Reports 'D' on port 0xE9 when the picture is done, then halts. Runs the
; same on PCEmu and qemu-system-i386; the test compares their screendumps.
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    cld

    mov dx, 0x3C2
    mov al, 0x63
    out dx, al
    mov dx, 0x3C4               ; sequencer
    mov si, sequencer
    mov cx, 5
    xor bl, bl
.seq:
    mov al, bl
    out dx, al
    inc dx
    lodsb
    out dx, al
    dec dx
    inc bl
    loop .seq
    mov dx, 0x3D4               ; CRTC: unprotect, then all 25
    mov ax, 0x0E11
    out dx, ax
    mov si, crtc
    mov cx, 25
    xor bl, bl
.crtc:
    mov al, bl
    out dx, al
    inc dx
    lodsb
    out dx, al
    dec dx
    inc bl
    loop .crtc
    mov dx, 0x3CE               ; graphics controller
    mov si, graphics
    mov cx, 9
    xor bl, bl
.gc:
    mov al, bl
    out dx, al
    inc dx
    lodsb
    out dx, al
    dec dx
    inc bl
    loop .gc
    mov dx, 0x3DA               ; attribute controller: flip-flop to index
    in al, dx
    mov dx, 0x3C0
    mov si, attribute
    mov cx, 21
    xor bl, bl
.atc:
    mov al, bl
    out dx, al
    lodsb
    out dx, al
    inc bl
    loop .atc
    mov al, 0x20                ; palette loaded: show the screen
    out dx, al

    mov dx, 0x3C8               ; DAC ramp: red = i, green = i / 4, blue = 63 - i (6 bits)
    xor al, al
    out dx, al
    inc dx
    xor bx, bx
.dac:
    mov al, bl
    and al, 63
    out dx, al
    mov al, bl
    shr al, 2
    out dx, al
    mov al, bl
    and al, 63
    neg al
    add al, 63
    out dx, al
    inc bx
    cmp bx, 256
    jne .dac

    mov ax, 0xA000              ; chain-4: pixel (x, y) = x + y
    mov es, ax
    xor di, di
    xor dx, dx                  ; y
.row:
    xor cx, cx                  ; x
.pixel:
    mov al, cl
    add al, dl
    stosb
    inc cx
    cmp cx, 320
    jne .pixel
    inc dx
    cmp dx, 200
    jne .row

    mov dx, 0x3C4               ; mode X: chain-4 off, planes 1 and 3 only
    mov ax, 0x0604
    out dx, ax
    mov ax, 0x0A02
    out dx, ax
    mov di, 80 * 100            ; rows 100-109 of the unchained layout
    mov cx, 80 * 10
    mov al, 0xC8
    rep stosb
    mov ax, 0x0F02              ; all planes, write mode 1: copy row 0 onto rows 150-151
    out dx, ax
    mov dx, 0x3CE
    mov ax, 0x4105
    out dx, ax
    push ds
    push es
    pop ds
    xor si, si
    mov di, 80 * 150
    mov cx, 80 * 2
.copy:
    lodsb                       ; loads the latches
    stosb                       ; writes them back
    loop .copy
    pop ds

    mov al, 'D'
    out 0xE9, al
.halt:
    hlt
    jmp .halt

sequencer: db 0x03, 0x01, 0x0F, 0x00, 0x0E
crtc:      db 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
           db 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF
graphics:  db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF
attribute: db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F
           db 0x41, 0x00, 0x0F, 0x00, 0x00

times 510 - ($ - $$) db 0
dw 0xAA55
