#!/usr/bin/env bash
# The kernel test stage: boots the Debian kernel under QEMU (TCG) with vcan0 and gpio-sim, mounts this
# machine read-only over 9p and runs test/kernel/*.test.ts with this machine's node and deno in it.
# Usage: scripts/kernel/run.sh [--self-test] [test files...]   (exit code = the guest's tests)
# Env: FIELDGATE_KERNEL_RUNTIMES ("node deno"), FIELDGATE_KERNEL_TIMEOUT (seconds, 900),
# FIELDGATE_KERNEL_REQUIRED=1 turns a skip into a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
started=$(date +%s.%N)
elapsed() { awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
skip() {
  echo "::: kernel stage SKIPPED: $* ($(elapsed) s)"
  [ "${FIELDGATE_KERNEL_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
}

self_test=0
if [ "${1:-}" = --self-test ]; then self_test=1; shift; fi
[ "$(uname -m)" = x86_64 ] || skip "the guest is an x86_64 Debian kernel; this machine is $(uname -m)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

set +e
image="$("$here/build-image.sh" | tail -n1)"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 77 ] && skip "the guest image cannot be built (see the message above)"
[ "$status" = 0 ] || { echo "::: kernel stage FAILED: building the guest image (exit $status)"; exit 1; }
echo "::: kernel stage: image ready ($(elapsed) s)"

cmdline="console=ttyS0 quiet panic=-1 loglevel=3"
if [ "$self_test" = 0 ]; then
  files=("$@")
  if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(cd "$root" && ls test/kernel/*.test.ts)
  fi
  node_bin="$(command -v node)"
  job="$(mktemp "$image/job.XXXXXX")"
  trap 'rm -f "$job"' EXIT
  # The job runs in the guest, chrooted into this machine's root: same paths, same node and deno.
  {
    echo '#!/bin/sh'
    echo "export PATH='$(dirname "$node_bin"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'"
    # DENO_DIR stays on tmpfs: Deno's SQLite caches cannot lock files on 9p (and swc is fast anyway).
    echo 'export HOME=/tmp DENO_DIR=/tmp/deno NO_COLOR=1 CI=true FIELDGATE_KERNEL_GUEST=1'
    # A checkout under the host's /tmp is hidden by the guest's tmpfs; init.sh keeps it at /tmp/.host.
    case "$root" in /tmp/*) echo "mkdir -p '$root' && mount -o bind '/tmp/.host${root#/tmp}' '$root' || exit 97" ;; esac
    echo "cd '$root' || exit 98"
    echo "exec '$node_bin' scripts/test.mjs ${FIELDGATE_KERNEL_RUNTIMES:-node deno} $(printf "'%s' " "${files[@]}")"
  } >"$job"
  chmod 0644 "$job"
  cmdline="$cmdline fieldgate.job=$job"
fi

mkdir -p "$image/guest-cache"
log="$(mktemp)"
sock="$(mktemp -u /tmp/fieldgate-serial.XXXXXX)"
trap 'rm -f "$log" "$sock" ${job:+"$job"}' EXIT
# TCG, not KVM: the machine's nested KVM cannot run a stock Debian kernel (docs/hardware.md).
# ttyS1 and ttyS2 are two 8250 UARTs joined by one unix socket (QEMU is both ends): a null-modem pair.
set +e
timeout "${FIELDGATE_KERNEL_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m 1024 \
  -nographic -no-reboot -nodefaults -serial stdio -display none \
  -kernel "$image/vmlinux" -initrd "$image/initramfs.cpio.gz" -append "$cmdline" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$image/guest-cache",mount_tag=cache,security_model=none,multidevs=remap \
  -chardev socket,id=rtu1,path="$sock",server=on,wait=off -serial chardev:rtu1 \
  -chardev socket,id=rtu2,path="$sock",server=off -serial chardev:rtu2 \
  </dev/null 2>&1 | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e
rc="$(sed -n 's/^FIELDGATE-KERNEL-EXIT=\([0-9]*\).*/\1/p' "$log" | tail -n1)"
if [ -z "$rc" ]; then
  echo "::: kernel stage FAILED: the guest did not report an exit code (qemu exit $qemu_status$([ "$qemu_status" = 124 ] && echo ', timed out')) ($(elapsed) s)"
  exit 1
fi
echo "::: kernel stage $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(elapsed) s"
exit "$rc"
