/* Integer benchmark workload: a prime sieve, qsort with a comparison
 * callback (indirect calls), an open-addressing hash table, and a byte-wise
 * checksum over a buffer. Prints a checksum so a wrong result shows.
 * usage: integer-workload [rounds] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t state = 0x9E3779B9;
static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static uint32_t sieve(int limit) {
    char *composite = calloc(limit + 1, 1);
    uint32_t count = 0;
    for (int i = 2; i <= limit; i++) {
        if (composite[i]) continue;
        count++;
        for (int j = i * 2; j <= limit; j += i) composite[j] = 1;
    }
    free(composite);
    return count;
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t sort_round(int n) {
    uint32_t *values = malloc(n * sizeof *values);
    for (int i = 0; i < n; i++) values[i] = next();
    qsort(values, n, sizeof *values, compare);
    uint32_t sum = 0;
    for (int i = 0; i < n; i += 97) sum = sum * 31 + values[i];
    free(values);
    return sum;
}

static uint32_t hash_round(int n) {
    enum { slots = 1 << 16 };
    static uint32_t keys[slots], counts[slots];
    memset(keys, 0, sizeof keys);
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < n; i++) {
        uint32_t key = (next() & 0x7FFF) + 1;
        uint32_t slot = (key * 2654435761u) >> 16;
        while (keys[slot] != 0 && keys[slot] != key) slot = (slot + 1) & (slots - 1);
        keys[slot] = key;
        counts[slot]++;
    }
    uint32_t sum = 0;
    for (int i = 0; i < slots; i++) sum += keys[i] ^ (counts[i] << 7);
    return sum;
}

static uint32_t checksum_round(int size) {
    unsigned char *buffer = malloc(size);
    for (int i = 0; i < size; i++) buffer[i] = (unsigned char)(i * 7 + (i >> 5));
    uint32_t a = 1, b = 0;
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < size; i++) {
            a = (a + buffer[i]) % 65521;
            b = (b + a) % 65521;
        }
    free(buffer);
    return (b << 16) | a;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 4;
    uint32_t total = 0;
    for (int round = 0; round < rounds; round++) {
        total = total * 33 + sieve(2000000);
        total = total * 33 + sort_round(200000);
        total = total * 33 + hash_round(1000000);
        total = total * 33 + checksum_round(1 << 20);
    }
    printf("integer checksum %08x\n", total);
    return 0;
}
