// Plugin `modbus-server`: the gateway as a Modbus slave. Serves holding/input registers, coils and
// discrete inputs of its units over Modbus TCP and/or RTU from memory, persists every write through
// the store's journal before answering, and offers the registers to other plugins as a RegisterSpace.
import { definePlugin } from '../../core/plugin.ts';
import { errorMessage } from '../../core/errors.ts';
import type { ServiceRegistry } from '../../core/services.ts';
import { Tokens } from '../../core/tokens.ts';
import { registerSpaceService } from '../../adapters/modbus/register-space.ts';
import { decodeRequest, handlePdu, ModbusServerException, responseException } from '../../adapters/modbus/server/pdu.ts';
import { type FrameHandler, ModbusTcpListener } from '../../adapters/modbus/server/tcp.ts';
import { ModbusRtuServer } from '../../adapters/modbus/server/rtu.ts';
import { checkConfig, configSchema, type ModbusServerConfig, withDefaults } from './config.ts';
import { PersistentRegisters } from './registers.ts';
import { type OpenSerial, openSerial } from './serial.ts';
import { clientGate } from './client-gate.ts';

export default definePlugin<ModbusServerConfig>({
  type: 'modbus-server',
  version: '0.1.0',
  description: 'Modbus TCP/RTU slave serving persistent registers (holding, input, coils, discrete inputs) of configurable units; offers them as the service modbus-server:<id>.',
  configSchema,
  validateConfig: checkConfig,
  create(ctx) {
    const { id, store, bus, health, metrics, scope, clock, log } = ctx;
    const config = withDefaults(ctx.config);
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`modbus-server "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);

    const registers = new PersistentRegisters({ id, config, store, bus, clock, log });
    const requests = metrics.counter('modbus_server_requests_total', 'Modbus requests received by modbus-server plugins (unit 0 = broadcast)', ['fc', 'unit']);
    const exceptions = metrics.counter('modbus_server_exceptions_total', 'Modbus exception responses sent by modbus-server plugins', ['code']);
    const rtuDropped = metrics.counter('modbus_server_rtu_frames_dropped_total', 'RTU frames dropped unanswered (CRC mismatch, noise, no frame boundary): a noisy or mis-wired RS-485 line');
    let tcp: ModbusTcpListener | null = null;
    let serial: OpenSerial | null = null;

    const counted = (answer: Uint8Array): Uint8Array => {
      const code = responseException(answer);
      if (code !== null) exceptions.inc({ code: String(code) });
      return answer;
    };

    /** Writes to unit 0 go to every unit and are never answered; anything else sent to 0 is ignored. */
    const broadcast = (pdu: Uint8Array): void => {
      let req;
      try {
        req = decodeRequest(pdu);
      } catch {
        return;
      }
      const w = req.write;
      if (!w || req.read) return;
      for (const unit of registers.units) {
        try {
          void registers.model(unit, 'broadcast').write(w.table, w.address, w.values);
        } catch (err) {
          if (!(err instanceof ModbusServerException)) throw err;
          log.debug(() => `broadcast ${w.table} ${w.address}+${w.values.length} is outside unit ${unit}'s table; skipped`);
        }
      }
    };

    const handle: FrameHandler = (unit, pdu) => {
      if (unit !== 0 && !registers.hasUnit(unit)) return null; // another slave on the bus
      registers.noteRequest();
      requests.inc({ fc: String(pdu[0] ?? 0), unit: String(unit) });
      if (unit === 0) {
        broadcast(pdu);
        return null;
      }
      const answer = handlePdu(pdu, registers.model(unit));
      return answer instanceof Uint8Array ? counted(answer) : answer.then(counted);
    };
    const onHandlerError = (err: unknown) => log.error(`request handling failed: ${errorMessage(err)}`);

    return {
      async start() {
        await registers.load();
        ctx.container.resolve<ServiceRegistry>(Tokens.Services).provide(id, registerSpaceService(id), registers);
        health.setCheck(`modbus-server:${id}`, () => {
          const { lastRequestAgeS, stale } = registers.traffic();
          const traffic = lastRequestAgeS === null ? 'no request from a master yet' : `${Math.round(lastRequestAgeS)} seconds since the last request`;
          const s = store.status();
          const disk = s.mode === 'memory' ? `; registers served from memory, the store's disk failed (${s.lastError ?? 'unknown error'}): writes are kept and reach the disk when it returns` : '';
          return { ok: !stale, detail: `${traffic} (stale after ${config.staleAfterS} s)${disk}` };
        }, id);
        if (config.tcp.enabled) {
          const gate = clientGate(config.tcp, { log, metrics });
          tcp = new ModbusTcpListener({
            host: config.tcp.host,
            port: config.tcp.port,
            handle,
            onHandlerError,
            allowClient: gate.allowClient,
            onRefused: gate.onRefused,
            onMalformed: (reason) => log.debug(() => `tcp: ${reason}`),
          });
          await tcp.start();
          registers.tcpAddress = { host: tcp.host, port: tcp.port };
          // Who needs the bound address (a simulated master when the manifest asked for port 0) hears it here.
          bus.publish('modbus-server/listening', { server: id, host: tcp.host, port: tcp.port });
          log.info(`serving units ${registers.units.join(', ')} on Modbus TCP ${tcp.host}:${tcp.port}${gate.list.open ? '' : ` to ${gate.list.description} only`}`);
          if (gate.list.open && !/^(127\.|::1$|localhost$)/.test(tcp.host)) {
            // Modbus has no authentication: whoever reaches the port can rewrite every register.
            log.warn(`Modbus TCP ${tcp.host}:${tcp.port} accepts reads and writes from any address that reaches it; set tcp.converter or tcp.allowClients (MODBUS_CONVERTER_HOST / MODBUS_TCP_ALLOW) to the master's address`);
          }
        }
        if (config.rtu.enabled) {
          const rtu = config.rtu;
          serial = await openSerial(id, rtu, (err) => scope.fail(err));
          new ModbusRtuServer({ link: serial, baudRate: rtu.baudRate, handle, onHandlerError, clock, onDropped: (reason) => {
            rtuDropped.inc();
            log.debug(() => `rtu: frame dropped: ${reason}`);
          } });
          log.info(`serving units ${registers.units.join(', ')} on Modbus RTU ${rtu.path} ${rtu.baudRate} ${rtu.dataBits}${rtu.parity[0].toUpperCase()}${rtu.stopBits}`);
        }
      },
      async stop() {
        await tcp?.stop();
        tcp = null;
        await serial?.close();
        serial = null;
      },
    };
  },
});
