// Inline x87 assembly: the one thing Swift cannot express (control word,
// status word and the transcendental instructions).
//
// Pattern of every entry point: FNSTENV saves the host environment, FLDENV
// installs one with the guest's control word and condition codes (so that an
// instruction that leaves some of them unchanged reports the guest's), the
// operation runs, FNSTSW captures
// its status, FNCLEX clears it again so no later waiting instruction can trap
// on a guest-unmasked exception, results are stored, and FLDENV puts back the
// host's control word, status, TOP and (all empty) tags whatever the
// operation did to the stack.
#include "CX87Host.h"

typedef struct { uint8_t bytes[10]; } F80;
typedef struct { uint8_t bytes[28]; } HostEnv;

#define IN80(p) (*(const F80 *)(p))
#define OUT80(p) (*(F80 *)(p))
#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "memory"

// The 32-bit protected-mode environment FNSTENV writes in 64-bit mode.
typedef struct {
    uint32_t control, status, tags, ip, selectorAndOpcode, dataPointer, dataSelector;
} GuestEnv;

static inline __attribute__((always_inline)) void enter(HostEnv *env, X87HostWords w) {
    __asm__ volatile("fnstenv %0" : "=m"(*env) : : X87_CLOBBERS);
    GuestEnv guest;
    __builtin_memcpy(&guest, env, sizeof guest);
    guest.control = 0xFFFF0000u | w.control;
    guest.status = 0xFFFF0000u | (guest.status & 0x3800u) | (w.status & 0x4700u);
    guest.tags = 0xFFFFFFFFu;
    __asm__ volatile("fldenv %0" : : "m"(guest) : X87_CLOBBERS);
}

static inline __attribute__((always_inline)) void leave(HostEnv *env) {
    __asm__ volatile("fnclex\n\tfldenv %0" : : "m"(*env) : X87_CLOBBERS);
}

// Runs `body` (which must leave the status in `sw`) between enter and leave.
#define RUN(w, ...) do { HostEnv env_; enter(&env_, (w)); __VA_ARGS__; leave(&env_); } while (0)

// ST(0) = a, ST(1) = b, then `insn` (a register form acting on ST(0)).
#define ARITH_REG(insn) \
    __asm__ volatile("fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]" \
        : [sw] "=m"(sw), [r] "=m"(OUT80(result)) : [a] "m"(IN80(a)), [b] "m"(IN80(b)) : X87_CLOBBERS)

uint16_t x87h_arith(int op, X87HostWords w, const void *a, const void *b, void *result) {
    uint16_t sw = 0;
    RUN(w, switch (op) {
        case X87H_ADD: ARITH_REG(".byte 0xd8, 0xc1"); break;
        case X87H_MUL: ARITH_REG(".byte 0xd8, 0xc9"); break;
        case X87H_SUB: ARITH_REG(".byte 0xd8, 0xe1"); break;
        case X87H_SUBR: ARITH_REG(".byte 0xd8, 0xe9"); break;
        case X87H_DIV: ARITH_REG(".byte 0xd8, 0xf1"); break;
        default: ARITH_REG(".byte 0xd8, 0xf9"); break;
    });
    return sw;
}

// ST(0) = a, then `insn` with the memory operand m.
#define ARITH_MEM(insn) \
    __asm__ volatile("fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]" \
        : [sw] "=m"(sw), [r] "=m"(OUT80(result)) : [a] "m"(IN80(a)), [m] "m"(b) : X87_CLOBBERS)

#define ARITH_MEM_FUNCTION(name, type, add, mul, sub, subr, div, divr) \
    uint16_t name(int op, X87HostWords w, const void *a, type b, void *result) { \
        uint16_t sw = 0; \
        RUN(w, switch (op) { \
            case X87H_ADD: ARITH_MEM(add); break; \
            case X87H_MUL: ARITH_MEM(mul); break; \
            case X87H_SUB: ARITH_MEM(sub); break; \
            case X87H_SUBR: ARITH_MEM(subr); break; \
            case X87H_DIV: ARITH_MEM(div); break; \
            default: ARITH_MEM(divr); break; \
        }); \
        return sw; \
    }

ARITH_MEM_FUNCTION(x87h_arith_f32, uint32_t, "fadds", "fmuls", "fsubs", "fsubrs", "fdivs", "fdivrs")
ARITH_MEM_FUNCTION(x87h_arith_f64, uint64_t, "faddl", "fmull", "fsubl", "fsubrl", "fdivl", "fdivrl")
ARITH_MEM_FUNCTION(x87h_arith_i16, int16_t, "fiadds", "fimuls", "fisubs", "fisubrs", "fidivs", "fidivrs")
ARITH_MEM_FUNCTION(x87h_arith_i32, int32_t, "fiaddl", "fimull", "fisubl", "fisubrl", "fidivl", "fidivrl")

