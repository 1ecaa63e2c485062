// The struct layouts and ioctl numbers the FFI backends write by hand (adapters/ffi/layout.ts), held
// against the C ABI of the machine the test runs on: koffi lays the same structs out by that platform's
// rules, and glibc's termios calls fill a real pseudo-terminal. scripts/arm64/run.sh runs this file on
// aarch64 (qemu-user), the usual run on x86_64: a layout that only held on one of them fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arch } from 'node:process';
import * as L from '../../adapters/ffi/layout.ts';
import { GPIO_IOCTL } from '../../adapters/gpio/cdev.ts';
import { loadLibc, O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../adapters/ffi/libc.ts';
import { FfiSerialPort, SPEEDS } from '../../adapters/serial/ffi-serial.ts';
import { eventually } from '../helpers/eventually.ts';
import { isDeno } from '../helpers/spawn.ts';

test('GPIO ioctl numbers built from the struct sizes equal those of <linux/gpio.h>', () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(GPIO_IOCTL).map(([k, v]) => [k, v.toString(16)])),
    { GET_CHIPINFO: '8044b401', V2_GET_LINE: 'c250b407', V2_LINE_SET_CONFIG: 'c110b40d', V2_LINE_GET_VALUES: 'c010b40e', V2_LINE_SET_VALUES: 'c010b40f' },
  );
});

interface KoffiTypes {
  struct(name: string, def: Record<string, string | object>): object;
  union(name: string, def: Record<string, string | object>): object;
  array(type: string | object, n: number): object;
  sizeof(type: string | object): number;
  offsetof(type: string | object, member: string): number;
}

// koffi is Node-API; on Deno the FFI is Deno.dlopen, which has no struct layout of its own to ask.
const koffiSkip = isDeno ? 'koffi (Node-API) lays out the structs; on Deno the same numbers are used' : false;

