// What the Worker's Wasm module is made of: its sections raw and gzipped, and (with twiggy,
// `cargo install twiggy`) the largest functions and data segments and the code by crate. The
// shipped module has no names section (scripts/build-worker.sh), so the analysis optimizes the
// unoptimized module the build keeps in target/ again with the same wasm-opt flags plus
// --debuginfo, and checks that its code section is byte for byte the shipped one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { repoRoot, testsDir } from '../../tests/lib/paths.mjs';

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count', 'tag'];

/** The sections of a Wasm module: [{ name, bytes, gzip_bytes, start, end }]. */
export function sections(buffer) {
  const out = [];
  let offset = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = buffer[offset];
      offset += 1;
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  while (offset < buffer.length) {
    const id = buffer[offset];
    offset += 1;
    const size = leb();
    const start = offset;
    let name = SECTION_NAMES[id] ?? `section ${id}`;
    if (id === 0) {
      const length = leb();
      name = `custom: ${buffer.subarray(offset, offset + length).toString()}`;
    }
    out.push({ name, bytes: size, gzip_bytes: gzipSync(buffer.subarray(start, start + size)).length, start, end: start + size });
    offset = start + size;
  }
  return out;
}

const which = (command) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
};

/** The crate a twiggy item belongs to: the first path of its symbol (generic code shows under the crate of its type). */
function crateOf(name) {
  if (name.startsWith('data segment')) return '(data segments)';
  const bare = name.replace(/^[<&(\s]+/, '').replace(/^(?:mut |dyn |impl |const )+/, '');
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(bare);
  return match ? match[1] : '(other)';
}

function parseCsv(text) {
  const rows = [];
  for (const line of text.trim().split('\n').slice(1)) {
    // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may be quoted and hold commas.
    const parts = line.split(',');
    const bytes = Number(parts.at(-4));
    const name = parts.slice(0, -4).join(',').replace(/^"(.*)"$/, '$1').replaceAll('""', '"');
    rows.push({ name, bytes });
  }
  return rows;
}

/**
 * The analysis of `shipped` (the build's index_bg.wasm): sections, and when twiggy is installed
 * the `top` largest items and the `crates` whose code is largest, from a copy with names.
 */
export function analyzeWasm(shipped, { top = 15, crates = 15 } = {}) {
  const buffer = readFileSync(shipped);
  const result = { sections: sections(buffer).map(({ start, end, ...s }) => s) };
  const unoptimized = join(repoRoot, 'target', 'bindify-worker.unoptimized.wasm');
  const wasmOpt = join(testsDir, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
  const twiggy = which('twiggy');
  if (!twiggy) return { ...result, twiggy: 'not installed (cargo install twiggy)' };
  if (!existsSync(unoptimized) || !existsSync(wasmOpt)) return { ...result, twiggy: `needs ${unoptimized} (sh scripts/build-worker.sh --force) and ${wasmOpt}` };
  const dir = mkdtempSync(join(tmpdir(), 'bindify-bench-wasm-'));
  try {
    const named = join(dir, 'named.wasm');
    const flags = execFileSync('sh', [join(repoRoot, 'scripts', 'build-worker.sh'), '--print-wasm-opt-flags'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync(wasmOpt, [unoptimized, '-o', named, ...flags, '--debuginfo']);
    const code = (buf) => {
      const c = sections(buf).find((s) => s.name === 'code');
      return buf.subarray(c.start, c.end);
    };
    const namedBuffer = readFileSync(named);
    const rows = parseCsv(execFileSync(twiggy, ['top', '-n', '100000', '--format', 'csv', named], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }))
      .filter((r) => !/subsection|custom section/.test(r.name));
    const byCrate = new Map();
    for (const row of rows) byCrate.set(crateOf(row.name), (byCrate.get(crateOf(row.name)) ?? 0) + row.bytes);
    return {
      ...result,
      twiggy: execFileSync(twiggy, ['--version'], { encoding: 'utf8' }).trim(),
      named_copy_code_matches_shipped: Buffer.compare(code(namedBuffer), code(buffer)) === 0,
      top_items: rows.slice(0, top),
      top_crates: [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, crates).map(([crate, bytes]) => ({ crate, bytes })),
      note: 'raw bytes in the module (before gzip); functions are after inlining, so an async handler includes what was inlined into it; crates by the first path of each symbol',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
