// A private copy of build/ for the whole run. Other people rebuild the Worker while a run goes
// on, and wrangler dev reloads (a new workerd process, lost Durable Objects) when its main
// module changes; a copy keeps every measurement on the same build. The copy also holds the
// benchmark's wrapper module (wrapper/worker.mjs), next to the index.js it imports.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from '../../tests/lib/paths.mjs';

let snapshot = null;

/** { dir, main, wasm, wrapper } of the copy, made on first use and removed when the process exits. */
export function buildSnapshot() {
  if (snapshot) return snapshot;
  const dir = mkdtempSync(join(tmpdir(), 'bindify-bench-build-'));
  cpSync(join(repoRoot, 'build'), dir, { recursive: true, preserveTimestamps: true });
  cpSync(join(repoRoot, 'bench', 'wrapper', 'worker.mjs'), join(dir, 'bench-wrapper.mjs'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  snapshot = { dir, main: join(dir, 'index.js'), wasm: join(dir, 'index_bg.wasm'), wrapper: join(dir, 'bench-wrapper.mjs') };
  return snapshot;
}
