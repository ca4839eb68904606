// Child processes for tests: each in its own process group (so a wrangler and the workerd it
// starts go together), output captured to a log file under tests/.artifacts/, stopped by PID,
// and killed if the test process exits first.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { artifactsDir } from './paths.mjs';

const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;
const live = new Set(); // process group ids of children started and not yet stopped
let exitHooked = false;
let sequence = 0;

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if (err.code === 'ESRCH') return false; // the whole group is gone
    throw err;
  }
}

function groupAlive(pgid) {
  return killGroup(pgid, 0);
}

// 'exit' handlers must be synchronous: SIGKILL is all there is time for. A signal would end the
// test process without running 'exit' handlers, so catch those too.
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
    live.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/**
 * Starts `command args` in a new process group with stdout and stderr appended to
 * tests/.artifacts/<name>-<time>-<n>.log. Rejects if it cannot be started at all.
 */
export async function startProcess({ name, command, args = [], cwd, env = process.env }) {
  hookExit();
  mkdirSync(artifactsDir, { recursive: true });
  sequence += 1;
  const logFile = join(artifactsDir, `${name}-${new Date().toISOString().replaceAll(':', '')}-${process.pid}-${sequence}.log`);
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    await once(child, 'spawn');
  } catch (err) {
    throw new Error(`cannot start ${name} (${command}): ${err.message}`);
  } finally {
    closeSync(fd); // the child holds its own copy
  }

  const { pid } = child;
  live.add(pid);
  // A child left running must not keep the test process alive: it is killed when that exits.
  child.unref();
  let exitStatus = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
  });

  return {
    pid,
    logFile,
    /** Resolves with { code, signal } when the child itself exits. */
    exited,
    /** The exit status, or null while it runs. */
    exitStatus: () => exitStatus,
    /** The last `lines` lines of its log, without terminal colour codes. */
    logTail(lines = 40) {
      return readFileSync(logFile, 'utf8').replace(ANSI_ESCAPE, '').split('\n').slice(-lines).join('\n');
    },
    /**
     * SIGTERM to the group; SIGKILL once `timeoutMs` passes with the child, or anything else in
     * its group, still running.
     */
    async stop({ timeoutMs = 5000 } = {}) {
      if (!live.has(pid)) return exited;
      killGroup(pid, 'SIGTERM');
      const deadline = Date.now() + timeoutMs;
      while (groupAlive(pid) && Date.now() < deadline) await delay(50);
      killGroup(pid, 'SIGKILL');
      live.delete(pid);
      return exited;
    },
  };
}
