; What a hobby OS with a VESA desktop does, from a 1.44 MB floppy booted by
; SeaBIOS: it asks SeaVGABIOS for VBE mode 0x4143 (800x600, 32 bits per
; pixel, linear framebuffer), keeps taking PIT interrupts (IRQ 0 through the
; PIC) in real mode before and after the mode set, switches to protected mode
; with its own IDT and remapped PIC, takes more timer interrupts there, and
; draws its desktop into the framebuffer a piece per tick.
;
; Progress goes to port 0xE9 (-debugcon): V (VBE 2.0+ found), I (mode info:
; 800x600x32 with a framebuffer), T (ticks in real mode), M (mode set),
; R (ticks in real mode after it), P (ticks in protected mode), D (desktop
; drawn), then halts with interrupts on. A failure prints '!' and a letter:
; v, i, m for the VBE calls, e and the vector for a CPU exception.
;
; The boot sector loads the rest of the program (track 0) to 0x7E00.
bits 16
org 0x7C00

SECTORS      equ 8                ; sectors after the boot sector
VBE_INFO     equ 0x9000
MODE_INFO    equ 0x9200
IDT_BASE     equ 0xA000
MODE         equ 0x4143           ; mode 0x143 with bit 14: the linear framebuffer
PIT_DIVISOR  equ 1193             ; 1 kHz
TICKS        equ 50               ; timer interrupts each phase waits for

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov [boot_drive], dl
    mov bx, 0x7E00
    mov ax, 0x0200 | SECTORS
    mov cx, 0x0002
    xor dh, dh
    int 0x13
    jc load_failed
    jmp main

load_failed:
    mov al, '!'
    out 0xE9, al
    mov al, 'l'
    out 0xE9, al
.halt:
    hlt
    jmp .halt

boot_drive: db 0
    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- past the boot sector ----

; Reports AL on the debug console.
report:
    out 0xE9, al
    ret

fail:                             ; AL: the failure's letter
    push ax
    mov al, '!'
    out 0xE9, al
    pop ax
    out 0xE9, al
    cli
.halt:
    hlt
    jmp .halt

; IRQ 0 in real mode: count, then go on to the BIOS's handler (it sends the EOI).
real_timer:
    inc dword [cs:ticks]
    jmp far [cs:bios_timer]

; Waits until `ticks` has grown by TICKS, with interrupts off but for
; short windows, as OSes and boot firmware idle: half the ticks through
; STI; HLT; CLI, half through STI; NOP; NOP; CLI between polls.
wait_ticks_real:
    cli
    mov eax, [ticks]
    add eax, TICKS / 2
.nap:
    sti
    hlt
    cli
    cmp [ticks], eax
    jb .nap
    add eax, TICKS / 2
.poll:
    sti
    nop
    nop
    cli
    cmp [ticks], eax
    jb .poll
    sti
    ret

main:
    ; The PIT at 1 kHz, rate generator, as an OS sets its scheduler tick.
    cli
    mov al, 0x34
    out 0x43, al
    mov ax, PIT_DIVISOR
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov eax, [8 * 4]
    mov [bios_timer], eax
    mov word [8 * 4], real_timer
    mov [8 * 4 + 2], cs
    sti

    ; VBE controller information: "VESA", version 2.0 or later.
    mov dword [VBE_INFO], 'VBE2'
    mov di, VBE_INFO
    mov ax, 0x4F00
    int 0x10
    cmp ax, 0x004F
    jne .no_vbe
    cmp dword [VBE_INFO], 'VESA'
    jne .no_vbe
    cmp word [VBE_INFO + 4], 0x0200
    jb .no_vbe
    mov al, 'V'
    call report

    ; Mode information for 0x4143.
    mov di, MODE_INFO
    mov cx, MODE
    mov ax, 0x4F01
    int 0x10
    cmp ax, 0x004F
    jne .bad_mode
    cmp word [MODE_INFO + 0x12], 800
    jne .bad_mode
    cmp word [MODE_INFO + 0x14], 600
    jne .bad_mode
    cmp byte [MODE_INFO + 0x19], 32
    jne .bad_mode
    test byte [MODE_INFO], 0x80   ; a linear framebuffer
    jz .bad_mode
    mov eax, [MODE_INFO + 0x28]
    mov [framebuffer], eax
    movzx eax, word [MODE_INFO + 0x10]
    mov [pitch], eax
    mov al, 'I'
    call report

    call wait_ticks_real
    mov al, 'T'
    call report

    mov bx, MODE
    mov ax, 0x4F02
    int 0x10
    cmp ax, 0x004F
    jne .set_failed
    mov al, 'M'
    call report

    call wait_ticks_real
    mov al, 'R'
    call report

    ; Protected mode: its own GDT and IDT, the PIC's master at vector 0x20.
    cli
    mov di, IDT_BASE
    xor eax, eax
    mov cx, 0x30 * 2
    rep stosd
    mov di, IDT_BASE
    mov bx, exception_stubs
    mov cx, 0x20
