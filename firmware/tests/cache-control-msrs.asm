; The MTRR and PAT MSRs, DR4/DR5 and CR4.DE/CR4.MCE of a P6 model (-cpu
; pentium2), in real mode (CPL 0). Writes to port 0xE9:
;   C  MTRRcap reads 0x508: eight variable ranges, fixed ranges, WC   (c if not)
;   P  PAT reads its power-on 0x0007040600070406                       (p if not)
;   Q  PAT keeps a valid new value                                     (q if not)
;   g  each refused write below raises #GP (vector 13), which skips it:
;      PAT with type 2, MTRRdefType with a reserved bit, a variable base
;      with type 3, a fixed range with type 7
;   D  MTRRdefType, a variable range pair and a fixed range keep what was written
;   A  with CR4.DE clear, DR5 reads what was written to DR7 (a if not)
;   u  with CR4.DE set, MOV from DR4 raises #UD (vector 6), which skips it
;   M  CR4.MCE can be set and reads back (m if not)
;   E  the end
; The reference is qemu-system-x86_64 -cpu pentium2.
bits 16
org 0x7C00

%include "boot-sector.inc"

start:
    REAL_MODE_START
    mov word [13 * 4], general_protection
    mov word [13 * 4 + 2], 0
    mov word [6 * 4], invalid_opcode
    mov word [6 * 4 + 2], 0

    mov ecx, 0xFE                    ; IA32_MTRRCAP
    rdmsr
    mov bl, 'C'
    cmp eax, 0x508
    jne .cap_bad
    test edx, edx
    jz .cap_out
.cap_bad:
    mov bl, 'c'
.cap_out:
    mov al, bl
    out 0xE9, al

    mov ecx, 0x277                   ; IA32_PAT
    rdmsr
    mov bl, 'P'
    cmp eax, 0x00070406
    jne .pat_bad
    cmp edx, 0x00070406
    je .pat_out
.pat_bad:
    mov bl, 'p'
.pat_out:
    mov al, bl
    out 0xE9, al

    mov eax, 0x00010406              ; UC- in PA2, WC in PA3 of the high half
    mov edx, 0x01070406
    wrmsr
    rdmsr
    mov bl, 'Q'
    cmp edx, 0x01070406
    je .q_out
    mov bl, 'q'
.q_out:
    mov al, bl
    out 0xE9, al

    ; Refused writes: each faults, the handler skips the two-byte WRMSR.
    mov ecx, 0x277
    mov eax, 0x00000002
    xor edx, edx
    wrmsr
    mov ecx, 0x2FF                   ; IA32_MTRR_DEF_TYPE, bit 12 reserved
    mov eax, 0x1006
    wrmsr
    mov ecx, 0x200                   ; IA32_MTRR_PHYSBASE0, type 3
    mov eax, 0x00100003
    wrmsr
    mov ecx, 0x250                   ; IA32_MTRR_FIX64K_00000, type 7 in one byte
    mov eax, 0x06060607
    mov edx, 0x06060606
    wrmsr

    ; Accepted writes read back.
    mov ecx, 0x2FF
    mov eax, 0xC06                   ; enabled, fixed enabled, WB
    xor edx, edx
    wrmsr
    mov ecx, 0x200
    mov eax, 0x08000006              ; 128 MiB, WB
    wrmsr
    mov ecx, 0x201                   ; IA32_MTRR_PHYSMASK0: 128 MiB, valid
    mov eax, 0xF8000800
    mov edx, 0xF
    wrmsr
    mov ecx, 0x268                   ; IA32_MTRR_FIX4K_C0000
    mov eax, 0x05050505
    mov edx, 0x00000000
    wrmsr
    mov bl, 'D'
    mov ecx, 0x2FF
    rdmsr
    cmp eax, 0xC06
    jne .d_bad
    mov ecx, 0x201
    rdmsr
    cmp eax, 0xF8000800
    jne .d_bad
    cmp edx, 0xF
    jne .d_bad
    mov ecx, 0x268
    rdmsr
    cmp eax, 0x05050505
    je .d_out
.d_bad:
    mov bl, 'd'
.d_out:
    mov al, bl
    out 0xE9, al

    mov eax, 0x00000500              ; DR7: reserved bit 10 reads as one
    mov dr7, eax
    mov eax, dr5
    mov bl, 'A'
    cmp eax, 0x00000500
    je .a_out
    mov bl, 'a'
.a_out:
    mov al, bl
    out 0xE9, al

    mov eax, cr4
    or eax, 1 << 3                   ; CR4.DE
    mov cr4, eax
    mov eax, dr4                     ; #UD: the handler skips the three bytes
    mov eax, cr4
    and eax, ~(1 << 3)
    or eax, 1 << 6                   ; CR4.MCE
    mov cr4, eax
    mov eax, cr4
    mov bl, 'M'
    test eax, 1 << 6
    jnz .m_out
    mov bl, 'm'
.m_out:
    mov al, bl
    out 0xE9, al

    mov al, 'E'
    out 0xE9, al
    FINISH

; #GP from a WRMSR: report and return past its two bytes.
general_protection:
    push bp
    mov bp, sp
    add word [bp + 2], 2
    mov al, 'g'
    out 0xE9, al
    pop bp
    iret

; #UD from MOV r32, DRn: report and return past its three bytes.
invalid_opcode:
    push bp
    mov bp, sp
    add word [bp + 2], 3
    mov al, 'u'
    out 0xE9, al
    pop bp
    iret

times 510 - ($ - $$) db 0
dw 0xAA55
