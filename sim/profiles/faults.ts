// The fault hooks every simulated device offers under `faults` (profile devices and named
// behaviours alike), for tests and the scenario runner. Time in them is the injected clock's.

export interface FaultState {
  offline: boolean;
  hung: boolean;
  slowMs: number;
  /** Injected exception rules in force (not counting the profile's own). */
  exceptions: number;
}

export interface ExceptionTarget {
  /** Modbus, FINS: requests whose range includes this address (any address when absent). */
  address?: number;
  /** FINS: only this memory area (DM, CIO, W, H, A). */
  area?: 'DM' | 'CIO' | 'W' | 'H' | 'A';
  /** Modbus: only this function code. */
  fc?: number;
  /** HTTP: only requests to this path (any when absent). */
  path?: string;
}

export interface DeviceFaults {
  /** Off the network: listening stops (connections refused), open connections are dropped. */
  offline(): Promise<void>;
  /** Requests are read and never answered; connections stay open (a hung device). */
  hang(): void;
  /** Every answer waits `ms` (0 = back to prompt answers). */
  slow(ms: number): void;
  /**
   * Off for `offMs`, then back with its memory reset: to the profile's initial values, or all zero
   * (`memory`, default the profile's `powerCycle.memory`). Clears hang, slow and injected exceptions.
   */
  powerCycle(options?: { offMs?: number; memory?: 'initial' | 'zero' }): Promise<void>;
  /** Answers matching requests with `code`: a Modbus exception code, an HTTP status (400..599), an S7 return code, a FINS end code. */
  exception(code: number, target?: ExceptionTarget): void;
  /** Back to normal: online, answering promptly, injected exceptions cleared. Memory is kept. */
  recover(): Promise<void>;
  state(): FaultState;
}
