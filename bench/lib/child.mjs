// Node child processes of the harness (upstreams-child.mjs, miniflare-child.mjs): forked with an
// IPC channel in their own process group, output to tests/.artifacts/, stopped by PID (the
// group, so a workerd they started goes too), and killed if the harness exits first.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { artifactsDir } from '../../tests/lib/paths.mjs';

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Forks `script` with `args`; resolves with its first IPC message (its 'ready') and handles. */
export async function startChild(name, script, args = []) {
  mkdirSync(artifactsDir, { recursive: true });
  const logFile = join(artifactsDir, `bench-${name}-${new Date().toISOString().replaceAll(':', '')}-${process.pid}.log`);
  const fd = openSync(logFile, 'a');
  const child = fork(script, args, { stdio: ['ignore', fd, fd, 'ipc'], detached: true });
  closeSync(fd);
  const killAtExit = () => killGroup(child.pid, 'SIGKILL');
  process.on('exit', killAtExit);
  const exited = once(child, 'exit');
  const [ready] = await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => { throw new Error(`${name} exited (${code}) before it was ready; log ${logFile}`); }),
  ]);
  return {
    ready,
    pid: child.pid,
    logFile,
    /** Sends `message` and resolves with the next message back. */
    async ask(message) {
      const answer = once(child, 'message');
      child.send(message);
      return (await answer)[0];
    },
    async stop() {
      killGroup(child.pid, 'SIGTERM');
      await Promise.race([exited, delay(5000)]);
      killAtExit();
      process.off('exit', killAtExit);
    },
  };
}
