// Writes schema/sim-profile.schema.json (editor completion for device profile files) from sim/profiles/schema.ts.
// Usage: node --import tsx scripts/build-profile-schema.ts [--check]   (--check: exit 1 if the file is stale)
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { publishedProfileSchema } from '../sim/profiles/schema.ts';

const target = fileURLToPath(new URL('../schema/sim-profile.schema.json', import.meta.url));
const text = JSON.stringify(publishedProfileSchema(), null, 2) + '\n';

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${target} is out of date; run: node --import tsx scripts/build-profile-schema.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target}`);
}
