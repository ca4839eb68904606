// What the numbers were measured on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { node22, repoRoot, testsDir } from '../../tests/lib/paths.mjs';

const version = (pkg) => {
  try {
    return JSON.parse(readFileSync(join(testsDir, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
};

export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpu_model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? null,
    cores: os.cpus().length,
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load_average_at_start: os.loadavg().map((x) => Number(x.toFixed(2))),
    node: execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim(),
    wrangler: version('wrangler'),
    workerd: version('workerd'),
    miniflare: version('miniflare'),
    undici: version('undici'),
    mcp_sdk: version('@modelcontextprotocol/sdk'),
    oidc_provider: version('oidc-provider'),
    git_commit: git('rev-parse', 'HEAD'),
    git_dirty_paths: (git('status', '--porcelain', '--', 'src', 'core', 'Cargo.toml', 'Cargo.lock') ?? '').split('\n').filter(Boolean).length,
  };
}
