// Plugin `batch-plc`: hands the mo_batch queue of an odoo-sync plugin to the mixing PLC and takes the
// finished batches back, over FINS (binding `fins`) or the same block layout over Modbus (binding `modbus`).
import { definePlugin } from '../../core/plugin.ts';
import type { ServiceRegistry } from '../../core/services.ts';
import { Tokens } from '../../core/tokens.ts';
import type { FinsClient } from '../../adapters/fins/types.ts';
import type { ModbusClient } from '../../adapters/modbus/types.ts';
import { type MoBatchRepository, moBatchService } from '../odoo-sync/batch-repo.ts';
import { type BatchPlcConfig, checkConfig, configSchema } from './config.ts';
import { BatchPlcLink } from './link.ts';
import { finsWords, modbusWords, type PlcWords } from './words.ts';

export default definePlugin<BatchPlcConfig>({
  type: 'batch-plc',
  version: '0.1.0',
  description: 'Writes queued mo_batch rows to the mixing PLC (D7000 + 100(n-1)), reads their status back, and removes finished batches from the queue.',
  adapters: {
    fins: { kind: 'fins', optional: true, description: 'The PLC over FINS/UDP (config.protocol "fins").' },
    modbus: { kind: 'modbus', optional: true, description: 'The PLC over Modbus, same block layout in holding registers (config.protocol "modbus").' },
  },
  configSchema,
  validateConfig: checkConfig,
  create({ id, config, adapters, container, store, health, metrics, scope, clock, log }) {
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`batch-plc "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const binding = adapters[config.protocol];
    if (!binding) {
      throw new Error(`batch-plc "${id}": config.protocol is "${config.protocol}" but no adapter is bound as "${config.protocol}"; add "adapters": { "${config.protocol}": "<${config.protocol} adapter id>" }`);
    }
    const plc: PlcWords = config.protocol === 'fins' ? finsWords(binding as FinsClient) : modbusWords(binding as ModbusClient, config.modbus);
    const services = container.resolve<ServiceRegistry>(Tokens.Services);
    const name = moBatchService(config.queue);
    const link = new BatchPlcLink({ id, config, plc, queue: () => services.get<MoBatchRepository>(name), store, health, metrics, scope, clock, log });
    return {
      start() {
        link.start();
      },
    };
  },
});
