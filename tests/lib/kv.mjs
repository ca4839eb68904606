// Looks through local Worker state (wrangler's --persist-to dir: sqlite databases, their WAL
// files and blob files for KV and Durable Objects) for a secret stored in the clear.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` whose bytes contain `needle` (a string, as UTF-8), as full paths. */
export function filesContaining(dir, needle) {
  if (!needle) throw new Error('filesContaining: empty needle would match everything');
  const bytes = Buffer.from(needle, 'utf8');
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(bytes));
}
