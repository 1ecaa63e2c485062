// Container tokens for the core services. Resolve them by token; nothing is injected by decorator.

export const Tokens = {
  Clock: Symbol('fieldgate.Clock'),
  LogRoot: Symbol('fieldgate.LogRoot'),
  /** A Logger namespaced to the resolving plugin (registered in each child container). */
  Log: Symbol('fieldgate.Log'),
  Bus: Symbol('fieldgate.Bus'),
  /** The owner-bound bus view of the resolving plugin. */
  PluginBus: Symbol('fieldgate.PluginBus'),
  Store: Symbol('fieldgate.Store'),
  History: Symbol('fieldgate.History'),
  Health: Symbol('fieldgate.Health'),
  Metrics: Symbol('fieldgate.Metrics'),
  /** Route contributions collected for the HTTP API plugin. */
  HttpRoutes: Symbol('fieldgate.HttpRoutes'),
  Supervisor: Symbol('fieldgate.Supervisor'),
  /** Services plugins offer each other (core/services.ts). */
  Services: Symbol('fieldgate.Services'),
  Manifest: Symbol('fieldgate.Manifest'),
  /** The resolving plugin's validated config. */
  PluginConfig: Symbol('fieldgate.PluginConfig'),
  /** Record of binding name → adapter instance for the resolving plugin. */
  PluginAdapters: Symbol('fieldgate.PluginAdapters'),
  /** The resolving plugin's scope (timers, cleanup, failure reporting). */
  PluginScope: Symbol('fieldgate.PluginScope'),
} as const;
