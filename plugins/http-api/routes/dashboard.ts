// The operator dashboard: static files from dashboard/ and the charting library from node_modules
// (no CDN, no build step), plus GET /api/dashboard describing what the page should show.
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerDeps } from '../deps.ts';
import { describedCommands } from '../display-text.ts';
import { displaySchema } from '../../../core/display.ts';

const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot'));
}

export async function dashboardRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const { config, routes } = deps;
  app.get('/api/dashboard', {
    config: { access: 'public' },
    schema: { summary: 'What the dashboard shows (title, keys, command schemas, panels)', tags: ['dashboard'] },
  }, async () => ({
    title: config.dashboard.title,
    gateway: deps.gatewayName,
    keys: config.dashboard.keys,
    trendKeys: config.dashboard.trendKeys,
    chart: config.dashboard.chart,
    commands: describedCommands(config.commands, deps.display),
    display: deps.display,
    requireKeyForReads: config.requireKeyForReads,
    keyConfigured: deps.guard.configured,
    // Panels from the config, then one per contributed GET route tagged "dashboard".
    panels: [
      ...config.dashboard.panels,
      ...routes.list()
        .filter(({ route }) => route.method === 'GET' && route.schema?.tags?.includes('dashboard') && !route.url.includes(':'))
        .map(({ owner, route }) => ({ title: route.schema?.summary ?? owner, source: route.url, ...route.panel })),
    ],
  }));
  app.get('/api/display', {
    config: { access: 'read' },
    schema: {
      summary: 'Label, unit, number format, enum names and alarm limits per state key (the manifest\'s display section)',
      description: 'What the dashboard and `fieldgate monitor` show for each key; limits raise alarms (GET /api/alarms).',
      tags: ['dashboard'],
      response: { 200: displaySchema },
    },
  }, async () => deps.display);
  if (!config.dashboard.enabled) return;
  const common = { wildcard: false, decorateReply: false, cacheControl: true, maxAge: 60_000, serveDotFiles: false } as const;
  await app.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: '/', index: 'index.html', ...common });
  await app.register(fastifyStatic, { root: uplotDir(), prefix: '/vendor/uplot/', ...common });
}
