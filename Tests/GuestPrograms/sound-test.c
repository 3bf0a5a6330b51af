/*
 * Plays known sounds for PCEmu's sound tests.
 *   sound-test tone FREQ SECONDS RATE PERCENT [u8]  a sine on /dev/dsp (OSS), 16-bit
 *                                              stereo (or unsigned 8-bit mono), with
 *                                              the mixer's master and PCM at 100
 *   sound-test record SECONDS RATE             records 16-bit stereo from /dev/dsp (OSS) and
 *                                              prints the left channel's pitch (rising zero
 *                                              crossings over the last half) and peak
 *   sound-test beep FREQ MILLISECONDS          the PC speaker: PIT counter 2 in mode 3
 *                                              and port 0x61, programmed directly
 *   sound-test fm FNUM BLOCK MILLISECONDS      an AdLib note on the OPL at 0x388: a sine
 *                                              carrier, its modulator silent
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

static int tone(double frequency, double seconds, int rate, int percent, int eight_bit) {
    int mixer = open("/dev/mixer", O_RDWR);
    if (mixer < 0) return fail("/dev/mixer");
    int full = 100 | 100 << 8;
    if (ioctl(mixer, SOUND_MIXER_WRITE_VOLUME, &full) < 0) return fail("SOUND_MIXER_WRITE_VOLUME");
    full = 100 | 100 << 8;
    if (ioctl(mixer, SOUND_MIXER_WRITE_PCM, &full) < 0) return fail("SOUND_MIXER_WRITE_PCM");
    close(mixer);

    /* One second of the tone, computed before the device is opened so that
     * the writes keep up: an integral frequency loops seamlessly. */
    int frame_bytes = eight_bit ? 1 : 4;
    unsigned char *second = malloc((size_t)rate * frame_bytes);
    if (!second) return fail("malloc");
    double amplitude = (eight_bit ? 127.0 : 32767.0) * percent / 100;
    for (int i = 0; i < rate; i++) {
        double phase = frequency * i / rate;
        phase -= (double)(long)phase;
        long value = round_to_long(amplitude * sine(2 * pi * phase));
        if (eight_bit) {
            second[i] = (unsigned char)(value + 128);
        } else {
            short *frame = (short *)(second + 4 * i);
            frame[0] = frame[1] = (short)value;
        }
    }

    int dsp = open("/dev/dsp", O_WRONLY);
    if (dsp < 0) return fail("/dev/dsp");
    int wanted_format = eight_bit ? AFMT_U8 : AFMT_S16_LE, wanted_channels = eight_bit ? 1 : 2;
    int format = wanted_format, channels = wanted_channels, speed = rate;
    if (ioctl(dsp, SNDCTL_DSP_SETFMT, &format) < 0 || format != wanted_format) return fail("SNDCTL_DSP_SETFMT");
    if (ioctl(dsp, SNDCTL_DSP_CHANNELS, &channels) < 0 || channels != wanted_channels) return fail("SNDCTL_DSP_CHANNELS");
    if (ioctl(dsp, SNDCTL_DSP_SPEED, &speed) < 0) return fail("SNDCTL_DSP_SPEED");
    if (speed != rate) { fprintf(stderr, "rate %d became %d\n", rate, speed); return 1; }
    long frames = (long)(seconds * speed);
    long done = 0;
    while (done < frames) {
        long offset = done % rate;
        long count = frames - done < rate - offset ? frames - done : rate - offset;
        if (count > 1024) count = 1024;
        ssize_t bytes = (ssize_t)count * frame_bytes;
        if (write(dsp, second + offset * frame_bytes, bytes) != bytes) return fail("write /dev/dsp");
        done += count;
    }
    close(dsp);  /* waits for the sound to be played */
    printf("tone %.0f Hz %ld frames at %d Hz\n", frequency, frames, speed);
    return 0;
}

