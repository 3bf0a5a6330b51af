#ifndef CX87HOST_H
#define CX87HOST_H
// One x87 operation at a time on the host's own FPU, so that results, rounding
// and exception flags are those of real hardware. Every 80-bit value is 10
// bytes: the 64-bit significand (little endian) then sign and exponent.
//
// Each function installs the guest control word (exception masks included)
// and the guest's condition codes C0-C3 with clear exception flags, runs one
// instruction, and returns the host status word as it was right after that
// instruction (exception flags, C0-C3: unchanged ones keep the guest's
// values). The host FPU environment is restored before returning.
#include <stdint.h>

typedef struct {
    uint16_t control;  // the guest control word
    uint16_t status;   // the guest status word (only C0-C3 are used)
} X87HostWords;

// Arithmetic: the values are the ModRM reg field of D8 (FADD..FDIVR).
enum {
    X87H_ADD = 0, X87H_MUL = 1, X87H_SUB = 4, X87H_SUBR = 5, X87H_DIV = 6, X87H_DIVR = 7
};
// result = a op b, computed as "op ST(0), operand" with a in ST(0).
uint16_t x87h_arith(int op, X87HostWords w, const void *a, const void *b, void *result);
uint16_t x87h_arith_f32(int op, X87HostWords w, const void *a, uint32_t b, void *result);
uint16_t x87h_arith_f64(int op, X87HostWords w, const void *a, uint64_t b, void *result);
uint16_t x87h_arith_i16(int op, X87HostWords w, const void *a, int16_t b, void *result);
uint16_t x87h_arith_i32(int op, X87HostWords w, const void *a, int32_t b, void *result);

// Comparisons of a (ST(0)) with b; the condition codes are in the status.
enum { X87H_FCOM = 0, X87H_FUCOM = 1 };
uint16_t x87h_compare(int kind, X87HostWords w, const void *a, const void *b);
uint16_t x87h_compare_f32(X87HostWords w, const void *a, uint32_t b);
uint16_t x87h_compare_f64(X87HostWords w, const void *a, uint64_t b);
uint16_t x87h_compare_i16(X87HostWords w, const void *a, int16_t b);
uint16_t x87h_compare_i32(X87HostWords w, const void *a, int32_t b);
// FCOMI/FUCOMI: *eflags receives the host's ZF (0x40), PF (0x04), CF (0x01).
uint16_t x87h_compare_eflags(int kind, X87HostWords w, const void *a, const void *b, uint8_t *eflags);
uint16_t x87h_test(X87HostWords w, const void *a);     // FTST
uint16_t x87h_examine(X87HostWords w, const void *a);  // FXAM

// Operations on ST(0) alone. For the pushing ones (FSINCOS, FPTAN, FXTRACT)
// top receives the new ST(0) and below the new ST(1); the others only write top.
enum {
    X87H_FSQRT, X87H_FSIN, X87H_FCOS, X87H_FRNDINT, X87H_F2XM1,
    X87H_FSINCOS, X87H_FPTAN, X87H_FXTRACT
};
uint16_t x87h_unary(int op, X87HostWords w, const void *st0, void *top, void *below);

// Operations on ST(0) and ST(1). FPREM/FPREM1/FSCALE: result is the new ST(0).
// FPATAN/FYL2X/FYL2XP1: result is the new ST(0) after the pop (old ST(1)).
enum { X87H_FPREM, X87H_FPREM1, X87H_FSCALE, X87H_FPATAN, X87H_FYL2X, X87H_FYL2XP1 };
uint16_t x87h_binary(int op, X87HostWords w, const void *st0, const void *st1, void *result);

// Loads into 80 bits.
uint16_t x87h_load_f32(X87HostWords w, uint32_t value, void *result);
uint16_t x87h_load_f64(X87HostWords w, uint64_t value, void *result);
uint16_t x87h_load_int(X87HostWords w, int64_t value, void *result);  // FILD (exact)
uint16_t x87h_load_bcd(X87HostWords w, const void *bcd, void *result);
// FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ: which = low 3 bits of D9 E8..EE.
uint16_t x87h_load_constant(int which, X87HostWords w, void *result);

// Stores from 80 bits. width is 16, 32 or 64 for the integer ones.
uint16_t x87h_store_f32(X87HostWords w, const void *a, uint32_t *out);
uint16_t x87h_store_f64(X87HostWords w, const void *a, uint64_t *out);
uint16_t x87h_store_int(int width, X87HostWords w, const void *a, int64_t *out);      // FIST(P)
uint16_t x87h_store_int_trunc(int width, X87HostWords w, const void *a, int64_t *out); // FISTTP
uint16_t x87h_store_bcd(X87HostWords w, const void *a, void *bcd);


// The guest FPU into and out of the host's (FNSAVE image, 108 bytes).
void x87h_save_image(void *image);
void x87h_load_image(const void *image);

#endif
