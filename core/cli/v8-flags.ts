// V8 flags for a gateway on a small board, used by the generated systemd unit (and bench/footprint.ts).
// --max-semi-space-size=1: a 1 MB young generation instead of up to 16 MB per semi-space; a gateway
// allocates little per request, so scavenges stay cheap, and RSS drops by 15-25 MB (bench/RESULTS.md).
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
