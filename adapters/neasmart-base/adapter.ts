// Adapter kind `neasmart-base`: the Rehau Neasmart 2.0 base station, the Modbus master of the bus.
// Real: nothing to open — the base polls the gateway's modbus-server by itself. Sim: starts the
// base-station simulator (sim/neasmart-base.ts), which polls the gateway's Modbus TCP port.
import { defineAdapter } from '../../core/plugin.ts';
import type { NeasmartBase } from './types.ts';

export interface NeasmartBaseAdapterOptions {
  sim: {
    host: string;
    port: number;
    unit: number;
    pollMs: number;
    timeScale: number;
    zones: Array<{ base: number; zone: number; state?: number; setpoint?: number }>;
    broadcastEvery: number;
    outside: { mean: number; amplitude: number };
  };
}

export default defineAdapter<NeasmartBaseAdapterOptions, NeasmartBase>({
  kind: 'neasmart-base',
  description: 'The Neasmart 2.0 base station (Modbus master). Real: nothing to open; sim: a simulated base polling the gateway over Modbus TCP.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'The simulated base station (driver "sim"). It connects to the gateway\'s own Modbus TCP server.',
        properties: {
          host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Where the gateway\'s Modbus TCP server listens.' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 5020, description: 'The gateway\'s Modbus TCP port (the modbus-server\'s tcp.port); 0 = whatever port the modbus-server in this runtime bound (for tests on an ephemeral port).' },
          unit: { type: 'integer', minimum: 1, maximum: 247, default: 240, description: 'Slave id the base polls.' },
          pollMs: { type: 'integer', minimum: 10, default: 1000, description: 'Poll cycle period.' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'Process seconds per clock second of the zone model.' },
          zones: {
            type: 'array',
            default: [{ base: 1, zone: 1 }, { base: 1, zone: 2 }, { base: 1, zone: 3 }, { base: 1, zone: 4 }],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['base', 'zone'],
              properties: {
                base: { type: 'integer', minimum: 1, maximum: 5 },
                zone: { type: 'integer', minimum: 1, maximum: 12 },
                setpoint: { type: 'number', minimum: 5, maximum: 35, description: 'The room unit\'s setpoint in °C (default 21), written to the gateway while its register holds none (0).' },
                state: { type: 'integer', minimum: 1, maximum: 6, description: 'The room unit\'s state (default 1 normal), written to the gateway while its register holds none (0).' },
              },
            },
            description: 'Zones the simulated base has rooms for. A zone whose state or setpoint the gateway does not hold yet (register 0) gets the room unit\'s own.',
          },
          broadcastEvery: { type: 'integer', minimum: 0, default: 10, description: 'Every n-th cycle the outside temperature is broadcast to unit 0; 0 = never.' },
          outside: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              mean: { type: 'number', default: 5, description: 'Mean outside temperature, °C.' },
              amplitude: { type: 'number', minimum: 0, default: 3, description: 'Daily swing, ± °C.' },
            },
          },
        },
      },
    },
  },
  real() {
    return Promise.resolve({
      instance: { driver: 'real', description: 'real base station (the Modbus master on the RS-485 bus; nothing to open)' },
      close: () => Promise.resolve(),
    });
  },
  async sim(options, ctx) {
    const { NeasmartBaseSimulator } = await import('../../sim/neasmart-base.ts');
    const base = ctx.world.get(
      `sim:${ctx.id}`,
      () => new NeasmartBaseSimulator({ ...options.sim, clock: ctx.clock, log: ctx.log }),
      (s) => s.stop(),
    );
    // Port 0: the gateway's modbus-server binds an ephemeral port and announces it on the bus.
    const unsubscribe = options.sim.port === 0
      ? ctx.bus.subscribe<{ host: string; port: number }>('modbus-server/listening', ({ host, port }) => {
        void base.retarget(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port);
      })
      : () => {};
    // Started now, before the gateway listens: it retries every cycle until the port answers.
    base.start();
    ctx.log.info(`Neasmart base simulator: ${base.description}`);
    return {
      instance: { driver: 'sim', description: base.description },
      close: () => {
        unsubscribe();
        return base.stop();
      },
    };
  },
});
