#!/bin/busybox sh
# The benchmark guest's init: runs each workload between markers the host
# timestamps, then powers off. Phases must print nothing but their result.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
exec >/dev/ttyS0 2>&1

phase() {
    name=$1
    shift
    echo "@@ begin $name"
    "$@"
    echo "@@ end $name"
}

fork_exec() {
    i=0
    while [ $i -lt 300 ]; do
        /bin/exit-at-once
        i=$((i + 1))
    done
}

shell_loop() {
    i=0
    total=0
    while [ $i -lt 30000 ]; do
        total=$(((total + i * 7) % 100003))
        i=$((i + 1))
    done
    echo "shell total $total"
}

echo "@@ ready"
phase integer /bin/integer-workload 2
phase x87 /bin/x87-workload 1
dd if=/dev/zero of=/tmp/data bs=1M count=32 2>/dev/null
phase sha256 sha256sum /tmp/data
rm /tmp/data
phase fork-exec fork_exec
phase shell-loop shell_loop
echo "@@ done"
poweroff -f
