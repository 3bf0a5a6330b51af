/*
 * Plays known sounds for PCEmu's sound tests.
 *   sound-test tone FREQ SECONDS RATE PERCENT  a sine on /dev/dsp (OSS), 16-bit stereo,
 *                                              with the mixer's master and PCM at 100
 *   sound-test beep FREQ MILLISECONDS          the PC speaker: PIT counter 2 in mode 3
 *                                              and port 0x61, programmed directly
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/soundcard.h>
#include <time.h>
#include <unistd.h>

/* No libm: the test programs are linked without it. */
static const double pi = 3.14159265358979323846;

static long round_to_long(double x) { return (long)(x < 0 ? x - 0.5 : x + 0.5); }

/* sin(x) for any x: reduced to [-pi, pi], then a Taylor series to x^21. */
static double sine(double x) {
    x -= 2 * pi * (double)round_to_long(x / (2 * pi));
    double term = x, sum = x;
    for (int n = 1; n <= 10; n++) {
        term *= -x * x / ((2 * n) * (2 * n + 1));
        sum += term;
    }
    return sum;
}

static int fail(const char *what) {
    perror(what);
    return 1;
}

static int tone(double frequency, double seconds, int rate, int percent) {
    int mixer = open("/dev/mixer", O_RDWR);
    if (mixer < 0) return fail("/dev/mixer");
    int full = 100 | 100 << 8;
    if (ioctl(mixer, SOUND_MIXER_WRITE_VOLUME, &full) < 0) return fail("SOUND_MIXER_WRITE_VOLUME");
    full = 100 | 100 << 8;
    if (ioctl(mixer, SOUND_MIXER_WRITE_PCM, &full) < 0) return fail("SOUND_MIXER_WRITE_PCM");
    close(mixer);

    /* One second of the tone, computed before the device is opened so that
     * the writes keep up: an integral frequency loops seamlessly. */
    short *second = malloc((size_t)rate * 4);
    if (!second) return fail("malloc");
    double amplitude = 32767.0 * percent / 100;
    for (int i = 0; i < rate; i++) {
        double phase = frequency * i / rate;
        phase -= (double)(long)phase;
        second[2 * i] = second[2 * i + 1] = (short)round_to_long(amplitude * sine(2 * pi * phase));
    }

    int dsp = open("/dev/dsp", O_WRONLY);
    if (dsp < 0) return fail("/dev/dsp");
    int format = AFMT_S16_LE, channels = 2, speed = rate;
    if (ioctl(dsp, SNDCTL_DSP_SETFMT, &format) < 0 || format != AFMT_S16_LE) return fail("SNDCTL_DSP_SETFMT");
    if (ioctl(dsp, SNDCTL_DSP_CHANNELS, &channels) < 0 || channels != 2) return fail("SNDCTL_DSP_CHANNELS");
    if (ioctl(dsp, SNDCTL_DSP_SPEED, &speed) < 0) return fail("SNDCTL_DSP_SPEED");
    if (speed != rate) { fprintf(stderr, "rate %d became %d\n", rate, speed); return 1; }
    long frames = (long)(seconds * speed);
    long done = 0;
    while (done < frames) {
        long offset = done % rate;
        long count = frames - done < rate - offset ? frames - done : rate - offset;
        if (count > 1024) count = 1024;
        ssize_t bytes = (ssize_t)count * 4;
        if (write(dsp, second + 2 * offset, bytes) != bytes) return fail("write /dev/dsp");
        done += count;
    }
    close(dsp);  /* waits for the sound to be played */
    printf("tone %.0f Hz %ld frames at %d Hz\n", frequency, frames, speed);
    return 0;
}

static int beep(double frequency, int milliseconds) {
    if (ioperm(0x42, 2, 1) < 0 || ioperm(0x61, 1, 1) < 0) return fail("ioperm");
    int count = (int)round_to_long(1193182.0 / frequency);
    outb(0xB6, 0x43);  /* counter 2, low then high byte, mode 3 */
    outb(count & 0xFF, 0x42);
    outb(count >> 8, 0x42);
    outb(inb(0x61) | 3, 0x61);
    struct timespec wait = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };
    nanosleep(&wait, NULL);
    outb(inb(0x61) & ~3, 0x61);
    printf("beep count %d\n", count);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "tone") == 0)
        return tone(atof(argv[2]), atof(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc == 4 && strcmp(argv[1], "beep") == 0)
        return beep(atof(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: sound-test tone FREQ SECONDS RATE PERCENT | beep FREQ MILLISECONDS\n");
    return 2;
}
