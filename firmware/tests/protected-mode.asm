; Protected-mode walk-through for PCEmu's CPU tests: a boot sector that
; enters protected mode, takes faults and interrupts, drops to ring 3 and
; comes back through a gate, reporting each step as bytes on port 0xE9.
; It runs the same on PCEmu's CPU and on qemu-system-i386 (which is how the
; test checks it); port 0xF4 ends the run (QEMU's isa-debug-exit).
bits 16
org 0x7C00

IDT_BASE equ 0x1000
%macro SET_GATE 3            ; vector, handler, type byte
    mov word [IDT_BASE + (%1) * 8], %2
    mov dword [IDT_BASE + (%1) * 8 + 2], 0x08 | ((%3) << 24)
%endmacro

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov es, ax
    mov al, 'R'
    out 0xE9, al
    ; The IDT, built here (a table of 0x32 gates would not fit in the sector).
    mov di, IDT_BASE
    mov cx, 0x32 * 4
    xor ax, ax
    rep stosw
    SET_GATE 0x00, de_handler, 0x8E
    SET_GATE 0x0D, gp_handler, 0x8E
    SET_GATE 0x30, int30_handler, 0x8E
    SET_GATE 0x31, int31_handler, 0xEE
    lgdt [gdt_pointer]
    lidt [idt_pointer]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:protected

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x9000
    mov al, 'P'
    out 0xE9, al
    ; #GP from loading a selector past the GDT: the handler reports the error code.
    mov ax, 0x58
    mov fs, ax
    ; #DE from a division by zero.
    xor ecx, ecx
    div ecx
    ; INT 0x30 through a DPL 0 interrupt gate.
    int 0x30
    ; Into ring 3 with IRET, through the TSS's ring-0 stack back in.
    mov ax, 0x30
    ltr ax
    push dword 0x23          ; SS: ring-3 data
    push dword 0x8800        ; ESP
    pushfd
    push dword 0x1B          ; CS: ring-3 code
    push dword ring3
    iretd

ring3:
    mov al, '3'
    ; IOPL is 0 and the TSS has no I/O bitmap, so OUT faults with #GP(0):
    ; the handler reports it and skips the OUT.
    out 0xE9, al
    int 0x31                 ; DPL 3 gate: back to ring 0
    hlt                      ; never reached

ring0_again:
    ; The gate switched to the TSS's ring-0 stack; the frame holds the ring-3 SS.
    mov eax, [esp + 16]
    out 0xE9, al
    mov al, 'E'
    out 0xE9, al
    out 0xF4, al
    cli
    hlt

; Handlers print a tag and what they saw, then resume.
gp_handler:
    mov al, 'G'
    out 0xE9, al
    pop eax                  ; error code
    out 0xE9, al
    add dword [esp], 2       ; skip the 2-byte faulting instruction (mov fs,ax / out 0xE9,al)
    iretd
de_handler:
    mov al, 'D'
    out 0xE9, al
    add dword [esp], 2       ; skip div ecx
    iretd
int30_handler:
    mov al, 'I'
    out 0xE9, al
    iretd
int31_handler:
    mov al, 'S'
    out 0xE9, al
    jmp ring0_again

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF    ; 0x08 ring-0 code
    dq 0x00CF92000000FFFF    ; 0x10 ring-0 data
    dq 0x00CFFA000000FFFF    ; 0x18 ring-3 code
    dq 0x00CFF2000000FFFF    ; 0x20 ring-3 data
    dq 0                     ; 0x28
tss_descriptor:
    dw 0x67, tss, 0x8900, 0  ; 0x30 32-bit TSS (base below 64 KiB)
gdt_end:

gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

idt_pointer:
    dw 0x32 * 8 - 1
    dd IDT_BASE

tss:
    dd 0, 0xA000, 0x10       ; back link, ESP0, SS0
    times 0x68 - 12 db 0

times 510 - ($ - $$) db 0
dw 0xAA55
