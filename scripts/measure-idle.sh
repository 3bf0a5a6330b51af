#!/usr/bin/env bash
# Host CPU use (% of one core) of pcemu and of qemu-system-i386 -accel tcg
# while a guest sits idle at its shell prompt, one after the other, with
# pcemu's SDL window (and QEMU's own) on a private Xvfb; measured over
# SECONDS (default 60) as the run time the kernel counts for all their
# threads. GUEST is
#   default: the default guest booted with -kernel, its console on tty0,
#            measured from 15 s after the kernel starts init;
#   disk:    scripts/build-disk-image.sh's disk booted through SeaBIOS
#            (whose MADT and HPET table put Linux on the local APIC timer
#            and the I/O APIC), measured from 10 s after its prompt.
# With SOUND=sb16 both also have an SB16 played through a private PulseAudio
# server's null sink (a desktop's sound card, silent while idle).
# usage: scripts/measure-idle.sh [seconds] [default|disk]   (needs a release build)
#        PCEMU=path/to/pcemu SOUND=sb16 scripts/measure-idle.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
which=${2:-default}
pcemu=${PCEMU:-$top/.build/release/pcemu}
guest=${GUEST_CACHE:-$top/guest-cache}
case "$which" in
default)
    "$top/scripts/build-default-guest.sh" >/dev/null
    boot=(-kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 console=tty0")
    ready='Run /init'
    settle=15
    ;;
disk)
    DISK_IMAGE_DIR="$guest/disk" "$top/scripts/build-disk-image.sh" >/dev/null
    boot=(-hda "$guest/disk/disk.img" -snapshot)
    ready='pcemu-disk:/root# '
    settle=10
    ;;
*) echo "usage: $0 [seconds] [default|disk]" >&2; exit 1 ;;
esac

source "$top/scripts/private-xvfb.sh"

sound=()
if [ "${SOUND:-}" = sb16 ]; then
    pulse_dir=$(mktemp -d)
    HOME=$pulse_dir XDG_RUNTIME_DIR=$pulse_dir pulseaudio --daemonize=no --exit-idle-time=-1 -n --use-pid-file=no \
        --system=no --load="module-null-sink sink_name=idle" \
        --load="module-native-protocol-unix socket=$pulse_dir/socket auth-anonymous=1" >/dev/null 2>&1 &
    pulse_pid=$!
    trap 'kill $xvfb_pid $pulse_pid 2>/dev/null || true; rm -rf "$pulse_dir"' EXIT
    sound=(-device sb16,audiodev=a0 -audiodev "pa,id=a0,server=unix:$pulse_dir/socket")
    sleep 1
fi

# Nanoseconds all of a process's threads have run.
runtime() { cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f", sum }'; }

# Prints the idle CPU use of one emulator command line.
measure() {
    local log pid before after
    log=$(mktemp)
    DISPLAY="$xvfb_display" "$@" -m 256 "${boot[@]}" ${sound[@]+"${sound[@]}"} -serial stdio < <(exec sleep 900 2>/dev/null) > "$log" 2>&1 &
    pid=$!
    while ! grep -q "$ready" "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "failed"; rm -f "$log"; return; fi
        sleep 0.2
    done
    sleep "$settle"
    before=$(runtime "$pid")
    sleep "$seconds"
    after=$(runtime "$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
    awk -v ns=$((after - before)) -v s="$seconds" 'BEGIN { printf "%.2f\n", ns / 1e9 / s * 100 }'
}

ours=$(SDL_VIDEODRIVER=x11 measure "$pcemu")
theirs=$(measure qemu-system-i386 -accel tcg)
echo "idle at the $which guest's prompt${SOUND:+ with $SOUND}, % of one core over $seconds s: pcemu $ours, qemu-system-i386 -accel tcg $theirs"
