// The built-in device profiles: the seed devices, named so a manifest can pick them
// (`"sim": { "profile": "nj301" }`). Plant-coupled devices delegate to a named behaviour.

export const BUILTIN_PROFILES: Record<string, Record<string, unknown>> = {
  /** The lab's Omron NJ301 (PID on the lab heater plant): the default of the `modbus` adapter. */
  nj301: { name: 'nj301', protocol: 'modbus', behaviour: 'nj301-plant', description: 'Omron NJ301 of the PLC remote lab, PID on the shared heater plant.' },
  /** The lab's ESP32 relay firmware and the two commercial presets it also speaks; the default of the `http` adapter. */
  'esp32-lab': { name: 'esp32-lab', protocol: 'http', behaviour: 'esp32-relay', options: { device: 'esp32-lab' }, description: 'ESP32 lab relay firmware, heating the lab plant.' },
  tasmota: { name: 'tasmota', protocol: 'http', behaviour: 'esp32-relay', options: { device: 'tasmota' }, description: 'Tasmota relay (cm?cmnd=Power).' },
  'shelly-gen2': { name: 'shelly-gen2', protocol: 'http', behaviour: 'esp32-relay', options: { device: 'shelly-gen2' }, description: 'Shelly Gen2 relay (rpc/Switch.*).' },
  /** The odoo-batching mixing line's Omron CJ2M (batches at D7000 + 100(n-1)): the default of the `fins` adapter. */
  'cj2m-mixing': { name: 'cj2m-mixing', protocol: 'fins', behaviour: 'cj2m-mixing', description: 'Omron CJ2M of the mixing line, taking batches from the SCADA middleware.' },
  /** The signal recorder's S7 production line (machines pulsing inputs, counters and power in DB1): the default of the `s7` adapter. */
  'production-line': { name: 'production-line', protocol: 's7', behaviour: 'production-line', description: 'Siemens S7 PLC of a production line: machines cycling with breakdowns and changeovers, counters and power in DB1.' },
  /** The cea-can-pipeline greenhouse (four climate boxes and the lab box on cea.dbc): the default of the `can` adapter. */
  greenhouse: { name: 'greenhouse', protocol: 'can', behaviour: 'greenhouse', description: 'Greenhouse CAN bus: four climate boxes and the lab box (cea.dbc), with error frames, bus-off and silent boxes.' },
  /** A memory-only Modbus device: 1024 of each table, every write kept. Handy as a blank to poke at. */
  'modbus-memory': { name: 'modbus-memory', protocol: 'modbus', description: 'Plain Modbus memory: every table 1024 wide, writes kept, nothing moves.' },
};