test(`the structs laid out by this platform's C ABI (${arch}) match adapters/ffi/layout.ts`, { skip: koffiSkip }, async () => {
  const mod = (await import('koffi')) as { default?: KoffiTypes } & KoffiTypes;
  const k = mod.default ?? mod;
  // Field names and types as in the kernel's uapi headers and glibc's bits/termios-struct.h.
  const pollfd = k.struct('fg_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  const canFrame = k.struct('fg_can_frame', { can_id: 'uint32_t', len: 'uint8_t', pad: 'uint8_t', res0: 'uint8_t', len8_dlc: 'uint8_t', data: k.array('uint8_t', 8) });
  const canAddr = k.union('fg_can_addr', {
    tp: k.struct('fg_can_tp', { rx_id: 'uint32_t', tx_id: 'uint32_t' }),
    j1939: k.struct('fg_can_j1939', { name: 'uint64_t', pgn: 'uint32_t', addr: 'uint8_t' }),
  });
  const sockaddrCan = k.struct('fg_sockaddr_can', { can_family: 'unsigned short', can_ifindex: 'int', can_addr: canAddr });
  const ifmap = k.struct('fg_ifmap', { mem_start: 'unsigned long', mem_end: 'unsigned long', base_addr: 'unsigned short', irq: 'unsigned char', dma: 'unsigned char', port: 'unsigned char' });
  const ifru = k.union('fg_ifru', { ifru_ifindex: 'int', ifru_map: ifmap, ifru_slave: k.array('char', 16), ifru_data: 'void *' });
  const ifreq = k.struct('fg_ifreq', { ifr_name: k.array('char', 16), ifr_ifru: ifru });
  const termios = k.struct('fg_termios', {
    c_iflag: 'unsigned int', c_oflag: 'unsigned int', c_cflag: 'unsigned int', c_lflag: 'unsigned int',
    c_line: 'unsigned char', c_cc: k.array('unsigned char', 32), c_ispeed: 'unsigned int', c_ospeed: 'unsigned int',
  });
  const chipInfo = k.struct('fg_gpiochip_info', { name: k.array('char', 32), label: k.array('char', 32), lines: 'uint32_t' });
  const attribute = k.struct('fg_gpio_v2_line_attribute', { id: 'uint32_t', padding: 'uint32_t', value: 'uint64_t' });
  const cfgAttr = k.struct('fg_gpio_v2_line_config_attribute', { attr: attribute, mask: 'uint64_t' });
  const lineConfig = k.struct('fg_gpio_v2_line_config', { flags: 'uint64_t', num_attrs: 'uint32_t', padding: k.array('uint32_t', 5), attrs: k.array(cfgAttr, 10) });
  const lineRequest = k.struct('fg_gpio_v2_line_request', {
    offsets: k.array('uint32_t', 64), consumer: k.array('char', 32), config: lineConfig,
    num_lines: 'uint32_t', event_buffer_size: 'uint32_t', padding: k.array('uint32_t', 5), fd: 'int32_t',
  });
  const lineValues = k.struct('fg_gpio_v2_line_values', { bits: 'uint64_t', mask: 'uint64_t' });
  const lineEvent = k.struct('fg_gpio_v2_line_event', {
    timestamp_ns: 'uint64_t', id: 'uint32_t', offset: 'uint32_t', seqno: 'uint32_t', line_seqno: 'uint32_t', padding: k.array('uint32_t', 6),
  });

  const lay = (t: object, fields: Record<string, string>): Record<string, number> => ({
    size: k.sizeof(t),
    ...Object.fromEntries(Object.entries(fields).map(([ours, c]) => [ours, k.offsetof(t, c)])),
  });
  const expect = (name: string, actual: Record<string, number>, ours: Record<string, number>) => {
    const mine = Object.fromEntries(Object.keys(actual).map((f) => [f, ours[f]]));
    assert.deepEqual(mine, actual, `${name} on ${arch}`);
  };
  expect('struct pollfd', lay(pollfd, { fd: 'fd', events: 'events', revents: 'revents' }), L.POLLFD);
  expect('struct can_frame', lay(canFrame, { canId: 'can_id', len: 'len', data: 'data' }), L.CAN_FRAME);
  expect('struct sockaddr_can', lay(sockaddrCan, { family: 'can_family', ifindex: 'can_ifindex' }), L.SOCKADDR_CAN);
  // The buffer we hand to SIOCGIFINDEX must hold the kernel's struct ifreq of this ABI (or more).
  const ifr = lay(ifreq, { name: 'ifr_name', ifindex: 'ifr_ifru' });
  assert.ok(L.IFREQ.size >= ifr.size, `struct ifreq is ${ifr.size} bytes on ${arch}; the buffer has ${L.IFREQ.size}`);
  expect('struct ifreq', { name: ifr.name, ifindex: ifr.ifindex }, L.IFREQ);
  const t = lay(termios, { cflag: 'c_cflag' });
  expect('struct termios (glibc)', t, L.TERMIOS);
  assert.ok(L.TERMIOS.buffer >= t.size);
  expect('struct gpiochip_info', lay(chipInfo, { name: 'name', label: 'label', lines: 'lines' }), L.GPIOCHIP_INFO);
  const a = lay(cfgAttr, { mask: 'mask' });
  expect('struct gpio_v2_line_config_attribute', { ...a, id: k.offsetof(attribute, 'id'), value: k.offsetof(attribute, 'value') }, L.GPIO_V2_LINE_CONFIG_ATTRIBUTE);
  expect('struct gpio_v2_line_config', lay(lineConfig, { flags: 'flags', numAttrs: 'num_attrs', attrs: 'attrs' }), L.GPIO_V2_LINE_CONFIG);
  expect(
    'struct gpio_v2_line_request',
    lay(lineRequest, { offsets: 'offsets', consumer: 'consumer', config: 'config', numLines: 'num_lines', eventBufferSize: 'event_buffer_size', fd: 'fd' }),
    L.GPIO_V2_LINE_REQUEST,
  );
  expect('struct gpio_v2_line_values', lay(lineValues, { bits: 'bits', mask: 'mask' }), L.GPIO_V2_LINE_VALUES);
  expect(
    'struct gpio_v2_line_event',
    lay(lineEvent, { timestampNs: 'timestamp_ns', id: 'id', offset: 'offset', seqno: 'seqno', lineSeqno: 'line_seqno' }),
    L.GPIO_V2_LINE_EVENT,
  );
});

// <asm-generic/ioctls.h>: TIOCGPTN = _IOR('T', 0x30, unsigned int), TIOCSPTLCK = _IOW('T', 0x31, int).
const TIOCGPTN = L.ioc('read', 0x54, 0x30, 4);
const TIOCSPTLCK = L.ioc('write', 0x54, 0x31, 4);
const CBAUD = 0o10017;
const CSIZE = 0o60;
const CS8 = 0o60;
const CSTOPB = 0o100;

test('a serial port over FFI sets glibc termios on a pseudo-terminal and moves bytes both ways', async () => {
  const libc = await loadLibc();
  const master = libc.open('/dev/ptmx', O_RDWR | O_NONBLOCK | O_CLOEXEC);
  assert.ok(master >= 0, `open /dev/ptmx: ${libc.strerror(libc.errno())}`);
  const port = await (async () => {
    try {
      const int = new Uint8Array(4);
      assert.equal(libc.ioctl(master, TIOCSPTLCK, int), 0, `unlockpt: ${libc.strerror(libc.errno())}`);
      assert.equal(libc.ioctl(master, TIOCGPTN, int), 0, `ptsname: ${libc.strerror(libc.errno())}`);
      const path = `/dev/pts/${new DataView(int.buffer).getUint32(0, true)}`;
      return await FfiSerialPort.open(path, { baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 2 });
    } catch (err) {
      libc.close(master);
      throw err;
    }
  })();
  try {
    // glibc's struct termios ends within 60 bytes: tcgetattr leaves the buffer's tail alone.
    const attrs = new Uint8Array(L.TERMIOS.buffer).fill(0xa5);
    assert.equal(libc.tcgetattr(port.fd, attrs), 0);
    assert.deepEqual([...attrs.subarray(L.TERMIOS.size)], new Array(L.TERMIOS.buffer - L.TERMIOS.size).fill(0xa5));
    const cflag = new DataView(attrs.buffer).getUint32(L.TERMIOS.cflag, true);
    assert.equal(cflag & CBAUD, SPEEDS[19200], `c_cflag 0o${cflag.toString(8)}: speed B19200`);
    assert.equal(cflag & CSIZE, CS8);
    // The pty driver forces CS8 and no parity whatever is asked (parity is checked on a real UART in
    // test/kernel/modbus-rtu-8250.test.ts); the speed and stop bits it keeps.
    assert.equal(cflag & CSTOPB, CSTOPB, 'two stop bits');

    const got: number[] = [];
    port.on('data', (chunk) => got.push(...chunk));
    assert.equal(libc.write(master, Uint8Array.of(0x01, 0x03, 0xff), 3), 3);
    await eventually('3 bytes at the port', 5000, () => got.length >= 3);
    assert.deepEqual(got, [0x01, 0x03, 0xff], 'raw mode: no byte translated');

    port.write(Uint8Array.of(0x0a, 0x0d, 0x00));
    const buf = new Uint8Array(16);
    const seen = await eventually('3 bytes at the master', 5000, () => {
      const n = libc.read(master, buf, buf.length);
      return n > 0 ? [...buf.subarray(0, n)] : undefined;
    });
    assert.deepEqual(seen, [0x0a, 0x0d, 0x00]);
  } finally {
    await port.close();
    libc.close(master);
  }
});
