// Byte layouts of the kernel and glibc structs the FFI backends fill by hand, in one place so that
// test/unit/ffi-layout.test.ts can hold them against the C ABI of the machine it runs on (x86_64 in the
// usual run, aarch64 under qemu-user in scripts/arm64/run.sh). Linux targets are little-endian.

/** struct pollfd */
export const POLLFD = { size: 8, fd: 0, events: 4, revents: 6 } as const;

/** struct can_frame (classic CAN) */
export const CAN_FRAME = { size: 16, canId: 0, len: 4, data: 8 } as const;

/** struct sockaddr_can: its union holds a __u64 (j1939 name), so 24 bytes on every Linux ABI. */
export const SOCKADDR_CAN = { size: 24, family: 0, ifindex: 4 } as const;

/** struct ifreq: 40 bytes on LP64 (its struct ifmap holds unsigned longs), 32 on armv7; 40 fits both. */
export const IFREQ = { size: 40, name: 0, ifindex: 16 } as const;

/** glibc's struct termios (not the kernel's): 60 bytes where NCCS is 32; `buffer` leaves headroom. */
export const TERMIOS = { size: 60, buffer: 64, cflag: 8 } as const;

/** struct gpiochip_info */
export const GPIOCHIP_INFO = { size: 68, name: 0, label: 32, lines: 64 } as const;

/** struct gpio_v2_line_attribute inside gpio_v2_line_config_attribute (then the __u64 mask). */
export const GPIO_V2_LINE_CONFIG_ATTRIBUTE = { size: 24, id: 0, value: 8, mask: 16 } as const;

/** struct gpio_v2_line_config */
export const GPIO_V2_LINE_CONFIG = { size: 272, flags: 0, numAttrs: 8, attrs: 32 } as const;

/** struct gpio_v2_line_request */
export const GPIO_V2_LINE_REQUEST = { size: 592, offsets: 0, consumer: 256, config: 288, numLines: 560, eventBufferSize: 564, fd: 588 } as const;

/** struct gpio_v2_line_values */
export const GPIO_V2_LINE_VALUES = { size: 16, bits: 0, mask: 8 } as const;

/** struct gpio_v2_line_event */
export const GPIO_V2_LINE_EVENT = { size: 48, timestampNs: 0, id: 8, offset: 12, seqno: 16, lineSeqno: 20 } as const;

/**
 * An ioctl request number as <asm-generic/ioctl.h> builds it (x86_64, arm64 and armv7 all use the generic
 * encoding; mips, powerpc, sparc and alpha do not): dir << 30 | size << 16 | type << 8 | nr.
 */
export function ioc(dir: 'none' | 'read' | 'write' | 'readwrite', type: number, nr: number, size: number): number {
  const bits = { none: 0, write: 1, read: 2, readwrite: 3 }[dir];
  return ((bits << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
