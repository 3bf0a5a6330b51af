; A fixed integer workload for the interpreter benchmark: enters 32-bit
; protected mode, runs a loop of arithmetic, shifts, memory traffic and
; branches (a small checksum over a buffer), prints the checksum on port
; 0xE9 and ends through port 0xF4. Boots the same on qemu-system-i386.
bits 16
org 0x7C00

ITERATIONS equ 2000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    lgdt [gdt_pointer]
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
    mov esp, 0x90000
    ; Fill a 4 KiB buffer with a pattern.
    mov edi, 0x10000
    mov ecx, 1024
    mov eax, 0x12345678
fill:
    mov [edi], eax
    imul eax, eax, 1103515245
    add eax, 12345
    add edi, 4
    dec ecx
    jnz fill
    ; Checksum it many times.
    xor ebx, ebx
    mov edx, ITERATIONS
outer:
    mov esi, 0x10000
    mov ecx, 1024
inner:
    mov eax, [esi]
    rol ebx, 5
    xor ebx, eax
    add ebx, ecx
    test eax, 1
    jz even
    sub ebx, edx
even:
    add esi, 4
    dec ecx
    jnz inner
    dec edx
    jnz outer
    ; Report the checksum as 8 hex digits.
    mov ecx, 8
digits:
    rol ebx, 4
    mov eax, ebx
    and eax, 0xF
    mov al, [hex + eax]
    out 0xE9, al
    dec ecx
    jnz digits
    out 0xF4, al
    cli
    hlt

hex: db "0123456789abcdef"

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

times 510 - ($ - $$) db 0
dw 0xAA55
