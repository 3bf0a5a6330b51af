; Paging walk-through for PCEmu's CPU tests: identity-maps the low 4 MiB
; with a page table, then reports on port 0xE9 what page faults, accessed
; and dirty bits, INVLPG and a 4 MiB page do. Runs the same on PCEmu and on
; qemu-system-i386 (the test compares the bytes); port 0xF4 ends the run.
bits 16
org 0x7C00

DIRECTORY equ 0x20000
TABLE     equ 0x21000
IDT_BASE  equ 0x1000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov di, IDT_BASE
    mov cx, 0x20 * 4
    rep stosw
    mov word [IDT_BASE + 14 * 8], pf_handler
    mov dword [IDT_BASE + 14 * 8 + 2], 0x08 | (0x8E << 24)
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
    ; Page directory: entry 0 -> the table; entry 1 -> a 4 MiB page at 0 (PSE).
    mov edi, DIRECTORY
    mov ecx, 2048
    xor eax, eax
    rep stosd                        ; clears the directory and the table
    mov dword [DIRECTORY], TABLE | 3
    mov dword [DIRECTORY + 4], 0x83  ; 4 MiB page, present, writable
    ; Identity-map the first 1 MiB, read/write, except page 0x80 (not present)
    ; and page 0x81 (read-only).
    mov edi, TABLE
    mov eax, 3
    mov ecx, 256
map:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    dec ecx
    jnz map
    mov dword [TABLE + 0x80 * 4], 0
    and dword [TABLE + 0x81 * 4], ~2
    mov eax, cr4
    or eax, 0x10                     ; PSE
    mov cr4, eax
    mov eax, DIRECTORY
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000               ; PG and WP
    mov cr0, eax
    mov al, 'P'
    out 0xE9, al
    ; Read from the not-present page: #PF, error 0.
    mov eax, [0x80010]
    ; Write to the read-only page: #PF, error 3 (present, write).
    mov dword [0x81020], 5
    ; Accessed and dirty bits of page 0x82 after a read, then a write.
    mov eax, [0x82000]
    mov eax, [TABLE + 0x82 * 4]
    and al, 0x60
    out 0xE9, al
    mov dword [0x82000], 1
    mov eax, [TABLE + 0x82 * 4]
    and al, 0x60
    out 0xE9, al
    ; Remap page 0x83 to 0x84 with INVLPG: the new mapping shows.
    mov dword [0x84000], 'N'
    mov dword [0x83000], 'O'
    mov eax, [0x83000]
    mov dword [TABLE + 0x83 * 4], 0x84003
    invlpg [0x83000]
    mov eax, [0x83000]
    out 0xE9, al
    ; Through the 4 MiB page at 4 MiB: the same memory as linear 0.
    mov eax, [0x400000 + 0x7C00]
    cmp eax, [0x7C00]
    sete al
    add al, '0'
    out 0xE9, al
    mov al, 'E'
    out 0xE9, al
    out 0xF4, al
    cli
    hlt

; Reports 'F', the error code, and CR2's low 3 nibbles as the page number, then
; maps the page (present, writable) and retries.
pf_handler:
    push eax
    mov al, 'F'
    out 0xE9, al
    mov eax, [esp + 4]               ; error code
    add al, '0'
    out 0xE9, al
    mov eax, cr2
    shr eax, 12
    out 0xE9, al
    and eax, 0x3FF
    shl eax, 12
    or eax, 3
    push ebx
    mov ebx, cr2
    shr ebx, 12
    mov [TABLE + ebx * 4], eax
    invlpg [ebx * 4]
    mov ebx, cr3
    mov cr3, ebx                     ; flush all: the handler changed the table
    pop ebx
    pop eax
    add esp, 4                       ; the error code
    iretd

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
idt_pointer:
    dw 0x20 * 8 - 1
    dd IDT_BASE

times 510 - ($ - $$) db 0
dw 0xAA55
