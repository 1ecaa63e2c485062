// What a doctor check reports, and what every check is given: where the machine's root is, whose
// permissions count, and how long a network probe may take.

export type CheckStatus = 'ok' | 'FAIL' | 'skip';

export interface CheckResult {
  /** `spi rtd`, `tcp plc`, `data dir`... */
  check: string;
  /** The device node, line, host:port or directory checked. */
  target: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure, as commands or config lines. */
  fix?: string;
}

/** The user whose access matters: the service user, not whoever runs doctor. */
export interface Identity {
  name: string;
  uid: number;
  /** Primary and supplementary group ids. */
  gids: number[];
}

export interface DoctorContext {
  /** Prefix for /dev, /sys, /run and /etc paths ('' on the real machine; a fake tree in tests). */
  sysroot: string;
  /** null: judge access with access(2) as the current process. */
  identity: Identity | null;
  /** Group id → name, for "add the user to group X" fixes. */
  groupNames: Map<number, string>;
  timeoutMs: number;
  env: Record<string, string | undefined>;
}
