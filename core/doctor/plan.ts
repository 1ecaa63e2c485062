// Which checks a manifest needs: one set per adapter kind on real hardware, plus the TCP endpoints
// plugins talk to (Odoo, Redis, PostgreSQL URLs), the data dir and the clock.
import type { AdapterEntry, Manifest } from '../manifest/types.ts';
import { checkCanBackend, checkGpio, checkModbusBackend } from './backends.ts';
import { checkCan, checkDeviceNode, checkNativeModule, checkReadable, checkTcp, urlEndpoint } from './checks.ts';
import type { CheckResult, DoctorContext } from './types.ts';

type Check = () => Promise<CheckResult | CheckResult[]>;

const SPI_FIX =
  'enable SPI: Raspberry Pi: add `dtparam=spi=on` (or `dtoverlay=spi0-1cs`) to /boot/firmware/config.txt; ' +
  'Orange Pi (Armbian): add `overlays=spi-spidev` and `param_spidev_spi_bus=0` to /boot/armbianEnv.txt (armbian-config > System > Hardware); then reboot';
const SERIAL_FIX = 'plug the USB-RS485 adapter in (dmesg | tail); use a stable name from /dev/serial/by-id/; for the Pi UART enable it with `enable_uart=1`';

/** The checks for one adapter on real hardware. Unknown kinds get TCP checks for any url/host+port option. */
export function adapterChecks(ctx: DoctorContext, entry: AdapterEntry): Check[] {
  const o = entry.options;
  const label = (what: string) => `${what} ${entry.id}`;
  switch (entry.kind) {
    case 'spi':
      return [
        () => checkDeviceNode(ctx, { check: label('spi'), path: String(o.device ?? '/dev/spidev0.0'), missingFix: SPI_FIX }),
        () => checkNativeModule(ctx, label('addon'), 'spi-device'),
      ];
    case 'gpio':
      return [() => checkGpio(ctx, entry.id, o)];
    case 'modbus':
      if (o.transport === 'rtu') {
        return [
          () => checkDeviceNode(ctx, { check: label('serial'), path: String(o.path), missingFix: SERIAL_FIX }),
          () => checkModbusBackend(ctx, entry.id, o),
        ];
      }
      return [() => checkTcp(ctx, label('modbus'), String(o.host), Number(o.port ?? 502), `the Modbus TCP server (PLC) at ${String(o.host)}`)];
    case 'http': {
      const ep = urlEndpoint(String(o.baseUrl));
      if (!ep) return [async () => ({ check: label('http'), target: String(o.baseUrl), status: 'FAIL', detail: 'not a URL', fix: 'set baseUrl to http://host[:port]' })];
      return [() => checkTcp(ctx, label('http'), ep.host, ep.port, `the device at ${String(o.baseUrl)}`)];
    }
    case 'value':
      return typeof o.path === 'string' ? [() => checkReadable(ctx, label('value'), String(o.path))] : [];
    case 'can':
      return [
        () => checkCanBackend(ctx, entry.id, o),
        () => checkCan(ctx, label('can'), String(o.interface ?? o.channel ?? 'can0'), typeof o.bitrate === 'number' ? o.bitrate : undefined),
      ];
    default:
      return endpointChecks(ctx, label(entry.kind), o);
  }
}

/** TCP checks for URL-valued options (`url`, `baseUrl`, `connectionString`) and `host` + `port` pairs. */
export function endpointChecks(ctx: DoctorContext, check: string, options: Record<string, unknown>): Check[] {
  const checks: Check[] = [];
  for (const key of ['url', 'baseUrl', 'connectionString']) {
    const ep = typeof options[key] === 'string' ? urlEndpoint(options[key] as string) : null;
    if (ep) checks.push(() => checkTcp(ctx, check, ep.host, ep.port, `${check} (${key})`));
  }
  if (typeof options.host === 'string' && options.host && Number(options.port) > 0) {
    checks.push(() => checkTcp(ctx, check, String(options.host), Number(options.port), check));
  }
  return checks;
}

/** Plugins that talk to servers themselves (Odoo, Redis, PostgreSQL): their URL options. A plugin's
 * `host`/`port` is where it listens (http-api), so only URLs count here. */
export function pluginChecks(ctx: DoctorContext, manifest: Manifest): Check[] {
  return manifest.plugins
    .filter((p) => p.enabled)
    .flatMap((p) => endpointChecks(ctx, `${p.use} ${p.id}`, { url: p.config.url, baseUrl: p.config.baseUrl, connectionString: p.config.connectionString }));
}
