// Looks through local Worker state (wrangler's --persist-to dir: sqlite databases, their WAL
// files and blob files for KV and Durable Objects) and logs for a secret stored in the clear.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Every file under `dir` whose bytes contain `needle` (a string, as UTF-8), as full paths. */
export function filesContaining(dir, needle) {
  if (!needle) throw new Error('filesContaining: empty needle would match everything');
  const bytes = Buffer.from(needle, 'utf8');
  return filesUnder(dir).filter((file) => readFileSync(file).includes(bytes));
}

/**
 * The byte strings under which `value` would show if it were kept readable: its UTF-8 and
 * UTF-16LE bytes (V8 keeps a string with any character above U+00FF in two-byte form), and its
 * base64 and base64url text (RFC 4648 §4, §5) at each of the three offsets it can have inside
 * a longer encoded string, without the characters that depend on the bytes around it.
 */
export function exposedForms(value) {
  if (!value || value.length < 16) throw new Error('exposedForms: a value this short would match by chance');
  const raw = Buffer.from(value, 'utf8');
  const forms = [['utf-8', raw], ['utf-16le', Buffer.from(value, 'utf16le')]];
  for (let offset = 0; offset < 3; offset += 1) {
    const text = Buffer.concat([Buffer.alloc(offset), raw]).toString('base64').replace(/=+$/, '');
    // Characters before `lead` carry bits of the padding; a last partial group carries bits of
    // whatever follows.
    const lead = Math.ceil((offset * 8) / 6);
    const end = (offset + raw.length) % 3 === 0 ? text.length : text.length - 1;
    const core = text.slice(lead, end);
    forms.push([`base64@${offset}`, Buffer.from(core)]);
    forms.push([`base64url@${offset}`, Buffer.from(core.replaceAll('+', '-').replaceAll('/', '_'))]);
  }
  return forms;
}

/**
 * Everything stored under `dir`, as `{ place, bytes }`: each file's bytes (place: its path
 * relative to `dir`), and each value in each table of each sqlite database (place: the
 * database's path and the table). The second reaches what the first can miss: sqlite keeps a
 * value larger than about a quarter of a page (KV and Durable Object storage tables are
 * WITHOUT ROWID) on overflow pages, each opening with a page number, and a value written since
 * the last checkpoint only in the write-ahead log, as page images.
 */
export function storedPlaces(dir) {
  const places = [];
  for (const file of filesUnder(dir)) {
    const place = relative(dir, file);
    places.push({ place, bytes: readFileSync(file) });
    if (!file.endsWith('.sqlite')) continue;
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()) {
        for (const row of db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all()) {
          for (const value of Object.values(row)) {
            if (typeof value === 'string') places.push({ place: `${place} ${name}`, bytes: Buffer.from(value, 'utf8') });
            else if (value instanceof Uint8Array) places.push({ place: `${place} ${name}`, bytes: Buffer.from(value) });
          }
        }
      }
    } finally {
      db.close();
    }
  }
  return places;
}

/** The places in `storedPlaces(dir)` that hold `text` (as UTF-8), without repeats. */
export function placesHolding(dir, text) {
  if (!text) throw new Error('placesHolding: empty text would match everything');
  const bytes = Buffer.from(text, 'utf8');
  return [...new Set(storedPlaces(dir).filter((p) => p.bytes.includes(bytes)).map((p) => p.place))];
}

/**
 * Where any of `values` shows, in any of its `exposedForms`, in what is stored under `dir`
 * (`storedPlaces`) and in the text files `logs`. Returns `{ place, value, form }` per finding;
 * `value` is an index into `values`, so a failure message never prints the secret.
 */
export function findExposed(dir, values, logs = []) {
  const needles = values.flatMap((value, index) => exposedForms(value).map(([form, bytes]) => ({ index, form, bytes })));
  const places = [...storedPlaces(dir), ...logs.map((file) => ({ place: file, bytes: readFileSync(file) }))];
  const findings = [];
  for (const { place, bytes: content } of places) {
    for (const { index, form, bytes } of needles) {
      if (content.includes(bytes)) findings.push({ place, value: index, form });
    }
  }
  return [...new Map(findings.map((f) => [`${f.place}|${f.value}|${f.form}`, f])).values()];
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
