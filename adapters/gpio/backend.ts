// Chooses how a real GPIO line is opened: the character-device driver where libc FFI loads (koffi on
// Node, Deno.dlopen on Deno), else onoff's sysfs addon. `fieldgate doctor` asks the same question.
import type { GpioAdapterOptions, GpioLine } from './types.ts';

export async function openGpioLine(options: GpioAdapterOptions): Promise<GpioLine> {
  const backend = options.backend ?? 'auto';
  if (backend === 'onoff') return (await import('./real.ts')).openOnoffLine(options);
  const ffiError = await (await import('../ffi/libc.ts')).libcLoadError();
  if (ffiError === undefined) return (await import('./cdev.ts')).openCdevLine(options);
  if (backend === 'cdev') throw new Error(`gpio ${options.chip} line ${options.line}: backend "cdev": ${ffiError.message}`, { cause: ffiError });
  try {
    return await (await import('./real.ts')).openOnoffLine(options);
  } catch (err) {
    throw new Error(`${(err as Error).message} (the cdev backend did not load either: ${ffiError.message})`, { cause: err });
  }
}
