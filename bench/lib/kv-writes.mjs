// KV writes, measured from the local KV state workerd keeps on disk (the method of
// tests/e2e/support.mjs kvWrites): every entry as key and blob id, read from the sqlite files
// under a Worker's persistence directory. A put always stores a new blob, so between two
// snapshots each (key, blob) pair that is new is a put that landed, and each key that is gone a
// delete. Two puts of one key between snapshots count once: snapshot often enough.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Map key -> blob id of every KV entry under `dir` (all namespaces). */
export function kvSnapshot(dir) {
  const entries = new Map();
  if (!existsSync(dir)) return entries;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.sqlite')) continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name), { readOnly: true });
    try {
      const table = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='_mf_entries'").get();
      if (!table) continue;
      for (const row of db.prepare('SELECT key, blob_id FROM _mf_entries').all()) entries.set(`${entry.parentPath}\0${row.key}`, row.blob_id);
    } finally {
      db.close();
    }
  }
  return entries;
}

/** The puts and deletes that landed between snapshots `before` and `after`. */
export function kvWritesBetween(before, after) {
  let puts = 0;
  let deletes = 0;
  for (const [key, blob] of after) if (before.get(key) !== blob) puts += 1;
  for (const key of before.keys()) if (!after.has(key)) deletes += 1;
  return { puts, deletes };
}
