// The libc binding behind the FFI hardware backends, on this machine: koffi on Node, Deno.dlopen on
// Deno, buffers passed both ways, errno turned into a named error; and the backends' choice and their
// errors where the hardware is absent (the real kernel tests are in test/kernel/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENOENT, errnoError, loadLibc, O_RDWR } from '../../adapters/ffi/libc.ts';
import { openSocketCan } from '../../adapters/can/backend.ts';
import { openGpioLine } from '../../adapters/gpio/backend.ts';
import { gpioOptions } from '../../adapters/gpio/adapter.ts';
import { isDeno } from '../helpers/spawn.ts';

test('libc loads through the runtime\'s FFI and moves bytes through caller buffers', async () => {
  const libc = await loadLibc();
  assert.match(libc.backend, isDeno ? /^deno-ffi$/ : /^koffi \d+\.\d+/);
  const fd = libc.open('/dev/zero', O_RDWR);
  assert.ok(fd >= 0, libc.strerror(libc.errno()));
  const buf = new Uint8Array(32).fill(7);
  assert.equal(libc.read(fd, buf, 16), 16);
  assert.deepEqual([...buf.subarray(0, 17)], [...new Array(16).fill(0), 7], 'read fills exactly the bytes asked for');
  assert.equal(libc.write(fd, buf, 32), 32);
  // One poll(2) on struct pollfd: /dev/zero is always readable.
  const pfd = new Uint8Array(8);
  const v = new DataView(pfd.buffer);
  v.setInt32(0, fd, true);
  v.setInt16(4, 1, true);
  assert.equal(libc.poll(pfd, 1, 0), 1);
  assert.equal(v.getInt16(6, true) & 1, 1);
  assert.equal(libc.close(fd), 0);
  assert.equal(libc.open('/nonexistent/fieldgate', O_RDWR), -1);
  const err = errnoError(libc, 'open /nonexistent/fieldgate');
  assert.equal(err.errno, ENOENT);
  assert.equal(err.message, 'open /nonexistent/fieldgate: No such file or directory (ENOENT)');
});

test('without the hardware, the FFI backends say what is missing, naming the interface or chip', async () => {
  // A CI machine may lack AF_CAN altogether, or have it without this interface.
  await assert.rejects(openSocketCan('fgnosuch0', 'auto'), /can fgnosuch0: (socket\(PF_CAN\) failed; is the can-raw module loaded|no such interface; bring it up)/);
  await assert.rejects(openSocketCan('fg bad', 'ffi'), /can: "fg bad" is not an interface name/);
  await assert.rejects(
    openGpioLine(gpioOptions({ chip: 'fieldgate-nosuch', line: 1 })),
    /gpio: no gpiochip "fieldgate-nosuch" in \/dev; chips found: .*Set the adapter's "chip" to one of these labels/,
  );
});
