// V8 flags for a gateway on a small board, used by the generated systemd unit (and bench/footprint.ts).
// --max-semi-space-size=1: a 1 MB young generation instead of up to 16 MB per semi-space; a gateway
// allocates little per request, so scavenges stay cheap, and the start peak drops by 13-26 MB.
// --liftoff-only: sql.js's WebAssembly (SQLite) stays on V8's baseline compiler; without it the
// optimizing tier compiles it again on worker threads whose malloc arenas keep ~10 MB afterwards. The
// store's throughput did not change measurably (its time goes to the JavaScript around sql.js).
// Figures: bench/RESULTS.md, "Footprint". Deno takes the same list as --v8-flags=a,b.
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--liftoff-only'];
