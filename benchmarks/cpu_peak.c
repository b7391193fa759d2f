/* Peak multiply-add rate of one core: float32 FMA against bfloat16 VDPBF16PS.
 *
 * Why bfloat16 training is slower than float32 on some AVX512_BF16 CPUs: each
 * VDPBF16PS does twice the multiply-adds of a float32 FMA, so it only pays if
 * the core issues it at least half as often. This times long chains of each
 * on 10 independent accumulators (enough to hide the latency), one core.
 *
 *     gcc -O2 -mavx512f -mavx512bf16 benchmarks/cpu_peak.c -o /tmp/cpu_peak && /tmp/cpu_peak
 *
 * On the 2-core Xeon this project is measured on (AVX512_BF16 and
 * AVX512_FP16, no AMX): float32 175 GFLOP/s, bfloat16 89 GFLOP/s per core.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define ITERATIONS 300000000L
#define EACH(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9)
#define KEEP                                                                          \
    __asm__ volatile("" : "+v"(acc0), "+v"(acc1), "+v"(acc2), "+v"(acc3), "+v"(acc4), \
                     "+v"(acc5), "+v"(acc6), "+v"(acc7), "+v"(acc8), "+v"(acc9))

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
#define DECLARE(i) __m512 acc##i = _mm512_setzero_ps();
    EACH(DECLARE)
#define SUM(i) +_mm512_reduce_add_ps(acc##i)

    /* float32: 16 lanes x 1 multiply-add = 32 FLOP per instruction */
    __m512 a = _mm512_set1_ps(1e-9f), b = _mm512_set1_ps(1.0f);
    double start = seconds();
    for (long n = 0; n < ITERATIONS; n++) {
#define FMA(i) acc##i = _mm512_fmadd_ps(a, b, acc##i);
        EACH(FMA)
        KEEP;
    }
    double fp32 = ITERATIONS * 10 * 32.0 / (seconds() - start) / 1e9;
    float check = 0.0f EACH(SUM);

    /* bfloat16: 16 lanes x 2 multiply-adds = 64 FLOP per instruction */
#define RESET(i) acc##i = _mm512_setzero_ps();
    EACH(RESET)
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3f80); /* 1.0 */
    start = seconds();
    for (long n = 0; n < ITERATIONS; n++) {
#define DOT(i) acc##i = _mm512_dpbf16_ps(acc##i, x, y);
        EACH(DOT)
        KEEP;
    }
    double bf16 = ITERATIONS * 10 * 64.0 / (seconds() - start) / 1e9;
    check += 0.0f EACH(SUM);

    printf("float32 FMA:        %6.1f GFLOP/s per core\n", fp32);
    printf("bfloat16 VDPBF16PS: %6.1f GFLOP/s per core (%.2fx float32)\n", bf16, bf16 / fp32);
    return check == 0.0f; /* uses the results, so the loops are not removed */
}
