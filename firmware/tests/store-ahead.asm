; Self-modifying code that rewrites the very next instruction: iPXE
; reflects an interrupt to real mode with `mov cs:[next+1], al` followed at
; once by `int 0` (no jump between), so the INT takes the vector just
; stored. A processor sees its own store to the instruction stream; a
; translator must too, even inside one translated block.
; Real mode, vectors 30h and 31h alternately, then the same in protected
; mode through an IDT: each handler reports its letter on port 0xE9 (a
; stale INT 0 would report '0'); E ends the run (port 0xF4 for QEMU).
bits 16
org 0x7C00

IDT_BASE equ 0x1000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x00 * 4], real_zero
    mov word [0x00 * 4 + 2], 0
    mov word [0x30 * 4], real_a
    mov word [0x30 * 4 + 2], 0
    mov word [0x31 * 4], real_b
    mov word [0x31 * 4 + 2], 0
    mov cx, 3
.real:
    mov al, 0x30
    call reflect16
    mov al, 0x31
    call reflect16
    loop .real

    mov di, IDT_BASE
    mov cx, 0x32 * 4
    xor ax, ax
    rep stosw
    mov word [IDT_BASE + 0x00 * 8], protected_zero
    mov dword [IDT_BASE + 0x00 * 8 + 2], 0x08 | (0x8E << 24)
    mov word [IDT_BASE + 0x30 * 8], protected_a
    mov dword [IDT_BASE + 0x30 * 8 + 2], 0x08 | (0x8E << 24)
    mov word [IDT_BASE + 0x31 * 8], protected_b
    mov dword [IDT_BASE + 0x31 * 8 + 2], 0x08 | (0x8E << 24)
    lgdt [gdt_pointer]
    lidt [idt_pointer]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:protected

; Rewrites the next instruction's vector, then runs it.
reflect16:
    mov [cs:.vector + 1], al
.vector:
    int 0x00
    ret

real_zero:
    mov al, '0'
    jmp real_report
real_a:
    mov al, 'A'
    jmp real_report
real_b:
    mov al, 'B'
real_report:
    out 0xE9, al
    iret

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov ecx, 3
.loop:
    mov al, 0x30
    call reflect32
    mov al, 0x31
    call reflect32
    loop .loop
    mov al, 'E'
    out 0xE9, al
    out 0xF4, al
.halt:
    hlt
    jmp .halt

reflect32:
    mov [.vector + 1], al
.vector:
    int 0x00
    ret

protected_zero:
    mov al, '0'
    jmp protected_report
protected_a:
    mov al, 'a'
    jmp protected_report
protected_b:
    mov al, 'b'
protected_report:
    out 0xE9, al
    iret

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF       ; 0x10: flat data
gdt_pointer:
    dw gdt_pointer - gdt - 1
    dd gdt
idt_pointer:
    dw 0x32 * 8 - 1
    dd IDT_BASE

    times 510 - ($ - $$) db 0
    dw 0xAA55
