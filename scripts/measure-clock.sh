#!/usr/bin/env bash
# Guest clock drift under load: the default guest keeps one CPU busy (a shell
# loop) while the host compares the guest's /proc/uptime, which follows the
# kernel's clocksource (the TSC), with its own monotonic clock over SECONDS
# (default 60). Each reading is the fastest of five round trips over the
# serial console, taken at the midpoint of its round trip. pcemu, then
# qemu-system-i386 -accel tcg, same kernel, initrd and command line.
# usage: scripts/measure-clock.sh [seconds]   (needs a release build and python3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
guest=${GUEST_CACHE:-$top/guest-cache}
seconds=${1:-60}
"$top/scripts/build-default-guest.sh" >/dev/null

drift() {
    python3 - "$seconds" "$@" -m 256 -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
        -append "console=ttyS0 quiet" -nographic <<'EOF'
import os, re, select, subprocess, sys, time
seconds = float(sys.argv[1])
guest = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
output = b""

def read_until(pattern, limit):
    global output
    deadline = time.monotonic() + limit
    while True:
        found = re.search(pattern, output)
        if found:
            output = output[found.end():]
            return found
        left = deadline - time.monotonic()
        if left <= 0: sys.exit(f"timed out waiting for {pattern!r}")
        ready, _, _ = select.select([guest.stdout], [], [], left)
        if ready:
            chunk = os.read(guest.stdout.fileno(), 65536)
            if not chunk: sys.exit("the emulator ended")
            output += chunk

def send(line):
    guest.stdin.write(line.encode() + b"\n")
    guest.stdin.flush()

def reading():
    """(host seconds, guest seconds) from the quickest of five round trips."""
    best = None
    for _ in range(5):
        sent = time.monotonic()
        send("cat /proc/uptime")
        found = read_until(rb"\n(\d+\.\d+) \d+\.\d+", 30)
        received = time.monotonic()
        if best is None or received - sent < best[0]:
            best = (received - sent, (sent + received) / 2, float(found.group(1)))
        read_until(rb"# ", 30)
    return best[1], best[2]

read_until(rb"pcemu:/[a-z]*# ", 300)
send("(while :; do :; done) &")
read_until(rb"# ", 30)
time.sleep(2)
host0, guest0 = reading()
time.sleep(seconds)
host1, guest1 = reading()
send("poweroff -f")
try:
    guest.wait(timeout=30)
except subprocess.TimeoutExpired:
    guest.kill()
print(f"{(guest1 - guest0) / (host1 - host0) * 100 - 100:+.4f} {host1 - host0:.2f} {guest1 - guest0:.2f}")
EOF
}

read -r ours ours_host ours_guest < <(drift "$top/.build/release/pcemu")
read -r theirs theirs_host theirs_guest < <(drift qemu-system-i386 -accel tcg)
echo "guest clock against the host's over ${seconds} s with one guest CPU busy"
printf '%-8s %12s %12s %10s\n' "" "host s" "guest s" "drift %"
printf '%-8s %12s %12s %10s\n' pcemu "$ours_host" "$ours_guest" "$ours"
printf '%-8s %12s %12s %10s\n' qemu "$theirs_host" "$theirs_guest" "$theirs"
