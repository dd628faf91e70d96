/**
 * The object store's clock. Object ages (LastModified) are the store's times, so comparing them
 * with this machine's clock is only as good as the two clocks agree. Every S3 response carries a
 * `Date` header; the client records it (lib/storage/client.ts), and storeNow() is that time
 * advanced by the monotonic time elapsed since it was received. Durations measured on this
 * machine alone (how long we have held a lock) use monotonicMs(), which no clock step moves.
 */
import { performance } from 'node:perf_hooks';

let last: { server: number; at: number } | undefined;

export function monotonicMs(): number {
  return performance.now();
}

/** Records the `Date` header of a store response (1-second resolution). */
export function observeServerDate(header: string | undefined): void {
  if (!header) return;
  const server = Date.parse(header);
  if (!Number.isFinite(server)) return;
  const at = monotonicMs();
  // keep the latest reading; a response delayed in flight must not move the clock back
  if (!last || server >= last.server + (at - last.at) - 1000) last = { server, at };
}

/** The store's current time (epoch ms): the last `Date` header plus the time since. Local time before any response. */
export function storeNow(): number {
  if (!last) return Date.now();
  return last.server + (monotonicMs() - last.at);
}

/** For tests: forget the readings. */
export function resetStoreClock(): void {
  last = undefined;
}
