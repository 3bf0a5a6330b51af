/* MMX, SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT exerciser: as sse-exerciser.c, one
 * checksum line per instruction family over special and pseudo-random
 * operands under each rounding mode, with and without DAZ and FTZ, each
 * result and MXCSR's flags (and for the string compares and PTEST, the
 * flags) mixed in. Built with gcc -m32 -static -O2 (the pragma turns the
 * extensions on); its output in PCEmu's guest must be exactly its output on
 * the host CPU.
 * usage: sse4-exerciser [-v]   (-v prints every case) */
#pragma GCC target("sse4.2,popcnt")
#include <nmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int verbose;
static uint32_t state = 0x2545F491;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* Singles: zeros, ones, infinities, NaNs, denormals, extremes, halves (for
 * rounding), or random; some lanes small integers and zero bytes, so string
 * compares and integer forms see matches and ends. */
static uint32_t lane_bits(void) {
    static const uint32_t specials[] = {0x00000000, 0x80000000, 0x3F800000, 0xBFC00000, 0x7F800000, 0xFF800000,
                                        0x7FC00000, 0x7FA00001, 0xFFC12345, 0x00000001, 0x807FFFFF, 0x7F7FFFFF,
                                        0x00800000, 0x40400000, 0x4F000000, 0xCF000000, 0x3F000000, 0x40200000,
                                        0x00410041, 0x61626300, 0xFFFF0000, 0x7FFF8000};
    uint32_t pick = next();
    if ((pick & 3) == 0) return specials[(pick >> 2) % (sizeof specials / sizeof specials[0])];
    if ((pick & 3) == 1) return next() & 0x00FF00FF;
    uint32_t exponent = 127 - 40 + (next() % 81);
    return (next() & 0x807FFFFF) | exponent << 23;
}

