// Chooses how a SocketCAN interface is opened: the raw-socket FFI driver where libc FFI loads (koffi on
// Node, Deno.dlopen on Deno), else the `socketcan` addon. `fieldgate doctor` asks the same question.
import type { CanChannel } from './types.ts';

export type CanBackend = 'auto' | 'ffi' | 'socketcan';

export async function openSocketCan(iface: string, backend: CanBackend): Promise<CanChannel> {
  if (backend === 'socketcan') {
    const { SocketCanChannel } = await import('./socketcan.ts');
    return SocketCanChannel.open(iface);
  }
  const ffiError = await (await import('../ffi/libc.ts')).libcLoadError();
  if (ffiError === undefined) {
    const { RawCanChannel } = await import('./raw-socket.ts');
    return RawCanChannel.open(iface);
  }
  if (backend === 'ffi') throw new Error(`can ${iface}: backend "ffi": ${ffiError.message}`, { cause: ffiError });
  const { SocketCanChannel } = await import('./socketcan.ts');
  try {
    return await SocketCanChannel.open(iface);
  } catch (err) {
    throw new Error(`${(err as Error).message} (the FFI backend did not load either: ${ffiError.message})`, { cause: err });
  }
}
