; LDS, LES, LFS, LGS and LSS for PCEmu's CPU tests: a boot sector that loads
; far pointers in real mode, in 32-bit protected mode (one of them faulting),
; and after dropping back to real mode the way boot loaders return from a
; protected-mode call (LSS SP from CS:mem with a 32-bit ESP left over). Each
; step reports the offset register and segment it loaded as bytes on port
; 0xE9; port 0xF4 ends the run (QEMU's isa-debug-exit).
bits 16
org 0x7C00

IDT_BASE equ 0x1000

%macro REPORT16 2            ; 16-bit register, segment register
    mov ax, %1
    out 0xE9, al
    mov al, ah
    out 0xE9, al
    mov ax, %2
    out 0xE9, al
%endmacro

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    lds si, [rm_ds]
    REPORT16 si, ds
    xor ax, ax
    mov ds, ax
    les di, [rm_es]
    REPORT16 di, es
    lfs eax, [rm_fs]         ; 32-bit offset in 16-bit code
    out 0xE9, al
    shr eax, 24
    out 0xE9, al
    mov ax, fs
    out 0xE9, al
    lgs bx, [rm_gs]
    REPORT16 bx, gs
    lss sp, [rm_ss]
    REPORT16 sp, ss

    ; #GP handler for the faulting LDS below.
    mov word [IDT_BASE + 0x0D * 8], gp_handler
    mov dword [IDT_BASE + 0x0D * 8 + 2], 0x08 | (0x8E << 24)
    mov word [IDT_BASE + 0x0D * 8 + 6], 0
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
    lss esp, [pm_ss]
    mov eax, esp
    out 0xE9, al
    shr eax, 8
    out 0xE9, al
    shr eax, 8
    out 0xE9, al
    mov ax, ss
    out 0xE9, al
    lds ebx, [pm_ds]
    mov eax, ebx
    out 0xE9, al
    shr eax, 24
    out 0xE9, al
    lfs edx, [pm_fs]
    mov eax, edx
    out 0xE9, al
    mov ax, fs
    out 0xE9, al
    ; A selector past the GDT: #GP, and EBX and DS keep their values.
    mov ebx, 0x55
    mov esi, pm_bad
    lds ebx, [esi]
    mov eax, ebx
    out 0xE9, al
    mov ax, ds
    out 0xE9, al

    ; Back to real mode through a 16-bit segment, then LSS from CS:mem.
    jmp 0x18:protected16
bits 16
protected16:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0:real_again
real_again:
    lss sp, [cs:rm_saved_stack]
    mov eax, esp             ; a 16-bit LSS keeps ESP's upper half
    out 0xE9, al
    mov al, ah
    out 0xE9, al
    shr eax, 16
    out 0xE9, al
    mov ax, ss
    out 0xE9, al
    mov al, 'E'
    out 0xE9, al
    out 0xF4, al
    hlt

bits 32
gp_handler:
    mov al, 'G'
    out 0xE9, al
    pop eax                  ; error code
    out 0xE9, al
    add dword [esp], 2       ; skip lds ebx, [esi]
    iretd

rm_ds:  dw 0x1234, 0x0050
rm_es:  dw 0x5678, 0x0060
rm_fs:  dd 0xA1B2C3D4
        dw 0x0070
rm_gs:  dw 0x2345, 0x0080
rm_ss:  dw 0x6E42, 0x0000
rm_saved_stack: dw 0x7A00, 0x0000
pm_ss:  dd 0x0008F0C0
        dw 0x0010
pm_ds:  dd 0x11223344
        dw 0x0010
pm_fs:  dd 0x99AABBCC
        dw 0x0010
pm_bad: dd 0xDEADBEEF
        dw 0x0058

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF    ; 0x08 32-bit code
    dq 0x00CF92000000FFFF    ; 0x10 32-bit data
    dq 0x00009A000000FFFF    ; 0x18 16-bit code, 64 KiB
    dq 0x000092000000FFFF    ; 0x20 16-bit data, 64 KiB
gdt_end:

gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

idt_pointer:
    dw 0x0D * 8 + 7
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