uint16_t x87h_compare(int kind, X87HostWords w, const void *a, const void *b) {
    uint16_t sw = 0;
#define COMPARE_REG(insn) \
    __asm__ volatile("fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]" \
        : [sw] "=m"(sw) : [a] "m"(IN80(a)), [b] "m"(IN80(b)) : X87_CLOBBERS)
    RUN(w, if (kind == X87H_FUCOM) COMPARE_REG(".byte 0xdd, 0xe1"); else COMPARE_REG(".byte 0xd8, 0xd1"));
    return sw;
}

#define COMPARE_MEM_FUNCTION(name, type, insn) \
    uint16_t name(X87HostWords w, const void *a, type b) { \
        uint16_t sw = 0; \
        RUN(w, __asm__ volatile("fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]" \
            : [sw] "=m"(sw) : [a] "m"(IN80(a)), [m] "m"(b) : X87_CLOBBERS)); \
        return sw; \
    }

COMPARE_MEM_FUNCTION(x87h_compare_f32, uint32_t, "fcoms")
COMPARE_MEM_FUNCTION(x87h_compare_f64, uint64_t, "fcoml")
COMPARE_MEM_FUNCTION(x87h_compare_i16, int16_t, "ficoms")
COMPARE_MEM_FUNCTION(x87h_compare_i32, int32_t, "ficoml")

uint16_t x87h_compare_eflags(int kind, X87HostWords w, const void *a, const void *b, uint8_t *eflags) {
    uint16_t sw = 0, ax = 0;
    // XOR clears CF and sets ZF/PF, so an instruction that does not write
    // EFLAGS is visible as such; LAHF copies them out (no stack use).
#define COMPARE_FLAGS(insn) \
    __asm__ volatile("fldt %[b]\n\tfldt %[a]\n\txorl %%eax, %%eax\n\t" insn "\n\tlahf\n\tfnstsw %[sw]" \
        : [sw] "=m"(sw), "=&a"(ax) : [a] "m"(IN80(a)), [b] "m"(IN80(b)) : X87_CLOBBERS, "cc")
    RUN(w, if (kind == X87H_FUCOM) COMPARE_FLAGS(".byte 0xdb, 0xe9"); else COMPARE_FLAGS(".byte 0xdb, 0xf1"));
    *eflags = (uint8_t)((ax >> 8) & 0x45);
    return sw;
}

#define ON_ST0(insn) \
    __asm__ volatile("fldt %[a]\n\t" insn "\n\tfnstsw %[sw]" : [sw] "=m"(sw) : [a] "m"(IN80(a)) : X87_CLOBBERS)

uint16_t x87h_test(X87HostWords w, const void *a) {
    uint16_t sw = 0;
    RUN(w, ON_ST0("ftst"));
    return sw;
}

uint16_t x87h_examine(X87HostWords w, const void *a) {
    uint16_t sw = 0;
    RUN(w, ON_ST0("fxam"));
    return sw;
}

uint16_t x87h_unary(int op, X87HostWords w, const void *st0, void *top, void *below) {
    uint16_t sw = 0;
#define UNARY1(insn) \
    __asm__ volatile("fldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[t]" \
        : [sw] "=m"(sw), [t] "=m"(OUT80(top)) : [a] "m"(IN80(st0)) : X87_CLOBBERS)
#define UNARY2(insn) \
    __asm__ volatile("fldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[t]\n\tfstpt %[u]" \
        : [sw] "=m"(sw), [t] "=m"(OUT80(top)), [u] "=m"(OUT80(below)) : [a] "m"(IN80(st0)) : X87_CLOBBERS)
    RUN(w, switch (op) {
        case X87H_FSQRT: UNARY1("fsqrt"); break;
        case X87H_FSIN: UNARY1("fsin"); break;
        case X87H_FCOS: UNARY1("fcos"); break;
        case X87H_FRNDINT: UNARY1("frndint"); break;
        case X87H_F2XM1: UNARY1("f2xm1"); break;
        case X87H_FSINCOS: UNARY2("fsincos"); break;
        case X87H_FPTAN: UNARY2("fptan"); break;
        default: UNARY2("fxtract"); break;
    });
    return sw;
}

