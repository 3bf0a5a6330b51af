; Single-step traps in real mode: with TF set, #DB follows each instruction;
; the handler prints the address of the next one. Compared with QEMU's run.
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [1 * 4], debug_handler
    mov word [1 * 4 + 2], 0
    pushf
    pop ax
    or ah, 1                  ; TF
    push ax
    popf                      ; the trap comes after the next instruction
    nop
    mov bx, 1
    add bx, bx
    pushf
    pop ax
    and ah, 0xFE
    push ax
    popf                      ; TF off: the last trap follows this POPF
    mov al, 'E'
    out 0xE9, al
    out 0xF4, al
    hlt

debug_handler:
    push bp
    mov bp, sp
    mov al, [bp + 2]          ; the pushed IP's low byte
    out 0xE9, al
    pop bp
    iret

times 510 - ($ - $$) db 0
dw 0xAA55
