// The few libc calls the FFI hardware backends need (socket, ioctl, read, poll...), bound once: with
// Deno.dlopen on Deno and with koffi (prebuilt Node-API binaries) on Node. No compiler on the device.
// Calls take Uint8Array buffers for every pointer and return the C result; `errno()` explains a -1.
import { isDeno } from '../../core/runtime-info.ts';

export interface Libc {
  /** `deno-ffi` or `koffi x.y.z`, for doctor and log lines. */
  readonly backend: string;
  open(path: string, flags: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  /** ioctl with a pointer argument (the only form these drivers use). */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  /** poll(2) on an array of struct pollfd (8 bytes each). */
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  /** termios: `attrs` is a struct termios buffer (60 bytes on glibc; pass 64). */
  tcgetattr(fd: number, attrs: Uint8Array): number;
  tcsetattr(fd: number, when: number, attrs: Uint8Array): number;
  cfmakeraw(attrs: Uint8Array): void;
  cfsetspeed(attrs: Uint8Array, speed: number): number;
  /** errno of the last failed call. */
  errno(): number;
  strerror(errno: number): string;
}

// Linux errno values the drivers react to (identical on x86_64, arm64 and armv7).
export const EAGAIN = 11;
export const EINTR = 4;
export const ENODEV = 19;
export const ENETDOWN = 100;
export const EBUSY = 16;
export const EACCES = 13;
export const ENOENT = 2;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

const LIBC = 'libc.so.6';
let loaded: Promise<Libc> | undefined;

/** The process-wide libc binding; rejects with the reason when no FFI is available here. */
/** Why libc FFI does not load here (the backends' fallback reason), or undefined when it does. */
export async function libcLoadError(): Promise<Error | undefined> {
  try {
    await loadLibc();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export function loadLibc(): Promise<Libc> {
  loaded ??= (isDeno ? loadDeno() : loadKoffi()).catch((err) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}

/** An Error carrying errno and the C function that failed: `gpio: ioctl GPIO_V2_GET_LINE: Device or resource busy (EBUSY)`. */
export function errnoError(libc: Libc, what: string, errno = libc.errno()): Error & { errno: number; code: string } {
  const err = new Error(`${what}: ${libc.strerror(errno)} (${errnoName(errno)})`) as Error & { errno: number; code: string };
  err.errno = errno;
  err.code = errnoName(errno);
  return err;
}

const NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 9: 'EBADF', 11: 'EAGAIN', 13: 'EACCES', 16: 'EBUSY', 19: 'ENODEV', 22: 'EINVAL', 25: 'ENOTTY', 97: 'EAFNOSUPPORT', 100: 'ENETDOWN', 105: 'ENOBUFS' };
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

interface DenoFfi {
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointerView: { new (p: unknown): { getInt32(offset?: number): number }; getCString(p: unknown): string };
}

async function loadDeno(): Promise<Libc> {
  const D = (globalThis as unknown as { Deno: DenoFfi }).Deno;
  let lib;
  try {
    lib = D.dlopen(LIBC, {
      open: { parameters: ['buffer', 'i32'], result: 'i32' },
      close: { parameters: ['i32'], result: 'i32' },
      read: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
      write: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
      // ioctl is variadic in C; a pointer third argument is passed the same way on x86_64, arm64 and armv7.
      ioctl: { parameters: ['i32', 'usize', 'buffer'], result: 'i32' },
      socket: { parameters: ['i32', 'i32', 'i32'], result: 'i32' },
      bind: { parameters: ['i32', 'buffer', 'u32'], result: 'i32' },
      setsockopt: { parameters: ['i32', 'i32', 'i32', 'buffer', 'u32'], result: 'i32' },
      poll: { parameters: ['buffer', 'usize', 'i32'], result: 'i32' },
      tcgetattr: { parameters: ['i32', 'buffer'], result: 'i32' },
      tcsetattr: { parameters: ['i32', 'i32', 'buffer'], result: 'i32' },
      cfmakeraw: { parameters: ['buffer'], result: 'void' },
      cfsetspeed: { parameters: ['buffer', 'u32'], result: 'i32' },
      __errno_location: { parameters: [], result: 'pointer' },
      strerror: { parameters: ['i32'], result: 'pointer' },
    });
  } catch (err) {
    throw new Error(`cannot open ${LIBC} with Deno.dlopen (${(err as Error).message}); run deno with --allow-ffi (or -A)`, { cause: err });
  }
  const s = lib.symbols;
  const num = (v: unknown) => Number(v as number | bigint);
  const cstr = (text: string) => new TextEncoder().encode(text + '\0');
  return {
    backend: 'deno-ffi',
    open: (path, flags) => s.open(cstr(path), flags) as number,
    close: (fd) => s.close(fd) as number,
    read: (fd, buf, len) => num(s.read(fd, buf, len)),
    write: (fd, buf, len) => num(s.write(fd, buf, len)),
    ioctl: (fd, req, arg) => s.ioctl(fd, req, arg) as number,
    socket: (d, t, p) => s.socket(d, t, p) as number,
    bind: (fd, addr, len) => s.bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => s.setsockopt(fd, level, name, value, len) as number,
    poll: (fds, n, timeout) => s.poll(fds, n, timeout) as number,
    tcgetattr: (fd, attrs) => s.tcgetattr(fd, attrs) as number,
    tcsetattr: (fd, when, attrs) => s.tcsetattr(fd, when, attrs) as number,
    cfmakeraw: (attrs) => void s.cfmakeraw(attrs),
    cfsetspeed: (attrs, speed) => s.cfsetspeed(attrs, speed) as number,
    errno: () => new D.UnsafePointerView(s.__errno_location()).getInt32(0),
    strerror: (e) => D.UnsafePointerView.getCString(s.strerror(e)),
  };
}

interface KoffiModule {
  version: string;
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
}

async function loadKoffi(): Promise<Libc> {
  // A variable specifier keeps bundlers from resolving it where the drivers are never chosen.
  const specifier = 'koffi';
  let koffi: KoffiModule;
  try {
    const mod = (await import(specifier)) as { default?: KoffiModule } & KoffiModule;
    koffi = mod.default ?? mod;
  } catch (err) {
    throw new Error(
      `the FFI package "koffi" could not be loaded (${(err as Error).message.split('\n')[0]}); reinstall with "npm ci" (its prebuilt binary for ${process.platform}-${process.arch} comes as an optional package)`,
      { cause: err },
    );
  }
  const lib = koffi.load(LIBC);
  const f = (sig: string) => lib.func(sig);
  const open = f('int open(const char *path, int flags)');
  const close = f('int close(int fd)');
  const read = f('intptr_t read(int fd, _Out_ uint8_t *buf, size_t len)');
  const write = f('intptr_t write(int fd, const uint8_t *buf, size_t len)');
  const ioctl = f('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)');
  const socket = f('int socket(int domain, int type, int protocol)');
  const bind = f('int bind(int fd, const uint8_t *addr, uint32_t len)');
  const setsockopt = f('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)');
  const poll = f('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
  const strerror = f('const char *strerror(int errnum)');
  const tcgetattr = f('int tcgetattr(int fd, _Out_ uint8_t *attrs)');
  const tcsetattr = f('int tcsetattr(int fd, int when, const uint8_t *attrs)');
  const cfmakeraw = f('void cfmakeraw(_Inout_ uint8_t *attrs)');
  const cfsetspeed = f('int cfsetspeed(_Inout_ uint8_t *attrs, uint32_t speed)');
  const num = (v: unknown) => Number(v as number | bigint);
  return {
    backend: `koffi ${koffi.version}`,
    open: (path, flags) => open(path, flags) as number,
    close: (fd) => close(fd) as number,
    read: (fd, buf, len) => num(read(fd, buf, len)),
    write: (fd, buf, len) => num(write(fd, buf, len)),
    ioctl: (fd, req, arg) => ioctl(fd, req, arg) as number,
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    poll: (fds, n, timeout) => poll(fds, n, timeout) as number,
    tcgetattr: (fd, attrs) => tcgetattr(fd, attrs) as number,
    tcsetattr: (fd, when, attrs) => tcsetattr(fd, when, attrs) as number,
    cfmakeraw: (attrs) => void cfmakeraw(attrs),
    cfsetspeed: (attrs, speed) => cfsetspeed(attrs, speed) as number,
    errno: () => koffi.errno(),
    strerror: (e) => String(strerror(e)),
  };
}