static __m128i random_vector(void) {
    uint32_t lanes[4];
    int doubles = next() & 1;
    for (int i = 0; i < 4; i++) lanes[i] = lane_bits();
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
#define INT(x) _mm_cvtsi32_si128((int)(x))

/* Runs EXPRESSION (on a and b) for each MXCSR mode over several operand pairs. */
#define FAMILY(title, EXPRESSION)                                                   \
    do {                                                                            \
        checksum = 0;                                                               \
        for (int mode = 0; mode < 8; mode++) {                                      \
            unsigned control = 0x1F80 | (mode & 3) << 13 | (mode >= 4 ? 0x8040 : 0); \
            for (int round = 0; round < 24; round++) {                              \
                __m128i a = random_vector(), b = random_vector();                   \
                int n = (int)(next() % 40) - 12, m = (int)(next() % 40) - 12;       \
                (void)a; (void)b; (void)n; (void)m;                                 \
                _mm_setcsr(control);                                                \
                __m128i r = (EXPRESSION);                                           \
                unsigned after = _mm_getcsr();                                      \
                _mm_setcsr(0x1F80);                                                 \
                mix_vector(title, r, after);                                        \
            }                                                                       \
        }                                                                           \
        printf("%-10s %08x\n", title, checksum);                                    \
    } while (0)

/* FISTTP m32 of a's first single (SSE3's x87 addition), truncating whatever the rounding mode. */
/* MMX over a's and b's low qwords (through memory: the MMX-XMM moves are not
 * what is exercised here), then EMMS and x87 code on the registers MMX used. */
static __m128i mmx(__m128i a, __m128i b) {
    union { __m128i v; __m64 q[2]; unsigned u[4]; } in_a, in_b, out;
    in_a.v = a;
    in_b.v = b;
    __m64 x = in_a.q[0], y = in_b.q[0];
    __m64 r = _mm_add_pi16(_mm_mulhi_pi16(x, y), _mm_subs_pu8(_mm_packs_pi32(x, y), _mm_unpackhi_pi8(y, x)));
    r = _mm_xor_si64(r, _mm_sra_pi16(_mm_cmpgt_pi32(x, y), _mm_cvtsi32_si64(3)));
    r = _mm_or_si64(r, _mm_shuffle_pi16(_mm_sad_pu8(_mm_avg_pu8(x, y), _mm_max_pi16(x, y)), 0x4E));
    r = _mm_add_pi8(r, _mm_shuffle_pi8(_mm_sign_pi16(x, y), _mm_abs_pi8(y)));
    int low = _mm_cvtsi64_si32(r) ^ _mm_movemask_pi8(x) ^ _mm_extract_pi16(y, 2);
    out.q[0] = _mm_insert_pi16(r, low, 1);
    _mm_empty();
    volatile double d = (double)low * 0.5;
    out.u[2] = (unsigned)(int)(d * 3.0);
    out.u[3] = 0;
    return out.v;
}

static int fisttp(__m128i a) {
    float value = _mm_cvtss_f32(PS(a));
    int result;
    __asm__ volatile("flds %1\n\tfisttpl %0" : "=m"(result) : "m"(value));
    return result;
}

int main(int argc, char **argv) {
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    FAMILY("mmx", mmx(a, b));
    /* SSE3 */
    FAMILY("addsubps", FROM_PS(_mm_addsub_ps(PS(a), PS(b))));
    FAMILY("addsubpd", FROM_PD(_mm_addsub_pd(PD(a), PD(b))));
    FAMILY("haddps", FROM_PS(_mm_hadd_ps(PS(a), PS(b))));
    FAMILY("hsubpd", FROM_PD(_mm_hsub_pd(PD(a), PD(b))));
    FAMILY("movdup", _mm_xor_si128(FROM_PS(_mm_moveldup_ps(PS(a))),
                                   FROM_PD(_mm_movedup_pd(_mm_add_pd(PD(FROM_PS(_mm_movehdup_ps(PS(b)))), PD(a))))));
    FAMILY("lddqu", _mm_lddqu_si128((const __m128i *)((const char *)&a + 0)));
    FAMILY("fisttp", INT(fisttp(a)));
    /* SSSE3 */
    FAMILY("pshufb", _mm_shuffle_epi8(a, b));
    FAMILY("phadd", _mm_hadds_epi16(_mm_hadd_epi32(a, b), _mm_hsub_epi16(b, a)));
    FAMILY("maddubs", _mm_maddubs_epi16(a, b));
    FAMILY("mulhrs", _mm_mulhrs_epi16(a, b));
    FAMILY("sign", _mm_sign_epi8(_mm_sign_epi32(a, b), _mm_sign_epi16(b, a)));
    FAMILY("abs", _mm_add_epi8(_mm_abs_epi8(a), _mm_abs_epi32(_mm_abs_epi16(b))));
    FAMILY("palignr", _mm_xor_si128(_mm_alignr_epi8(a, b, 5), _mm_alignr_epi8(b, a, 13)));
    /* SSE4.1 */
    FAMILY("blend", _mm_blendv_epi8(FROM_PS(_mm_blend_ps(PS(a), PS(b), 5)), _mm_blend_epi16(a, b, 0x93), b));
    FAMILY("blendv", FROM_PD(_mm_blendv_pd(PD(a), PD(b), PD(_mm_xor_si128(a, b)))));
    FAMILY("round", FROM_PS(_mm_round_ps(PS(a), _MM_FROUND_CUR_DIRECTION)));
    FAMILY("roundsd", FROM_PD(_mm_round_sd(PD(a), PD(b), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    FAMILY("floorpd", FROM_PD(_mm_floor_pd(PD(b))));
    FAMILY("dpps", FROM_PS(_mm_dp_ps(PS(a), PS(b), 0xF3)));
    FAMILY("dppd", FROM_PD(_mm_dp_pd(PD(a), PD(b), 0x31)));
    FAMILY("minmax", _mm_xor_si128(_mm_max_epi8(_mm_min_epu32(a, b), b), _mm_min_epi32(_mm_max_epu16(a, b), a)));
    FAMILY("mul", _mm_add_epi64(_mm_mullo_epi32(a, b), _mm_mul_epi32(b, a)));
    FAMILY("pmovx", _mm_xor_si128(_mm_cvtepi8_epi16(a), _mm_add_epi32(_mm_cvtepu16_epi32(b), _mm_cvtepi32_epi64(a))));
    FAMILY("pmovxbq", _mm_sub_epi64(_mm_cvtepu8_epi64(a), _mm_cvtepi16_epi64(b)));
    FAMILY("insert", _mm_insert_epi8(_mm_insert_epi32(FROM_PS(_mm_insert_ps(PS(a), PS(b), 0x9C)), _mm_extract_epi8(b, 7), 2),
                                     _mm_extract_epi32(a, 3) ^ _mm_extract_ps(PS(b), 1), 12));
    FAMILY("ptest", INT(_mm_testz_si128(a, b) | _mm_testc_si128(b, a) << 1 | _mm_testnzc_si128(a, b) << 2));
    FAMILY("pcmpeqq", _mm_add_epi64(_mm_cmpeq_epi64(a, b), _mm_packus_epi32(a, b)));
    FAMILY("minpos", _mm_minpos_epu16(a));
    FAMILY("mpsadbw", _mm_xor_si128(_mm_mpsadbw_epu8(a, b, 5), _mm_mpsadbw_epu8(b, a, 2)));
    FAMILY("ntdqa", _mm_stream_load_si128(&a));
    /* SSE4.2 */
    FAMILY("pcmpgtq", _mm_cmpgt_epi64(a, b));
    FAMILY("istri", INT(_mm_cmpistri(a, b, 0x0C) | _mm_cmpistrc(a, b, 0x0C) << 8 | _mm_cmpistrz(a, b, 0x0C) << 9
                        | _mm_cmpistrs(a, b, 0x0C) << 10 | _mm_cmpistro(a, b, 0x0C) << 11));
    FAMILY("estri", INT(_mm_cmpestri(a, n, b, m, 0x44) | _mm_cmpestra(a, n, b, m, 0x44) << 8
                        | _mm_cmpestrz(a, n, b, m, 0x19) << 9));
    FAMILY("istrm", _mm_cmpistrm(a, b, 0x48));
    FAMILY("estrm", _mm_cmpestrm(a, n, b, m, 0x60));
    FAMILY("crc32", INT(_mm_crc32_u32(_mm_crc32_u16(_mm_crc32_u8(_mm_cvtsi128_si32(a), _mm_extract_epi8(b, 3)),
                                                    _mm_extract_epi16(b, 5)), _mm_cvtsi128_si32(b))));
    FAMILY("popcnt", INT(_mm_popcnt_u32(_mm_cvtsi128_si32(a)) | _mm_popcnt_u32(_mm_extract_epi32(b, 2)) << 8));
    printf("sse4-exerciser done\n");
    return 0;
}
