#!/bin/sh
# PID 1 of the kernel test guest: loads the modules, creates vcan0 and a gpio-sim chip, mounts the
# host read-only over 9p, runs the job script named on the kernel command line in a chroot of the
# host, prints its exit code on the console (run.sh reads it) and powers off.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
log() { echo "guest: $*"; }
for m in $(cat /lib/modules/load-order); do
  # i2c-stub needs the address of the chip it plays (an EEPROM-like device at 0x50).
  args=""; [ "$m" = i2c-stub.ko ] && args="chip_addr=0x50"
  insmod "/lib/modules/$m" $args 2>/dev/null || log "insmod $m failed"
done
mount -t configfs configfs /sys/kernel/config
ip link set lo up
ip link add dev vcan0 type vcan && ip link set vcan0 up || log "vcan0 could not be created"

# Two simulated chips so the line under test is never on the first chip nor at base 0: the adapter
# must find it by label, as on kernel 6.6+ where bases are dynamic (512, 571, ...).
sim=/sys/kernel/config/gpio-sim
make_chip() { # name label lines
  mkdir "$sim/$1" "$sim/$1/bank0" && echo "$3" >"$sim/$1/bank0/num_lines" && echo "$2" >"$sim/$1/bank0/label" &&
    echo 1 >"$sim/$1/live" || log "gpio-sim chip $1 could not be created"
}
make_chip decoy fieldgate-decoy 8
make_chip fieldgate fieldgate-sim 16

job=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in fieldgate.job=*) job="${arg#fieldgate.job=}" ;; esac
done
rc=99
if [ -z "$job" ]; then
  log "self-test only (no fieldgate.job= on the command line)"
  ls /dev/gpiochip* && cat /sys/class/gpio/gpiochip*/label && ip link show vcan0 && head -n4 /proc/tty/driver/serial && rc=0
elif mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro host /host; then
  # cache=loose is safe on a read-only mount and makes node's many small reads over 9p cheap.
  # rbind: /sys/kernel/config (gpio-sim) and /dev/pts come along.
  for d in proc sys dev; do mount -o rbind "/$d" "/host/$d"; done
  # The guest's /tmp is its own tmpfs, but a checkout may live under the host's /tmp: keep the host's
  # /tmp reachable at /tmp/.host (read-only) so the job can bind the checkout back to its own path.
  mkdir -p /mnt/host-tmp && mount -o bind /host/tmp /mnt/host-tmp
  mount -t tmpfs -o mode=1777 tmpfs /host/tmp
  mkdir -p /host/tmp/.host && mount -o move /mnt/host-tmp /host/tmp/.host
  # A writable cache kept between runs on the host (run.sh's "cache" share): tsx's transpile cache
  # (/tmp/tsx-0), so the second run does not transpile every module again under TCG.
  mkdir -p /host/tmp/cache
  if mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 cache /host/tmp/cache 2>/dev/null; then
    mkdir -p /host/tmp/cache/tsx-0 && ln -s cache/tsx-0 /host/tmp/tsx-0
  fi
  chroot /host /bin/sh "$job"
  rc=$?
else
  log "could not mount the host over 9p"
fi
echo "FIELDGATE-KERNEL-EXIT=$rc"
sync
poweroff -f
