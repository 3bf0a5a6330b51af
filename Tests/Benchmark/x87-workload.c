/* x87 benchmark workload: double-precision arithmetic, square roots,
 * transcendental functions and a small matrix product, compiled for i386
 * where gcc computes doubles on the x87. Prints a checksum of the results.
 * usage: x87-workload [rounds] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double series(int n) {
    double sum = 0;
    for (int k = 1; k <= n; k++) sum += (k & 1 ? 4.0 : -4.0) / (2.0 * k - 1.0);
    return sum;
}

static double roots(int n) {
    double sum = 0;
    for (int k = 1; k <= n; k++) sum += sqrt((double)k) / (1.0 + k * 0.5);
    return sum;
}

static double waves(int n) {
    double sum = 0;
    for (int k = 0; k < n; k++) {
        double x = k * 0.001;
        sum += sin(x) * cos(x * 0.5) + atan(x) - exp(-x) + log(1.0 + x);
    }
    return sum;
}

static double matrix(int size, int repeats) {
    double *a = malloc(sizeof(double) * size * size), *b = malloc(sizeof(double) * size * size),
           *c = malloc(sizeof(double) * size * size);
    for (int i = 0; i < size * size; i++) {
        a[i] = (i % 17) * 0.25 - 2.0;
        b[i] = (i % 13) * 0.5 + 1.0;
    }
    double trace = 0;
    for (int r = 0; r < repeats; r++) {
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++) {
                double s = 0;
                for (int k = 0; k < size; k++) s += a[i * size + k] * b[k * size + j];
                c[i * size + j] = s;
            }
        for (int i = 0; i < size; i++) trace += c[i * size + i];
        a[r % (size * size)] += 0.125;
    }
    free(a);
    free(b);
    free(c);
    return trace;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 2;
    double total = 0;
    for (int round = 0; round < rounds; round++) {
        total += series(2000000);
        total += roots(1000000);
        total += waves(300000);
        total += matrix(120, 2);
    }
    printf("x87 result %.6e\n", total);
    return 0;
}
