#!/usr/bin/env bash
# Installs fieldgate as a systemd service on Raspberry Pi OS / Armbian / Debian (arm64 first; armv7
# runs Node only). Idempotent: every step checks before it changes anything; --dry-run changes nothing.
#
#   sudo deploy/install.sh --manifest manifests/plc-remote-lab.json [--spi] [--can] [--dry-run]
#
# See docs/deploy.md for what each step does and why.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy/install.sh --manifest FILE [options]

  --manifest FILE   the manifest to run (copied to /etc/fieldgate/<name>.json unless it exists there)
  --user NAME       service user (default fieldgate)
  --spi             enable SPI (Raspberry Pi: dtparam=spi=on; Armbian: spi-spidev overlay)
  --can             MCP2515 CAN overlay on SPI0 and can0 at 500000 bit/s through systemd-networkd
  --can-oscillator HZ  MCP2515 crystal (default 16000000; many cheap boards use 8000000)
  --can-interrupt N    MCP2515 INT GPIO (default 25)
  --no-start        install and enable, but do not start the service
  --dry-run         print what would be done, change nothing
  --root DIR        install under DIR instead of / (tests, image building)
  -h, --help        this text
EOF
}

ROOT="" DRY=0 MANIFEST="" SVC_USER=fieldgate SPI=0 CAN=0 START=1
CAN_OSC=16000000 CAN_INT=25
while [ $# -gt 0 ]; do
  case "$1" in
    --manifest) MANIFEST="${2:?--manifest needs a file}"; shift 2 ;;
    --user) SVC_USER="${2:?--user needs a name}"; shift 2 ;;
    --spi) SPI=1; shift ;;
    --can) CAN=1; SPI=1; shift ;;
    --can-oscillator) CAN_OSC="${2:?}"; shift 2 ;;
    --can-interrupt) CAN_INT="${2:?}"; shift 2 ;;
    --no-start) START=0; shift ;;
    --dry-run) DRY=1; shift ;;
    --root) ROOT="${2:?--root needs a directory}"; ROOT="${ROOT%/}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$MANIFEST" ] || { echo "install.sh: --manifest FILE is required" >&2; usage >&2; exit 2; }
[ -f "$MANIFEST" ] || { echo "install.sh: $MANIFEST: no such file" >&2; exit 2; }

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/opt/fieldgate"
ETC="$ROOT/etc/fieldgate"
NAME="$(sed -n 's/^[[:space:]]*"name"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$MANIFEST" | head -n1)"
[ -n "$NAME" ] || { echo "install.sh: cannot read \"name\" from $MANIFEST" >&2; exit 2; }
UNIT="fieldgate-$NAME.service"
NATIVE_ADDONS="spi-device onoff @serialport/bindings-cpp"
REBOOT=0

say() { printf '\n== %s\n' "$*"; }
# Runs a command, or prints it under --dry-run.
run() {
  if [ "$DRY" = 1 ]; then printf '  would run: %s\n' "$*"; else printf '  + %s\n' "$*"; "$@"; fi
}
# Writes stdin to a file only when the content differs (idempotent, no needless SD-card writes).
put() {
  local file="$1" mode="$2" tmp
  tmp="$(mktemp)"; cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then echo "  unchanged: $file"; rm -f "$tmp"; return 0; fi
  if [ "$DRY" = 1 ]; then echo "  would write: $file"; sed -n '1,40s/^/    | /p' "$tmp"; rm -f "$tmp"; return 0; fi
  mkdir -p "$(dirname "$file")"; install -m "$mode" "$tmp" "$file"; rm -f "$tmp"; echo "  wrote: $file"
}
# Appends a line to a boot config file unless it is already there.
ensure_line() {
  local file="$1" line="$2"
  if [ -f "$file" ] && grep -qxF "$line" "$file"; then echo "  present in $file: $line"; return 0; fi
  REBOOT=1
  if [ "$DRY" = 1 ]; then echo "  would append to $file: $line"; return 0; fi
  mkdir -p "$(dirname "$file")"; printf '%s\n' "$line" >>"$file"; echo "  appended to $file: $line"
}
as_root_check() {
  if [ "$DRY" = 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (sudo), or use --dry-run" >&2; exit 1; fi
}

as_root_check
say "platform"
ARCH="$(uname -m)"
case "$ARCH" in
  aarch64|arm64|x86_64) echo "  $ARCH: supported (Node and Deno)" ;;
  armv7l|armv6l) echo "  $ARCH: Node only (Deno has no 32-bit ARM build); build dist/ on another machine if npm ci fails on dev dependencies" ;;
  *) echo "  $ARCH: untested" ;;
esac

