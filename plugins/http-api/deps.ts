// What the route modules share: the services and settings one server instance runs with.
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import type { DisplayMap } from '../../core/display.ts';
import type { HistoryStore } from '../../core/history/types.ts';
import type { HealthModel } from '../../core/health.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import type { Logger } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { AlarmBoard, AlarmEvent } from './alarms/board.ts';
import type { AuditLog } from './audit.ts';
import type { ApiKeyGuard } from './auth.ts';
import type { CommandService } from './command-service.ts';
import type { CommandValidator } from './commands.ts';
import type { HttpApiConfig } from './config.ts';
import type { LiveHub } from './ws/hub.ts';

export interface ServerDeps {
  config: HttpApiConfig;
  store: StateStore;
  history: HistoryStore;
  health: HealthModel;
  metrics: MetricsRegistry;
  routes: RouteRegistry;
  hub: LiveHub;
  audit: AuditLog;
  guard: ApiKeyGuard;
  commands: CommandValidator;
  /** The shared write path of POST /api/command (and the MQTT plugin's /set topics). */
  commandService: CommandService;
  log: Logger;
  clock: Clock;
  /** The alarm board and how its events reach the bus (`alarm/<id>`). */
  alarms: { board: AlarmBoard; publish: (e: AlarmEvent) => void };
  /** Shown in the OpenAPI title and the dashboard. */
  gatewayName: string;
  version: string;
  /** The manifest's display section: labels, units, formats, enum names and limits per key. */
  display: DisplayMap;
}

/**
 * Who may call a route: `public` (dashboard files, /health), `read` (a key of any role, only with
 * requireKeyForReads), `write` (a key of role operate or admin whenever one is configured;
 * audited), `admin` (an admin key once `apiKeys` are configured, else like `read`), `dynamic`
 * (decided by the contributed route the request resolves to).
 */
export type Access = 'public' | 'read' | 'write' | 'admin' | 'dynamic';

export interface RouteConfig {
  access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** Route labels for metrics of requests the catch-all dispatched to a contributed route. */
export const dispatchedRoute = new WeakMap<FastifyRequest, string>();

/** Key id of the request's verified API key (null when none is configured). */
export const requestKeyId = new WeakMap<FastifyRequest, string | null>();
