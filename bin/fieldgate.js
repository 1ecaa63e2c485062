#!/usr/bin/env node
// Node launcher for the TypeScript sources (tsx). `npm run build` output replaces this on devices.
import { register } from 'tsx/esm/api';

register();
await import('./fieldgate.ts');