.exception_gates:
    mov [di], bx
    mov dword [di + 2], 0x08 | (0x8E << 24)
    add bx, exception_stub_size
    add di, 8
    loop .exception_gates
    mov word [IDT_BASE + 0x20 * 8], protected_timer
    mov dword [IDT_BASE + 0x20 * 8 + 2], 0x08 | (0x8E << 24)

    mov al, 0x11                  ; ICW1: edge, cascade, ICW4
    out 0x20, al
    out 0xA0, al
    mov al, 0x20                  ; ICW2: vectors 0x20 and 0x28
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 0x04                  ; ICW3: the slave on IRQ 2
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01                  ; ICW4: 8086 mode
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE                  ; only IRQ 0
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

    lgdt [gdt_pointer]
    lidt [idt_pointer]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:protected

.no_vbe:
    mov al, 'v'
    jmp fail
.bad_mode:
    mov al, 'i'
    jmp fail
.set_failed:
    mov al, 'm'
    jmp fail

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    sti
    call wait_ticks
    mov al, 'P'
    out 0xE9, al

    ; The desktop: a teal background, then a grey window with a blue title
    ; bar, one band of 40 rows per tick, as a compositor would draw it.
    xor ebx, ebx                  ; the row
.band:
    mov eax, [ticks]
    inc eax
.next_tick:
    hlt
    cmp [ticks], eax
    jb .next_tick
    mov ecx, 40
.row:
    mov edi, ebx
    imul edi, [pitch]
    add edi, [framebuffer]
    xor edx, edx                  ; the column
.pixel:
    mov eax, 0x00008080           ; background
    cmp edx, 200
    jb .store
    cmp edx, 600
    jae .store
    cmp ebx, 150
    jb .store
    cmp ebx, 450
    jae .store
    mov eax, 0x00C0C0C0           ; window
    cmp ebx, 174
    jae .store
    mov eax, 0x00000080           ; title bar
.store:
    stosd
    inc edx
    cmp edx, 800
    jb .pixel
    inc ebx
    loop .row
    cmp ebx, 600
    jb .band
    mov al, 'D'
    out 0xE9, al
.idle:
    hlt
    jmp .idle

wait_ticks:
    cli
    mov eax, [ticks]
    add eax, TICKS / 2
.nap:
    sti
    hlt
    cli
    cmp [ticks], eax
    jb .nap
    add eax, TICKS / 2
.poll:
    sti
    nop
    nop
    cli
    cmp [ticks], eax
    jb .poll
    sti
    ret

protected_timer:
    inc dword [ticks]
    push eax
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

; One stub per exception vector: reports '!', 'e' and the vector, then stops.
exception_stubs:
%assign vector 0
%rep 0x20
    mov al, vector
    jmp near exception
%assign vector vector + 1
%endrep
exception_stub_size equ (exception - exception_stubs) / 0x20

exception:
    push eax
    mov al, '!'
    out 0xE9, al
    mov al, 'e'
    out 0xE9, al
    pop eax
    out 0xE9, al
    cli
.halt:
    hlt
    jmp .halt

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF         ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF         ; 0x10: flat data
gdt_pointer:
    dw gdt_pointer - gdt - 1
    dd gdt
idt_pointer:
    dw 0x30 * 8 - 1
    dd IDT_BASE

ticks:       dd 0
bios_timer:  dd 0
framebuffer: dd 0
pitch:       dd 0

    times 512 * (SECTORS + 1) - ($ - $$) db 0
