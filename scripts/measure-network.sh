#!/usr/bin/env bash
# Guest download throughput over user-mode networking: the default guest
# loads the card's driver, takes a DHCP lease and fetches a file (32 MiB by
# default) from an HTTP server on the host's 127.0.0.1 (10.0.2.2 to the guest),
# on pcemu and on qemu-system-i386 -nic user,model=MODEL, same kernel, initrd
# and command line, one after the other in one run; prints both and the ratio.
# usage: scripts/measure-network.sh [MiB] [ne2k_pci|e1000]
#        (needs a release build, python3 and the default guest)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
guest=${GUEST_CACHE:-$top/guest-cache}
mebibytes=${1:-32}
model=${2:-ne2k_pci}
case "$model" in
    ne2k_pci) driver=ne2k-pci ;;
    e1000) driver=e1000 ;;
    *) echo "measure-network: unknown model $model (ne2k_pci or e1000)" >&2; exit 1 ;;
esac
"$top/scripts/build-default-guest.sh" >/dev/null

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
head -c "$((mebibytes << 20))" /dev/urandom > "$work/big"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server_pid=$!
sleep 1

# The shell's prompt names the directory: pcemu:/root# , pcemu:/tmp# .
prompts() { grep -oE 'pcemu:/[a-z]*# ' "$1" | wc -l; }

# Types a command and waits for the next prompt (up to $3 seconds).
type_and_wait() {
    local log=$1 command=$2 limit=${3:-120} before
    before=$(prompts "$log")
    printf '%s\n' "$command" >&3
    for _ in $(seq $((limit * 10))); do
        [ "$(prompts "$log")" -gt "$before" ] && return 0
        sleep 0.1
    done
    echo "timed out: $command" >&2
    return 1
}

# Prints the guest's wall-clock seconds for the download, as busybox time reports them.
download_seconds() {
    local log="$work/log" fifo="$work/input"
    rm -f "$log" "$fifo"
    mkfifo "$fifo"
    "$@" -m 256 -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 quiet" \
        -nographic -nic user,model="$model" < "$fifo" > "$log" 2>&1 &
    local pid=$!
    exec 3>"$fifo"
    for _ in $(seq 3000); do [ "$(prompts "$log")" -gt 0 ] && break; sleep 0.1; done
    type_and_wait "$log" "modprobe $driver"
    type_and_wait "$log" "cd /tmp; echo '#!/bin/sh' > d.sh"
    type_and_wait "$log" "echo '[ \"\$ip\" ] || exit 0' >> d.sh"
    type_and_wait "$log" "echo 'ifconfig \$interface \$ip' >> d.sh"
    type_and_wait "$log" "echo 'route add default gw \$router' >> d.sh"
    type_and_wait "$log" "chmod +x d.sh; ifconfig eth0 up"
    type_and_wait "$log" "udhcpc -i eth0 -s /tmp/d.sh -q -n"
    type_and_wait "$log" "time wget -q -O /dev/null http://10.0.2.2:$port/big" 900
    printf 'poweroff -f\n' >&3
    exec 3>&-
    wait "$pid" 2>/dev/null || true
    # busybox time: "real	0m 12.34s"
    tr -d '\r' < "$log" | awk '/^real/ { sub(/s$/, "", $3); split($2, m, "m"); print m[1] * 60 + $3 }' | tail -n 1
}

ours=$(download_seconds "$top/.build/release/pcemu")
theirs=$(download_seconds qemu-system-i386 -accel tcg)
echo "$mebibytes MiB over -nic user,model=$model"
printf '%-8s %10s %10s\n' "" seconds "MiB/s"
printf '%-8s %10.2f %10.2f\n' pcemu "$ours" "$(echo "$mebibytes / $ours" | bc -l)"
printf '%-8s %10.2f %10.2f\n' qemu "$theirs" "$(echo "$mebibytes / $theirs" | bc -l)"
printf 'pcemu is %.2fx as fast as QEMU\n' "$(echo "$theirs / $ours" | bc -l)"