say "Node >= 20"
NODE="$(command -v node || true)"
NODE_MAJOR=0
[ -n "$NODE" ] && NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$NODE_MAJOR" -lt 20 ]; then
  cat >&2 <<EOF
  Node >= 20 is required (found: ${NODE:-none} ${NODE_MAJOR}). Debian 12's own nodejs is 18; install Node 22 LTS from NodeSource:
    curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash -
    sudo apt-get install -y nodejs
  (Debian 13 "trixie" and Raspberry Pi OS based on it ship Node 20: sudo apt-get install -y nodejs npm)
EOF
  [ "$DRY" = 1 ] || exit 1
  NODE=/usr/bin/node
else
  echo "  $NODE $("$NODE" --version)"
fi
if ! command -v g++ >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  echo "  the native addons ($NATIVE_ADDONS) compile with node-gyp:"
  run apt-get install -y build-essential python3
fi

say "user $SVC_USER and groups gpio, spi, dialout"
for g in gpio spi dialout; do
  if getent group "$g" >/dev/null; then echo "  group $g exists"; else run groupadd --system "$g"; fi
done
if id "$SVC_USER" >/dev/null 2>&1; then echo "  user $SVC_USER exists"; else
  run useradd --system --user-group --home-dir /var/lib/fieldgate --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
fi
run usermod -aG gpio,spi,dialout "$SVC_USER"

say "build (plain JavaScript in dist/, no tsx at run time)"
if [ -f "$SRC/dist/bin/fieldgate.js" ] && [ "$SRC/dist/bin/fieldgate.js" -nt "$SRC/core/cli/main.ts" ]; then
  echo "  $SRC/dist is up to date"
else
  [ -d "$SRC/node_modules/tsc7" ] || [ -d "$SRC/node_modules/typescript" ] || run npm --prefix "$SRC" ci
  run npm --prefix "$SRC" run build
fi

say "install into $DEST"
if command -v rsync >/dev/null 2>&1; then
  run mkdir -p "$DEST"
  run rsync -a --delete --exclude node_modules --exclude /data --exclude .git --exclude /test --exclude /bench "$SRC/" "$DEST/"
else
  run mkdir -p "$DEST"
  run cp -a "$SRC/package.json" "$SRC/package-lock.json" "$SRC/dist" "$SRC/manifests" "$SRC/deploy" "$SRC/docs" "$DEST/"
fi
# Production dependencies only; the build is already in dist/.
run npm --prefix "$DEST" ci --omit=dev --no-audit --no-fund
# npm >= 11 skips dependency install scripts unless approved, so the native addons would stay
# unbuilt: approve them in the installed copy's package.json, then build them.
if npm install-scripts --help >/dev/null 2>&1; then
  if [ "$DRY" = 1 ]; then echo "  would run (in $DEST): npm install-scripts approve $NATIVE_ADDONS"
  else (cd "$DEST" && run npm install-scripts approve $NATIVE_ADDONS); fi
fi
run npm --prefix "$DEST" rebuild $NATIVE_ADDONS

say "hardware backends (no compiler needed)"
echo "  gpio: /dev/gpiochip* v2 uAPI and can: raw AF_CAN socket, both through libc with koffi's prebuilt binary"
echo "  for $(uname -m) (Deno uses Deno.dlopen); onoff and socketcan stay available as the adapters' \"backend\" alternatives"
if [ "$DRY" = 1 ]; then
  echo "  would check: (cd $DEST && $NODE -e \"require('koffi')\"); fieldgate doctor then names each adapter's backend"
elif (cd "$DEST" && "$NODE" -e "require('koffi')" >/dev/null 2>&1); then
  echo "  koffi loads: gpio and can adapters use the FFI backends"
else
  echo "  WARNING: koffi does not load in $DEST; gpio and can adapters fall back to onoff / socketcan (fieldgate doctor says why)"
fi

say "configuration in $ETC"
run mkdir -p "$ETC"
if [ -f "$ETC/$NAME.json" ]; then echo "  keeping $ETC/$NAME.json"; else put "$ETC/$NAME.json" 0644 <"$MANIFEST"; fi
if [ -f "$ETC/$NAME.env" ]; then echo "  keeping $ETC/$NAME.env (secrets)"; else
  put "$ETC/$NAME.env" 0640 <<EOF
# Endpoints and secrets for fieldgate-$NAME (EnvironmentFile of the unit; mode 0640 root:$SVC_USER).
# API_KEY=change-me
# API_HOST=0.0.0.0
# API_PORT=8080
# SPI_DEVICE=/dev/spidev0.0
# ESP32_URL=http://192.168.4.1
# ESP32_API_KEY=
# PLC_HOST=192.168.250.1
# PLC_PORT=1502
EOF
  [ "$DRY" = 1 ] || chgrp "$SVC_USER" "$ETC/$NAME.env" 2>/dev/null || true
