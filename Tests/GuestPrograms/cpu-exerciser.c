/* CPU exerciser: runs integer, flag, string and x87 instructions on
 * pseudo-random operands and prints one checksum line per instruction
 * family. Built with gcc -m32 -static; its output on PCEmu's guest must be
 * exactly its output on the host CPU. Flags the architecture leaves
 * undefined are masked out, so any correct i686 prints the same.
 * usage: cpu-exerciser [-v]   (-v prints every case) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CF 0x001
#define PF 0x004
#define AF 0x010
#define ZF 0x040
#define SF 0x080
#define OF 0x800
#define ARITH (CF | PF | AF | ZF | SF | OF)

static int verbose;
static uint32_t state = 0x12345678;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* Interesting operands: random, small, edges. */
static uint32_t operand(void) {
    static const uint32_t edges[] = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
                                     0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10, 0x0F};
    uint32_t pick = next();
    if ((pick & 3) == 0) return edges[(pick >> 2) % (sizeof edges / sizeof edges[0])];
    return next();
}

static uint32_t checksum;
static void mix(uint32_t value) {
    checksum ^= value;
    for (int i = 0; i < 8; i++) checksum = (checksum >> 1) ^ (0xEDB88320u & -(checksum & 1));
}

static void report(const char *name) {
    printf("%-10s %08x\n", name, checksum);
    checksum = 0;
}

#define CASES 2000

