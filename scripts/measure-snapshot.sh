#!/usr/bin/env bash
# Snapshot figures of the desktop guest (512 MiB, idle at X), pcemu against
# qemu-system-i386 -accel tcg with the same image and devices, in one run:
# - savevm: seconds from the monitor command until its prompt returns;
# - loadvm: seconds until the guest runs again (the prompt returns running);
# - the VM state's size as `qemu-img snapshot -l` lists it.
# Each emulator writes into its own qcow2 overlay on the desktop image.
# usage: scripts/measure-snapshot.sh   (needs a release build; builds the image if missing)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/build-desktop-image.sh" >/dev/null
image=${DESKTOP_IMAGE_DIR:-$top/guest-cache/desktop}/desktop.img
work=$(mktemp -d)
source "$top/scripts/private-xvfb.sh"
trap 'kill $xvfb_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# Sends one line to the monitor at $1 and prints the seconds until the next prompt.
monitor_time() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(600)
buf = b''
while not buf.endswith(b'(qemu) '): buf += s.recv(65536)
start = time.time()
s.sendall(sys.argv[2].encode() + b'\n'); buf = b''
while not buf.endswith(b'(qemu) '):
    chunk = s.recv(65536)
    if not chunk: break  # quit ends the connection instead of prompting
    buf += chunk
elapsed = time.time() - start
if b'rror' in buf: sys.exit('monitor: ' + buf.decode(errors='replace'))
print(f'{elapsed:.2f}')
PY
}

# Prints "savevm-seconds loadvm-seconds vm-state-size" for one emulator command line.
measure() {
    local name=$1 log overlay socket pid save load size
    shift
    log="$work/$name.log" overlay="$work/$name.qcow2" socket="$work/$name.sock"
    qemu-img create -q -f qcow2 -b "$image" -F raw "$overlay"
    "$@" -m 512 -hda "$overlay" -serial stdio -device sb16,audiodev=a0 -audiodev none,id=a0 \
        -monitor "unix:$socket,server,nowait" < <(exec sleep 900 2>/dev/null) > "$log" 2>&1 &
    pid=$!
    while ! grep -q 'pcemu-desktop: X ready' "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "failed failed failed"; return; fi
        sleep 0.1
    done
    sleep 20
    save=$(monitor_time "$socket" "savevm idle")
    sleep 5
    load=$(monitor_time "$socket" "loadvm idle")
    sleep 2
    kill -0 "$pid" || { echo "failed failed failed"; return; }
    monitor_time "$socket" "quit" >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    size=$(qemu-img snapshot -l "$overlay" | awk '$2 == "idle" {print $3 $4}')
    echo "$save $load $size"
}

read -r ours_save ours_load ours_size < <(DISPLAY="$xvfb_display" SDL_VIDEODRIVER=x11 measure pcemu "$top/.build/release/pcemu")
read -r their_save their_load their_size < <(measure qemu qemu-system-i386 -accel tcg -display none)
printf '%-24s %10s %10s %8s\n' figure pcemu qemu ratio
printf '%-24s %10.2f %10.2f %8.2f\n' "savevm seconds" "$ours_save" "$their_save" "$(echo "$ours_save / $their_save" | bc -l)"
printf '%-24s %10.2f %10.2f %8.2f\n' "loadvm seconds" "$ours_load" "$their_load" "$(echo "$ours_load / $their_load" | bc -l)"
printf '%-24s %10s %10s\n' "VM state size" "$ours_size" "$their_size"