fi

say "udev rules (spidev, gpiochip, sysfs gpio, ttyUSB, can)"
put "$ROOT/etc/udev/rules.d/99-fieldgate.rules" 0644 <"$SRC/deploy/99-fieldgate.rules"
if [ -z "$ROOT" ]; then run udevadm control --reload; run udevadm trigger; fi

if [ "$SPI" = 1 ]; then
  say "SPI"
  if [ -f "$ROOT/boot/firmware/config.txt" ] || [ -f "$ROOT/boot/config.txt" ]; then
    CFG="$ROOT/boot/firmware/config.txt"; [ -f "$CFG" ] || CFG="$ROOT/boot/config.txt"
    ensure_line "$CFG" "dtparam=spi=on"
  elif [ -f "$ROOT/boot/armbianEnv.txt" ]; then
    echo "  Armbian: add spi-spidev to the overlays= line of /boot/armbianEnv.txt and param_spidev_spi_bus=0"
    echo "  (armbian-config > System > Hardware does it); the overlay name differs per SoC, so this is not automated"
    ensure_line "$ROOT/boot/armbianEnv.txt" "param_spidev_spi_bus=0"
  else
    echo "  no /boot/firmware/config.txt or /boot/armbianEnv.txt: enable SPI with your board's overlay tool"
  fi
fi

if [ "$CAN" = 1 ]; then
  say "CAN: MCP2515 on SPI0 CE0, can0 at 500000 bit/s"
  if [ -f "$ROOT/boot/firmware/config.txt" ] || [ -f "$ROOT/boot/config.txt" ]; then
    CFG="$ROOT/boot/firmware/config.txt"; [ -f "$CFG" ] || CFG="$ROOT/boot/config.txt"
    ensure_line "$CFG" "dtoverlay=mcp2515-can0,oscillator=$CAN_OSC,interrupt=$CAN_INT"
  else
    echo "  not a Raspberry Pi boot partition: load an MCP2515 overlay for your board (see docs/deploy.md)"
  fi
  put "$ROOT/etc/systemd/network/80-can.network" 0644 <"$SRC/deploy/80-can.network"
  run systemctl enable systemd-networkd
fi

say "SD-card friendly journald (capped, batched writes)"
put "$ROOT/etc/systemd/journald.conf.d/fieldgate.conf" 0644 <<'EOF'
# fieldgate: keep the journal small and write it in batches (SD cards wear with every sync).
[Journal]
SystemMaxUse=64M
SyncIntervalSec=5m
EOF

say "systemd unit $UNIT"
if [ -f "$SRC/dist/bin/fieldgate.js" ]; then
  UNIT_TEXT="$(mktemp)"
  "$NODE" "$SRC/dist/bin/fieldgate.js" systemd "$MANIFEST" --user "$SVC_USER" --node "$NODE" \
    --entry /opt/fieldgate/dist/bin/fieldgate.js --write "$UNIT_TEXT" >/dev/null
  # The unit runs the copy in /etc/fieldgate (literal replacement: paths may hold regex characters).
  TEXT="$(cat "$UNIT_TEXT")"
  TEXT="${TEXT//" run $(realpath "$MANIFEST") "/" run /etc/fieldgate/$NAME.json "}"
  printf '%s\n' "$TEXT" | put "$ROOT/etc/systemd/system/$UNIT" 0644
  rm -f "$UNIT_TEXT"
else
  echo "  would write $ROOT/etc/systemd/system/$UNIT with: fieldgate systemd /etc/fieldgate/$NAME.json --user $SVC_USER (after the build)"
fi
if [ -z "$ROOT" ]; then
  run systemctl daemon-reload
  if [ "$START" = 1 ] && [ "$REBOOT" = 0 ]; then run systemctl enable --now "$UNIT"; else run systemctl enable "$UNIT"; fi
fi

say "doctor (as the service user)"
if [ "$DRY" = 1 ] || [ -n "$ROOT" ]; then
  echo "  would run: $NODE /opt/fieldgate/dist/bin/fieldgate.js doctor /etc/fieldgate/$NAME.json"
else
  "$NODE" "$DEST/dist/bin/fieldgate.js" doctor "$ETC/$NAME.json" --data-dir "/var/lib/fieldgate/$NAME" || true
fi

if [ "$REBOOT" = 1 ]; then say "boot configuration changed: reboot to load the overlays, then: systemctl start $UNIT"; fi
if [ "$DRY" = 1 ]; then say "done (dry run: nothing changed)"; else say "done"; fi
echo "  logs:   journalctl -u $UNIT -f -o cat"
echo "  status: systemctl status $UNIT"
