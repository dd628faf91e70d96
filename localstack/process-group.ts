/** Stopping a child started with `detached: true` (its own process group), the way Ctrl-C would. */
import type { ChildProcess } from 'node:child_process';

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** Sends `signal` to the child's whole group, SIGKILL after `graceMs`; resolves with its exit code. */
export async function stopGroup(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<number | null> {
  if (!child.pid || child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  signalGroup(child, signal);
  const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(killer);
  return code;
}
