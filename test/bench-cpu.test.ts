import { describe, expect, it } from 'vitest';
import { clockTicks, machineBusyMs } from '../scripts/bench-common.js';

// bench:ingest's CPU accounting (the machine's busy core-ms around each measured path)
describe('machineBusyMs', () => {
  it('adds user, nice, system, irq and softirq of /proc/stat, not idle, iowait or steal', () => {
    const t = clockTicks();
    const stat = 'cpu  100 5 20 1000 50 1 2 7 0 0\ncpu0 50 2 10 500 25 0 1 3 0 0\n';
    expect(machineBusyMs(stat)).toBe(((100 + 5 + 20 + 1 + 2) * 1000) / t);
    expect(machineBusyMs('intr 1 2 3\n')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('counts the CPU this process burns', () => {
    const b0 = machineBusyMs()!;
    const c0 = process.cpuUsage();
    let x = 0;
    const until = performance.now() + 300;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const c = process.cpuUsage(c0);
    const own = (c.user + c.system) / 1000;
    const busy = machineBusyMs()! - b0;
    expect(x).toBeGreaterThan(0);
    // the machine's busy time includes ours (ticks are 10 ms: allow two of slack)
    expect(busy).toBeGreaterThanOrEqual(own - 20);
  });
});
