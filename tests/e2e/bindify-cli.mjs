// Runs the built `bindify` binary (target/debug/bindify) without a terminal, for the end-to-end
// tests of what it connects.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { repoRoot } from '../lib/paths.mjs';

export const bindifyBin = join(repoRoot, 'target/debug/bindify');
const CLI_TIMEOUT_MS = 60_000;

/**
 * `bindify args` against `workerUrl` with `adminToken`, stdin a pipe given `input` and closed;
 * `onStderr` sees stderr as it grows. Resolves with { code, stdout, stderr }.
 */
export function runBindify(args, { workerUrl, adminToken, input = '', onStderr }) {
  const env = { ...process.env };
  for (const name of ['BINDIFY_WORKER_URL', 'BINDIFY_ADMIN_TOKEN', 'BINDIFY_CONFIG_DIR']) delete env[name];
  Object.assign(env, {
    BINDIFY_WORKER_URL: workerUrl,
    BINDIFY_ADMIN_TOKEN: adminToken,
    BINDIFY_CONFIG_DIR: '/nonexistent/bindify-e2e',
    BINDIFY_NO_BROWSER: '1',
    NO_COLOR: '1',
  });
  return new Promise((resolve, reject) => {
    const child = spawn(bindifyBin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bindify ${args.join(' ')} did not exit within ${CLI_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      onStderr?.(stderr);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
