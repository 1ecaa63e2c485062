// The most specific network error code fetch buried in its causes (ECONNREFUSED, ...), for HTTP
// device and ERP clients alike. Node puts it in `cause.code`; Deno only in the message text.

export function networkCode(err: unknown): string {
  let deepest = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e instanceof Error) deepest = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  if (/connection refused/i.test(deepest)) return 'ECONNREFUSED';
  if (/connection reset|connection closed|socket hang up|other side closed/i.test(deepest)) return 'ECONNRESET';
  if (/timed out/i.test(deepest)) return 'ETIMEDOUT';
  if (/no route to host/i.test(deepest)) return 'EHOSTUNREACH';
  if (/dns error|failed to lookup|name or service not known/i.test(deepest)) return 'ENOTFOUND';
  return deepest;
}
