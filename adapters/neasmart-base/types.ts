// The Neasmart base station as the neasmart plugin sees it. The real base is the Modbus master on
// the RS-485 bus and needs nothing from the gateway, so the interface only describes what stands there.

export interface NeasmartBase {
  readonly driver: 'real' | 'sim';
  /** For logs: `real base station (the Modbus master on the bus)` or `simulated base polling 127.0.0.1:5020 unit 240`. */
  readonly description: string;
}