/* Two-operand ALU op with flags in and out. */
#define ALU(name, insn, mask)                                                          \
    static void test_##name(void) {                                                    \
        for (int i = 0; i < CASES; i++) {                                              \
            uint32_t a = operand(), b = operand(), flags_in = next() & ARITH, flags;  \
            __asm__ volatile("push %3\n\tpopf\n\t" insn " %2, %0\n\tpushf\n\tpop %1"     \
                             : "+r"(a), "=r"(flags) : "r"(b), "r"(flags_in) : "cc");   \
            mix(a); mix(flags & (mask));                                               \
            if (verbose) printf(#name " %08x %08x -> %08x %03x\n", a, b, a, flags & (mask)); \
        }                                                                              \
        report(#name);                                                                 \
    }

ALU(add, "addl", ARITH)
ALU(adc, "adcl", ARITH)
ALU(sub, "subl", ARITH)
ALU(sbb, "sbbl", ARITH)
ALU(and, "andl", ARITH & ~AF)
ALU(or, "orl", ARITH & ~AF)
ALU(xor, "xorl", ARITH & ~AF)
ALU(imul2, "imull", CF | OF)

#define ALU8(name, insn, mask)                                                         \
    static void test_##name(void) {                                                    \
        for (int i = 0; i < CASES; i++) {                                              \
            uint32_t a = operand(), b = operand(), flags_in = next() & ARITH, flags;  \
            __asm__ volatile("push %3\n\tpopf\n\t" insn " %b2, %b0\n\tpushf\n\tpop %1"   \
                             : "+q"(a), "=r"(flags) : "q"(b), "r"(flags_in) : "cc");   \
            mix(a); mix(flags & (mask));                                               \
        }                                                                              \
        report(#name);                                                                 \
    }

ALU8(add8, "addb", ARITH)
ALU8(sbb8, "sbbb", ARITH)

/* Shifts and rotates by CL; OF only defined for a count of 1, AF never. */
#define SHIFT(name, insn, defined)                                                     \
    static void test_##name(void) {                                                    \
        for (int i = 0; i < CASES; i++) {                                              \
            uint32_t a = operand(), count = next() & 31, flags_in = next() & ARITH, flags; \
            __asm__ volatile("push %3\n\tpopf\n\t" insn " %%cl, %0\n\tpushf\n\tpop %1"   \
                             : "+r"(a), "=r"(flags) : "c"(count), "r"(flags_in) : "cc"); \
            uint32_t mask = (defined) & ~(count == 1 ? 0 : OF);                        \
            mix(a); mix(count == 0 ? flags & ARITH : flags & mask);                    \
        }                                                                              \
        report(#name);                                                                 \
    }

SHIFT(shl, "shll", CF | PF | ZF | SF | OF)
SHIFT(shr, "shrl", CF | PF | ZF | SF | OF)
SHIFT(sar, "sarl", CF | PF | ZF | SF | OF)
SHIFT(rol, "roll", CF | OF)
SHIFT(ror, "rorl", CF | OF)
SHIFT(rcl, "rcll", CF | OF)
SHIFT(rcr, "rcrl", CF | OF)

static void test_shift16(void) {
    for (int i = 0; i < CASES; i++) {
        uint32_t a = operand(), b = operand(), count = next() & 31, flags_in = next() & ARITH, flags;
        __asm__ volatile("push %4\n\tpopf\n\tshldw %%cl, %w2, %w0\n\tpushf\n\tpop %1"
                         : "+r"(a), "=r"(flags) : "r"(b), "c"(count), "r"(flags_in) : "cc");
        mix(count > 16 ? 0 : a);  /* over 16 the result is undefined */
        mix(count == 0 ? flags & ARITH : count <= 16 ? flags & (CF | PF | ZF | SF) & ~(count == 16 ? CF : 0) : 0);
    }
    report("shld16");
}

static void test_muldiv(void) {
    for (int i = 0; i < CASES; i++) {
        uint32_t a = operand(), b = operand() | 1, lo, hi, flags;
        __asm__ volatile("mull %3\n\tpushf\n\tpop %2" : "=a"(lo), "=d"(hi), "=r"(flags) : "r"(b), "a"(a) : "cc");
        mix(lo); mix(hi); mix(flags & (CF | OF));
        __asm__ volatile("imull %3\n\tpushf\n\tpop %2" : "=a"(lo), "=d"(hi), "=r"(flags) : "r"(b), "a"(a) : "cc");
        mix(lo); mix(hi); mix(flags & (CF | OF));
        uint32_t dividend_hi = next() % b, q, r;
        __asm__ volatile("divl %4" : "=a"(q), "=d"(r) : "a"(a), "d"(dividend_hi), "r"(b) : "cc");
        mix(q); mix(r);
        int32_t sa = (int32_t)a, sb = (int32_t)(b & 0x7FFFFFFF) | 1;
        int32_t sq, sr;
        __asm__ volatile("cltd\n\tidivl %3" : "=a"(sq), "=&d"(sr) : "a"(sa), "r"(sb) : "cc");
        mix((uint32_t)sq); mix((uint32_t)sr);
    }
    report("muldiv");
}

static void test_bits(void) {
    for (int i = 0; i < CASES; i++) {
        uint32_t a = operand(), b = next(), r1, r2, flags, f2;
        __asm__ volatile("btsl %3, %0\n\tpushf\n\tpop %1" : "+r"(a), "=r"(flags) : "0"(a), "r"(b) : "cc");
        mix(a); mix(flags & CF);
        b = operand();
        r1 = 0xDEAD;
        __asm__ volatile("bsfl %2, %0\n\tpushf\n\tpop %1" : "+r"(r1), "=r"(f2) : "r"(b) : "cc");
        mix(b ? r1 : 0); mix(f2 & ZF);
        r2 = 0xBEEF;
        __asm__ volatile("bsrl %2, %0\n\tpushf\n\tpop %1" : "+r"(r2), "=r"(f2) : "r"(b) : "cc");
        mix(b ? r2 : 0); mix(f2 & ZF);
        uint32_t swapped = b;
        __asm__ volatile("bswap %0" : "+r"(swapped));
        mix(swapped);
    }
    report("bits");
}

static void test_conditions(void) {
    for (int i = 0; i < CASES; i++) {
        uint32_t a = operand(), b = operand(), result = 0, moved = 7;
        __asm__ volatile("cmpl %2, %1\n\tsetl %b0" : "=q"(result) : "r"(a), "r"(b) : "cc");
        mix(result & 1);
        __asm__ volatile("cmpl %2, %1\n\tsetbe %b0" : "=q"(result) : "r"(a), "r"(b) : "cc");
        mix(result & 1);
        __asm__ volatile("cmpl %2, %1\n\tcmovgl %2, %0" : "+r"(moved) : "r"(a), "r"(b) : "cc");
        mix(moved);
        // Negated conditions straight after the compare.
        __asm__ volatile("cmpl %2, %1\n\tsetge %b0" : "=q"(result) : "r"(a), "r"(b) : "cc");
        mix(result & 1);
        __asm__ volatile("cmpl %2, %1\n\tseta %b0" : "=q"(result) : "r"(a), "r"(b) : "cc");
        mix(result & 1);
        __asm__ volatile("cmpl %2, %1\n\tcmovlel %2, %0" : "+r"(moved) : "r"(a), "r"(b) : "cc");
        mix(moved);
        // SAHF keeps OF from the operation before it (computed inline after ADD, SUB and CMP).
        uint32_t flags, sum = a;
        __asm__ volatile("addl %2, %1\n\tmovb $0xd5, %%ah\n\tsahf\n\tpushfl\n\tpopl %0"
                         : "=r"(flags), "+r"(sum) : "r"(b) : "eax", "cc");
        mix(flags & 0x8d5);
        __asm__ volatile("cmpl %2, %1\n\tmovb $0x00, %%ah\n\tsahf\n\tpushfl\n\tpopl %0"
                         : "=r"(flags) : "r"(a), "r"(b) : "eax", "cc");
        mix(flags & 0x8d5);
        __asm__ volatile("subb %b2, %b1\n\tmovb $0x41, %%ah\n\tsahf\n\tpushfl\n\tpopl %0"
                         : "=r"(flags), "+q"(sum) : "q"(b) : "eax", "cc");
        mix(flags & 0x8d5);
    }
    report("conditions");
}

static void test_decimal(void) {
    for (int i = 0; i < CASES; i++) {
        uint32_t a = next() & 0xFFFF, flags_in = next() & ARITH, flags;
        uint32_t x = a;
        __asm__ volatile("push %2\n\tpopf\n\tdaa\n\tpushf\n\tpop %1" : "+a"(x), "=r"(flags) : "r"(flags_in) : "cc");
        mix(x & 0xFF); mix(flags & (CF | AF | SF | ZF | PF));
        x = a;
        __asm__ volatile("push %2\n\tpopf\n\tdas\n\tpushf\n\tpop %1" : "+a"(x), "=r"(flags) : "r"(flags_in) : "cc");
        mix(x & 0xFF); mix(flags & (CF | AF | SF | ZF | PF));
        x = a;
        __asm__ volatile("push %2\n\tpopf\n\taaa\n\tpushf\n\tpop %1" : "+a"(x), "=r"(flags) : "r"(flags_in) : "cc");
        mix(x & 0xFFFF); mix(flags & (CF | AF));
        x = a;
        __asm__ volatile("aam\n\tpushf\n\tpop %1" : "+a"(x), "=r"(flags) : : "cc");
        mix(x & 0xFFFF); mix(flags & (SF | ZF | PF));
        x = a;
        __asm__ volatile("aad\n\tpushf\n\tpop %1" : "+a"(x), "=r"(flags) : : "cc");
        mix(x & 0xFFFF); mix(flags & (SF | ZF | PF));
    }
    report("decimal");
}

static void test_strings(void) {
    static uint8_t source[512], destination[512];
    for (int i = 0; i < 200; i++) {
        for (int j = 0; j < 512; j++) source[j] = (uint8_t)next();
        uint32_t count = next() % 120, offset = next() % 64;
        void *s = source + offset, *d = destination + offset;
        uint32_t c = count;
        __asm__ volatile("cld\n\trep movsl" : "+S"(s), "+D"(d), "+c"(c) : : "memory");
        for (int j = 0; j < 512; j++) mix(destination[j]);
        uint8_t needle = (uint8_t)next();
        void *p = source;
        c = 512;
        __asm__ volatile("cld\n\trepne scasb" : "+D"(p), "+c"(c) : "a"(needle) : "cc", "memory");
        mix(c);
        s = source; d = destination; c = 512;
        __asm__ volatile("cld\n\trepe cmpsb" : "+S"(s), "+D"(d), "+c"(c) : : "cc", "memory");
        mix(c);
        d = destination + 256; c = count;
        __asm__ volatile("std\n\trep stosw\n\tcld" : "+D"(d), "+c"(c) : "a"(0xA55A) : "memory");
        for (int j = 0; j < 512; j++) mix(destination[j]);
    }
    report("strings");
}

static void test_x87(void) {
    static const uint16_t modes[] = {0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x027F, 0x007F};
    for (int i = 0; i < CASES; i++) {
        double a = (double)(int32_t)next() / ((next() & 0xFFFF) + 1), b = (double)(int32_t)next() / 7.0;
        uint16_t mode = modes[i % 6], status;
        long double r;
        int32_t integer;
        uint8_t bytes[10];
        __asm__ volatile("fldcw %[m]\n\t"
                         "fldl %[a]\n\tfldl %[b]\n\tfmul %%st(1), %%st\n\tfaddp\n\t"
                         "fld %%st(0)\n\tfsqrt\n\tfxch\n\tfabs\n\tfyl2x\n\t"
                         "fld %%st(0)\n\tfsin\n\tfaddp\n\t"
                         "fld %%st(0)\n\tfistpl %[i]\n\t"
                         "fnstsw %[s]\n\tfstpt %[r]\n\tfninit"
                         : [r] "=m"(r), [i] "=m"(integer), [s] "=m"(status)
                         : [a] "m"(a), [b] "m"(b), [m] "m"(mode));
        memcpy(bytes, &r, 10);
        for (int j = 0; j < 10; j++) mix(bytes[j]);
        mix((uint32_t)integer);
        mix(status & 0x473F);  /* C3 C2 C0 and the exception flags; C1 and TOP follow from them */
    }
    report("x87");
}

int main(int argc, char **argv) {
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    test_add(); test_adc(); test_sub(); test_sbb(); test_and(); test_or(); test_xor(); test_imul2();
    test_add8(); test_sbb8();
    test_shl(); test_shr(); test_sar(); test_rol(); test_ror(); test_rcl(); test_rcr(); test_shift16();
    test_muldiv(); test_bits(); test_conditions(); test_decimal(); test_strings(); test_x87();
    printf("cpu-exerciser done\n");
    return 0;
}