uint16_t x87h_binary(int op, X87HostWords w, const void *st0, const void *st1, void *result) {
    uint16_t sw = 0;
#define BINARY(insn) \
    __asm__ volatile("fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]" \
        : [sw] "=m"(sw), [r] "=m"(OUT80(result)) : [a] "m"(IN80(st0)), [b] "m"(IN80(st1)) : X87_CLOBBERS)
    RUN(w, switch (op) {
        case X87H_FPREM: BINARY("fprem"); break;
        case X87H_FPREM1: BINARY("fprem1"); break;
        case X87H_FSCALE: BINARY("fscale"); break;
        case X87H_FPATAN: BINARY("fpatan"); break;
        case X87H_FYL2X: BINARY("fyl2x"); break;
        default: BINARY("fyl2xp1"); break;
    });
    return sw;
}

#define LOAD(insn, operand) \
    __asm__ volatile(insn "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]" \
        : [sw] "=m"(sw), [r] "=m"(OUT80(result)) : [m] "m"(operand) : X87_CLOBBERS)

uint16_t x87h_load_f32(X87HostWords w, uint32_t value, void *result) {
    uint16_t sw = 0;
    RUN(w, LOAD("flds %[m]", value));
    return sw;
}

uint16_t x87h_load_f64(X87HostWords w, uint64_t value, void *result) {
    uint16_t sw = 0;
    RUN(w, LOAD("fldl %[m]", value));
    return sw;
}

uint16_t x87h_load_int(X87HostWords w, int64_t value, void *result) {
    uint16_t sw = 0;
    RUN(w, LOAD("fildll %[m]", value));
    return sw;
}

uint16_t x87h_load_bcd(X87HostWords w, const void *bcd, void *result) {
    uint16_t sw = 0;
    RUN(w, LOAD("fbld %[m]", IN80(bcd)));
    return sw;
}

uint16_t x87h_load_constant(int which, X87HostWords w, void *result) {
    uint16_t sw = 0;
    int unused = 0;
    RUN(w, switch (which) {
        case 0: LOAD("fld1", unused); break;
        case 1: LOAD("fldl2t", unused); break;
        case 2: LOAD("fldl2e", unused); break;
        case 3: LOAD("fldpi", unused); break;
        case 4: LOAD("fldlg2", unused); break;
        case 5: LOAD("fldln2", unused); break;
        default: LOAD("fldz", unused); break;
    });
    return sw;
}

#define STORE(insn, out) \
    __asm__ volatile("fldt %[a]\n\t" insn " %[o]\n\tfnstsw %[sw]" \
        : [sw] "=m"(sw), [o] "+m"(out) : [a] "m"(IN80(a)) : X87_CLOBBERS)

uint16_t x87h_store_f32(X87HostWords w, const void *a, uint32_t *out) {
    uint16_t sw = 0;
    RUN(w, STORE("fstps", *out));
    return sw;
}

uint16_t x87h_store_f64(X87HostWords w, const void *a, uint64_t *out) {
    uint16_t sw = 0;
    RUN(w, STORE("fstpl", *out));
    return sw;
}

uint16_t x87h_store_int(int width, X87HostWords w, const void *a, int64_t *out) {
    uint16_t sw = 0;
    int16_t o16 = 0;
    int32_t o32 = 0;
    int64_t o64 = 0;
    RUN(w, switch (width) {
        case 16: STORE("fistps", o16); break;
        case 32: STORE("fistpl", o32); break;
        default: STORE("fistpll", o64); break;
    });
    *out = width == 16 ? o16 : width == 32 ? o32 : o64;
    return sw;
}

uint16_t x87h_store_int_trunc(int width, X87HostWords w, const void *a, int64_t *out) {
    uint16_t sw = 0;
    int16_t o16 = 0;
    int32_t o32 = 0;
    int64_t o64 = 0;
    RUN(w, switch (width) {
        case 16: STORE("fisttps", o16); break;
        case 32: STORE("fisttpl", o32); break;
        default: STORE("fisttpll", o64); break;
    });
    *out = width == 16 ? o16 : width == 32 ? o32 : o64;
    return sw;
}

uint16_t x87h_store_bcd(X87HostWords w, const void *a, void *bcd) {
    uint16_t sw = 0;
    RUN(w, STORE("fbstp", OUT80(bcd)));
    return sw;
}

// The JIT's residence switches: FNSAVE writes the 108-byte 32-bit protected
// mode image (and reinitialises the FPU, leaving it clean for the host);
// FRSTOR loads one. Neither touches MXCSR or the XMM registers.
void x87h_save_image(void *image) {
    __asm__ volatile("fnsave %0" : "=m"(*(uint8_t(*)[108])image) : : X87_CLOBBERS);
}

void x87h_load_image(const void *image) {
    __asm__ volatile("frstor %0" : : "m"(*(const uint8_t(*)[108])image) : X87_CLOBBERS);
}
