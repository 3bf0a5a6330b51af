/* SSE exerciser: runs SSE and SSE2 instructions (through gcc's intrinsics,
 * so the compiler picks register and memory forms) on special and
 * pseudo-random operands under each rounding mode, with and without DAZ and
 * FTZ, and prints one checksum line per instruction family, each result and
 * MXCSR's flags mixed in. Built with gcc -m32 -static -O2 as the other guest
 * programs (the pragma turns SSE2 on); its output on PCEmu's guest must be
 * exactly its output on the host CPU.
 * usage: sse-exerciser [-v]   (-v prints every case) */
#pragma GCC target("sse2")
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int verbose;
static uint32_t state = 0x9E3779B9;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* Singles: zeros, ones, infinities, NaNs, denormals, extremes, or random. */
static uint32_t single_bits(void) {
    static const uint32_t specials[] = {0x00000000, 0x80000000, 0x3F800000, 0xBFC00000, 0x7F800000, 0xFF800000,
                                        0x7FC00000, 0x7FA00001, 0xFFC12345, 0x00000001, 0x807FFFFF, 0x7F7FFFFF,
                                        0x00800000, 0x40400000, 0x4F000000, 0xCF000000, 0x33800000};
    uint32_t pick = next();
    if ((pick & 3) == 0) return specials[(pick >> 2) % (sizeof specials / sizeof specials[0])];
    uint32_t exponent = 127 - 70 + (next() % 141);
    return (next() & 0x807FFFFF) | exponent << 23;
}

static __m128i random_vector(void) {
    uint32_t lanes[4];
    int doubles = next() & 1;
    for (int i = 0; i < 4; i++) lanes[i] = single_bits();
    if (doubles) { lanes[1] = (lanes[1] & 0x800FFFFF) | ((next() % 0x7FF) << 20); lanes[3] = lanes[1] ^ 0x3FF00000; }
    return _mm_loadu_si128((const __m128i *)lanes);
}

static uint32_t checksum;
static void mix_vector(const char *name, __m128i value, unsigned mxcsr) {
    uint32_t lanes[4];
    _mm_storeu_si128((__m128i *)lanes, value);
    for (int i = 0; i < 4; i++) checksum = (checksum ^ lanes[i]) * 0x01000193u;
    checksum = (checksum ^ (mxcsr & 0x3F)) * 0x01000193u;
    if (verbose) printf("%s %08x %08x %08x %08x %02x\n", name, lanes[0], lanes[1], lanes[2], lanes[3], mxcsr & 0x3F);
}

#define PS(x) _mm_castsi128_ps(x)
#define PD(x) _mm_castsi128_pd(x)
#define FROM_PS(x) _mm_castps_si128(x)
#define FROM_PD(x) _mm_castpd_si128(x)

/* Runs EXPRESSION (on a and b) for each MXCSR mode over several operand pairs. */
#define FAMILY(title, EXPRESSION)                                                   \
    do {                                                                            \
        checksum = 0;                                                               \
        for (int mode = 0; mode < 8; mode++) {                                      \
            unsigned control = 0x1F80 | (mode & 3) << 13 | (mode >= 4 ? 0x8040 : 0); \
            for (int round = 0; round < 24; round++) {                              \
                __m128i a = random_vector(), b = random_vector();                   \
                _mm_setcsr(control);                                                \
                __m128i r = (EXPRESSION);                                           \
                unsigned after = _mm_getcsr();                                      \
                _mm_setcsr(0x1F80);                                                 \
                mix_vector(title, r, after);                                        \
            }                                                                       \
        }                                                                           \
        printf("%-10s %08x\n", title, checksum);                                    \
    } while (0)

int main(int argc, char **argv) {
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    FAMILY("addps", FROM_PS(_mm_add_ps(PS(a), PS(b))));
    FAMILY("subss", FROM_PS(_mm_sub_ss(PS(a), PS(b))));
    FAMILY("mulpd", FROM_PD(_mm_mul_pd(PD(a), PD(b))));
    FAMILY("divps", FROM_PS(_mm_div_ps(PS(a), PS(b))));
    FAMILY("divsd", FROM_PD(_mm_div_sd(PD(a), PD(b))));
    FAMILY("sqrtps", FROM_PS(_mm_sqrt_ps(PS(a))));
    FAMILY("sqrtpd", FROM_PD(_mm_sqrt_pd(PD(b))));
    FAMILY("minmax", FROM_PS(_mm_max_ps(_mm_min_ps(PS(a), PS(b)), PS(b))));
    FAMILY("cmpps", FROM_PS(_mm_or_ps(_mm_cmplt_ps(PS(a), PS(b)), _mm_cmpunord_ps(PS(b), PS(a)))));
    FAMILY("cmpsd", FROM_PD(_mm_cmpnle_sd(PD(a), PD(b))));
    FAMILY("cvtps2dq", _mm_cvtps_epi32(PS(a)));
    FAMILY("cvttpd2dq", _mm_cvttpd_epi32(PD(a)));
    FAMILY("cvtps2pd", FROM_PD(_mm_cvtps_pd(PS(a))));
    FAMILY("cvtpd2ps", FROM_PS(_mm_cvtpd_ps(PD(b))));
    FAMILY("cvtdq2ps", FROM_PS(_mm_cvtepi32_ps(a)));
    FAMILY("cvtsi2sd", FROM_PD(_mm_cvtsi32_sd(PD(a), (int)_mm_cvtsi128_si32(b))));
    FAMILY("cvtss2si", _mm_cvtsi32_si128(_mm_cvtss_si32(PS(a)) ^ _mm_cvttsd_si32(PD(b))));
    FAMILY("comiss", _mm_cvtsi32_si128(_mm_comilt_ss(PS(a), PS(b)) | _mm_ucomieq_sd(PD(a), PD(b)) << 1));
    FAMILY("integer", _mm_add_epi16(_mm_mulhi_epi16(a, b), _mm_sub_epi64(_mm_adds_epu8(a, b), _mm_sad_epu8(a, b))));
    FAMILY("compare", _mm_xor_si128(_mm_cmpgt_epi32(a, b), _mm_cmpeq_epi8(_mm_min_epu8(a, b), a)));
    FAMILY("pack", _mm_packs_epi32(_mm_unpackhi_epi16(a, b), _mm_packus_epi16(b, a)));
    FAMILY("shift", _mm_or_si128(_mm_srai_epi16(a, 3), _mm_slli_si128(_mm_srl_epi32(b, _mm_cvtsi32_si128(5)), 3)));
    FAMILY("shuffle", FROM_PS(_mm_shuffle_ps(PS(_mm_shufflehi_epi16(_mm_shuffle_epi32(a, 0x1B), 0x93)), PS(b), 0x72)));
    FAMILY("movemask", _mm_cvtsi32_si128(_mm_movemask_epi8(a) ^ _mm_movemask_ps(PS(b)) << 16 ^ _mm_extract_epi16(a, 5)));
    FAMILY("madd", _mm_insert_epi16(_mm_madd_epi16(a, b), _mm_cvtsi128_si32(b), 2));
    FAMILY("avg", _mm_avg_epu16(_mm_mul_epu32(a, b), _mm_avg_epu8(a, b)));
    printf("sse-exerciser done\n");
    return 0;
}
