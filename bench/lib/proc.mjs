// What /proc says about the processes a Worker runs in: the workerd under a wrangler (found by
// walking the process tree from the wrangler's PID, never by name), its resident memory and CPU
// time (per thread, from schedstat, in nanoseconds).
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may contain spaces: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

export function descendants(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (!s) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(Number(entry));
  }
  const out = [];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift();
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The two workerd processes wrangler `rootPid` started (wrangler 4 dev): `proxy`, which owns the
 * public port (`--socket-addr=entry=127.0.0.1:<port>`) and relays every request, and `runtime`,
 * which runs the Worker, its Durable Objects and local KV. Found among the descendants by
 * executable path and command line.
 */
export function workerdPids(rootPid, port) {
  const workerds = descendants(rootPid).filter((pid) => /(^|\/)workerd$/.test(cmdline(pid)[0] ?? ''));
  const isProxy = (pid) => cmdline(pid).includes(`--socket-addr=entry=127.0.0.1:${port}`);
  const proxy = workerds.filter(isProxy);
  const runtime = workerds.filter((pid) => !isProxy(pid));
  if (proxy.length !== 1 || runtime.length !== 1) {
    throw new Error(`expected wrangler ${rootPid} to run two workerd (a proxy on port ${port} and the runtime), found ${workerds.map((p) => cmdline(p).join(' ')).join('; ') || 'none'}`);
  }
  return { proxy: proxy[0], runtime: runtime[0] };
}

/** Resident set size in KiB. */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
}

/** Time thread `tid` of `pid` has run on a CPU, in ms, from schedstat (nanoseconds); null if gone. */
function threadRunMs(pid, tid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/**
 * CPU time of `pid` so far, in milliseconds: the sum over its live threads of the time each ran
 * (schedstat, nanosecond resolution), or user + system time in clock ticks (10 ms) where
 * schedstat is missing. Threads that exited no longer count; the processes measured here keep
 * theirs.
 */
export function cpuMs(pid) {
  let total = 0;
  let threads;
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    throw new Error(`no process ${pid}`);
  }
  for (const tid of threads) {
    const ms = threadRunMs(pid, tid);
    if (ms == null) {
      const s = stat(pid);
      if (!s) throw new Error(`no process ${pid}`);
      return ((s.utime + s.stime) * 1000) / CLOCK_TICKS;
    }
    total += ms;
  }
  return total;
}

/**
 * CPU time of the main thread of `pid` so far, in ms (schedstat). For workerd that is the event
 * loop thread that runs the isolates: Workers, their Durable Objects and, on Miniflare, its entry
 * Worker, and workerd's own handling of their sockets and local storage.
 */
export function mainThreadCpuMs(pid) {
  const ms = threadRunMs(pid, pid);
  if (ms == null) throw new Error(`no process ${pid}`);
  return ms;
}

/** The workerd under `rootPid` that serves `port` (its `--socket-addr=entry=127.0.0.1:<port>`). */
export function workerdServing(rootPid, port) {
  const found = descendants(rootPid).filter((pid) => /(^|\/)workerd$/.test(cmdline(pid)[0] ?? '') && cmdline(pid).includes(`--socket-addr=entry=127.0.0.1:${port}`));
  if (found.length !== 1) throw new Error(`expected one workerd serving port ${port} under PID ${rootPid}, found ${found.length}`);
  return found[0];
}

/** wrangler's own Node processes: the launcher `rootPid` and the CLI it runs (not workerd, not esbuild). */
export function wranglerNodePids(rootPid) {
  return [rootPid, ...descendants(rootPid).filter((pid) => /(^|\/)node$/.test(cmdline(pid)[0] ?? ''))];
}

/** Summed CPU time of `pids` (those still running), in milliseconds. */
export function cpuMsOf(pids) {
  return pids.reduce((sum, pid) => {
    try {
      return sum + cpuMs(pid);
    } catch {
      return sum;
    }
  }, 0);
}
