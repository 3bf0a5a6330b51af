; CPL is 0 in real mode whatever CS holds, and it stays 0 when CR0.PE is
; set, until a far jump loads CS from a descriptor. Boot code that runs at a
; segment whose low two bits are set (MEMDISK relocated to 9E7B:0000 does)
; must still be able to execute privileged instructions, OUT and a far jump
; to a DPL-0 code segment between setting PE and that jump. The hidden CPL
; lives with SS's descriptor (QEMU keeps it there), not in CS's selector.
; Reports on port 0xE9: R (start), C (OUT with PE set: CPL 0), M (MOV from
; CR0: CPL 0), P (in protected mode through the far jump), or G and the
; #GP's low error-code byte. Port 0xF4 ends the run.
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov al, 'R'
    out 0xE9, al
    lgdt [gdt_pointer]
    lidt [idt_pointer]
    ; CS = 0x07C3: base 0x7C30, the selector's low bits 3. Offsets in this
    ; segment are the labels' addresses less 0x7C30.
    jmp 0x07C3:in_rpl3_segment - 0x7C30

    times 0x40 - ($ - $$) db 0x90   ; past the segment's base
in_rpl3_segment:
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov al, 'C'                 ; CPL 3 > IOPL 0 would fault here
    out 0xE9, al
    mov eax, cr0                ; and here
    mov al, 'M'
    out 0xE9, al
    jmp dword 0x08:protected

bits 32
protected:
    mov ax, 0x10
    mov ds, ax
    mov ss, ax
    mov esp, 0x7000
    mov al, 'P'
    out 0xE9, al
    out 0xF4, al

gp_handler:
    mov al, 'G'
    out 0xE9, al
    pop eax
    out 0xE9, al
    out 0xF4, al

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08: flat 32-bit code, DPL 0
    dq 0x00CF92000000FFFF       ; 0x10: flat data, DPL 0
gdt_pointer:
    dw gdt_pointer - gdt - 1
    dd gdt
idt:
    times 13 dq 0
    dw gp_handler, 0x08, 0x8E00, 0   ; #GP: 32-bit interrupt gate
idt_pointer:
    dw idt_pointer - idt - 1
    dd idt

    times 510 - ($ - $$) db 0
    dw 0xAA55
