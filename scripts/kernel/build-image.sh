#!/usr/bin/env bash
# Builds (or reuses from the cache) what the kernel test guest boots: the Debian kernel as an
# uncompressed vmlinux, the out-of-tree gpio-sim/gpio-mockup/irq_sim modules, and a busybox initramfs.
# Usage: scripts/kernel/build-image.sh   -> prints the image directory on its last line.
# Env: FIELDGATE_KERNEL_CACHE (default ~/.cache/fieldgate-kernel), FIELDGATE_KERNEL_VERSION (default:
# the installed linux-headers-*-amd64). Exit 77 = a prerequisite is missing (message on stderr).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${FIELDGATE_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fieldgate-kernel}"

missing() { echo "kernel image: $*" >&2; exit 77; }

ver="${FIELDGATE_KERNEL_VERSION:-}"
if [ -z "$ver" ]; then
  # The newest installed Debian amd64 headers name the kernel we build modules for.
  ver="$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -n1 || true)"
fi
[ -n "$ver" ] || missing "no /usr/src/linux-headers-<version>-amd64; apt-get install linux-headers-\$(apt-cache depends linux-image-amd64 | sed -n 's/.*linux-image-//p')"
[ -d "/usr/src/linux-headers-$ver" ] || missing "linux-headers-$ver is not installed"
for tool in busybox cpio gzip xz gcc make dpkg-deb; do
  command -v "$tool" >/dev/null || missing "'$tool' not found (packages: busybox-static cpio gcc make)"
done
busybox_bin="$(command -v busybox)"
# A dynamically linked busybox cannot run in an initramfs without a libc.
if file -L "$busybox_bin" 2>/dev/null | grep -q 'dynamically linked'; then missing "$busybox_bin is dynamically linked; install busybox-static"; fi

out="$cache/$ver"
# Two cache levels: the kernel and modules (30 s, keyed by this script's build steps and the
# irq_sim patch) and the initramfs (1 s, keyed also by init.sh), so editing init.sh is cheap.
hash() { cat "$@" | sha256sum | cut -c1-16; }
kernel_stamp="$out/.kernel-$(hash "$here/irq_sim.patch.sh" <(sed -n '/^# 1\./,/^# 4\./p' "$here/build-image.sh"))"
image_stamp="$out/.image-$(hash "$here/build-image.sh" "$here/init.sh" "$here/irq_sim.patch.sh")"
if [ -f "$image_stamp" ] && [ -f "$out/vmlinux" ] && [ -f "$out/initramfs.cpio.gz" ]; then
  echo "$out"
  exit 0
fi
started=$(date +%s)
mkdir -p "$out/debs"
rm -f "$out"/.image-*
src_ver="${ver%%.*}.$(echo "$ver" | cut -d. -f2)" # 6.1.0-57-amd64 -> 6.1
image_deb="$(ls "$out"/debs/linux-image-"$ver"_*.deb 2>/dev/null | head -n1 || true)"
source_deb="$(ls "$out"/debs/linux-source-"$src_ver"_*.deb 2>/dev/null | head -n1 || true)"
work="$out/work"
rm -rf "$work"
mkdir -p "$work"

if [ ! -f "$kernel_stamp" ]; then
# 1. The kernel image and the kernel source (downloaded, never installed).
if [ -z "$image_deb" ] || [ -z "$source_deb" ]; then
  echo "kernel image: apt-get download linux-image-$ver linux-source-$src_ver" >&2
  # A fresh container may have no package lists yet: update once (as root) and retry.
  (cd "$out/debs" && apt-get download "linux-image-$ver" "linux-source-$src_ver" >&2) ||
    { [ "$(id -u)" = 0 ] && apt-get update -qq >&2 && (cd "$out/debs" && apt-get download "linux-image-$ver" "linux-source-$src_ver" >&2); } ||
    missing "apt-get download linux-image-$ver linux-source-$src_ver failed (no Debian mirror?)"
  image_deb="$(ls "$out"/debs/linux-image-"$ver"_*.deb | head -n1)"
  source_deb="$(ls "$out"/debs/linux-source-"$src_ver"_*.deb | head -n1)"