static int record(double seconds, int rate) {
    /* ALSA starts the capture gain muted: OSS's input gain maps to "Capture". */
    int mixer = open("/dev/mixer", O_RDWR);
    if (mixer < 0) return fail("/dev/mixer");
    int full = 100 | 100 << 8;
    if (ioctl(mixer, SOUND_MIXER_WRITE_IGAIN, &full) < 0) return fail("SOUND_MIXER_WRITE_IGAIN");
    close(mixer);
    int dsp = open("/dev/dsp", O_RDONLY);
    if (dsp < 0) return fail("/dev/dsp");
    int format = AFMT_S16_LE, channels = 2, speed = rate;
    if (ioctl(dsp, SNDCTL_DSP_SETFMT, &format) < 0 || format != AFMT_S16_LE) return fail("SNDCTL_DSP_SETFMT");
    if (ioctl(dsp, SNDCTL_DSP_CHANNELS, &channels) < 0 || channels != 2) return fail("SNDCTL_DSP_CHANNELS");
    if (ioctl(dsp, SNDCTL_DSP_SPEED, &speed) < 0) return fail("SNDCTL_DSP_SPEED");
    long frames = (long)(seconds * speed);
    short *samples = malloc((size_t)frames * 4);
    if (!samples) return fail("malloc");
    long done = 0;
    while (done < frames) {
        ssize_t got = read(dsp, samples + 2 * done, (size_t)(frames - done) * 4);
        if (got <= 0) return fail("read /dev/dsp");
        done += got / 4;
    }
    close(dsp);
    long crossings = 0, first = -1, last = -1, peak = 0;
    for (long i = frames / 2 + 1; i < frames; i++) {
        long value = samples[2 * i];
        if (value > peak) peak = value;
        if (-value > peak) peak = -value;
        if (samples[2 * (i - 1)] < 0 && value >= 0) {
            if (first < 0) first = i;
            last = i;
            crossings++;
        }
    }
    double pitch = crossings > 1 ? (double)(crossings - 1) * speed / (double)(last - first) : 0;
    printf("recorded %ld frames at %d Hz: %.0f Hz, peak %ld\n", frames, speed, pitch, peak);
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

static void opl_write(int reg, int value) {
    outb(reg, 0x388);
    for (int i = 0; i < 6; i++) inb(0x388);  /* the chip wants a few microseconds */
    outb(value, 0x389);
    for (int i = 0; i < 35; i++) inb(0x388);
}

static int fm(int fnum, int block, int milliseconds) {
    if (ioperm(0x388, 4, 1) < 0) return fail("ioperm");
    static const int setup[][2] = {
        {0x20, 0x21}, {0x23, 0x21},  /* sustained, multiple 1 */
        {0x40, 0x3F}, {0x43, 0x00},  /* modulator silent, carrier loudest */
        {0x60, 0xF0}, {0x63, 0xF0},  /* fastest attack, no decay */
        {0x80, 0x00}, {0x83, 0x0F},  /* sustain at full level, fastest release */
        {0xC0, 0x30},                /* FM, both outputs */
    };
    for (unsigned i = 0; i < sizeof setup / sizeof setup[0]; i++) opl_write(setup[i][0], setup[i][1]);
    opl_write(0xA0, fnum & 0xFF);
    opl_write(0xB0, 0x20 | block << 2 | fnum >> 8);
    struct timespec wait = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };
    nanosleep(&wait, NULL);
    opl_write(0xB0, block << 2 | fnum >> 8);
    printf("fm note %ld mHz\n", round_to_long(fnum * 49716000.0 / (double)(1 << (20 - block))));
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 6 || (argc == 7 && strcmp(argv[6], "u8") == 0)) && strcmp(argv[1], "tone") == 0)
        return tone(atof(argv[2]), atof(argv[3]), atoi(argv[4]), atoi(argv[5]), argc == 7);
    if (argc == 4 && strcmp(argv[1], "record") == 0)
        return record(atof(argv[2]), atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "beep") == 0)
        return beep(atof(argv[2]), atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "fm") == 0)
        return fm(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: sound-test tone FREQ SECONDS RATE PERCENT [u8] | record SECONDS RATE | beep FREQ MILLISECONDS | fm FNUM BLOCK MILLISECONDS\n");
    return 2;
}