fi
mkdir -p "$work/image" "$work/srcdeb" "$work/src" "$work/mod"
dpkg-deb -x "$image_deb" "$work/image"
dpkg-deb -x "$source_deb" "$work/srcdeb"
tarball="$(ls "$work"/srcdeb/usr/src/linux-source-"$src_ver".tar.* | head -n1)"
# Only the files the modules and vmlinux extraction need (the tarball is 140 MB of xz).
tar -xf "$tarball" -C "$work/src" --strip-components=1 --wildcards \
  "linux-source-$src_ver/drivers/gpio/gpio-sim.c" "linux-source-$src_ver/drivers/gpio/gpio-mockup.c" \
  "linux-source-$src_ver/drivers/gpio/*.h" "linux-source-$src_ver/kernel/irq/irq_sim.c" \
  "linux-source-$src_ver/scripts/extract-vmlinux"
rm -rf "$work/srcdeb"

# 2. Uncompressed vmlinux: TCG skips the decompressor (about 3 s per boot).
sh "$work/src/scripts/extract-vmlinux" "$work/image/boot/vmlinuz-$ver" >"$out/vmlinux.tmp"
mv "$out/vmlinux.tmp" "$out/vmlinux"

# 3. gpio-sim, gpio-mockup and irq_sim out of tree (Debian does not build them).
cp "$work/src/drivers/gpio/"*.h "$work/src/drivers/gpio/gpio-sim.c" "$work/src/drivers/gpio/gpio-mockup.c" "$work/mod/"
cp "$work/src/kernel/irq/irq_sim.c" "$work/mod/"
sh "$here/irq_sim.patch.sh" "$work/mod/irq_sim.c"
printf 'obj-m := irq_sim.o gpio-sim.o gpio-mockup.o\n' >"$work/mod/Kbuild"
make -s -C "/lib/modules/$ver/build" M="$work/mod" modules >"$work/mod/build.log" 2>&1 ||
  { cat "$work/mod/build.log" >&2; echo "kernel image: building gpio-sim/irq_sim failed" >&2; exit 1; }

# The modules the guest loads: ours plus the Debian ones with their dependencies, in load order.
rm -rf "$out/modules"
mkdir -p "$out/modules"
cp "$work/mod/irq_sim.ko" "$work/mod/gpio-sim.ko" "$work/mod/gpio-mockup.ko" "$out/modules/"
declare -A path_of=()
while IFS= read -r ko; do
  name="$(basename "$ko" .ko)"
  path_of["${name//-/_}"]="$ko"
done < <(find "$work/image/lib/modules/$ver/kernel" -name '*.ko')
order=()
declare -A seen=()
add_module() { # depth-first: dependencies first
  local name="${1//-/_}" ko deps dep
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  ko="${path_of[$name]:-}"
  [ -n "$ko" ] || { echo "kernel image: module $1 not found in linux-image-$ver (built in?)" >&2; return 0; }
  deps="$(grep -a -o 'depends=[a-z0-9_,-]*' "$ko" | head -n1 | cut -d= -f2 | tr ',' ' ')"
  for dep in $deps; do add_module "$dep"; done
  cp "$ko" "$out/modules/"
  order+=("$(basename "$ko")")
}
for m in virtio_pci 9pnet_virtio 9p configfs can can_raw vcan i2c_dev i2c_stub; do add_module "$m"; done
# irq_sim before gpio-sim; configfs (above) before gpio-sim.
printf '%s\n' "${order[@]}" irq_sim.ko gpio-sim.ko >"$out/modules/load-order"
rm -f "$out"/.kernel-*
touch "$kernel_stamp"
fi

# 4. The initramfs: busybox, the modules (with their dependencies, in load order), /init.
root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,host,lib/modules,etc}
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp "$out"/modules/* "$root/lib/modules/"
install -m 0755 "$here/init.sh" "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
rm -rf "$work"
touch "$image_stamp"
echo "kernel image: built $out in $(( $(date +%s) - started )) s" >&2
echo "$out"
