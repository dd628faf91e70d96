/**
 * A mutual-exclusion lock on plain S3 objects for stores that ignore conditional writes:
 * Lamport's bakery algorithm, with S3's strong read-after-write and list-after-write
 * consistency standing in for shared registers (docs/adr/0002-catalog-commits.md).
 *
 *   1. PUT  _locks/<scope>/c-<id>                 ("choosing" flag)
 *   2. LIST _locks/<scope>/t-                     ticket = 1 + max(live tickets)
 *   3. PUT  _locks/<scope>/t-<ticket>-<id>
 *   4. DELETE the choosing flag
 *   5. wait until no other live choosing flag exists (LIST c-), then until no live ticket
 *      orders before ours (LIST t-), in that order
 *   6. critical section; DELETE our ticket
 *
 * Every object has a unique name, so nothing is ever overwritten except our own ticket when it is
 * refreshed. Crashed holders are skipped once their objects are older than the lease; a holder
 * that overruns half its lease gives up before acting (LockLostError) instead of acting late.
 *
 * Ages are measured on the store's clock (the `Date` of its responses, lib/storage/clock.ts), not
 * this machine's: LastModified is the store's time, and a skewed local clock must not make a live
 * holder look expired. How long we have held the lock is measured on the monotonic clock.
 */
import crypto from 'node:crypto';
import { putObject, deleteObject, listAll, storageError } from './objects.js';
import { keys, parseLockKey } from './keys.js';
import { monotonicMs, storeNow } from './clock.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';

export interface LockOptions {
  leaseMs?: number;
  /** Give up waiting after this long (default 2 × lease). */
  waitMs?: number;
}

export class LockLostError extends LakehouseError {
  constructor(scope: string) {
    super('lock_timeout', `Could not hold the lock for ${scope} long enough; try again.`);
  }
}

const TICKET_DIGITS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is a lock object younger than the lease? `now` is the store's time when it was listed. */
function live(lastModified: Date | undefined, leaseMs: number, now: number): boolean {
  if (!lastModified) return true;
  return now - lastModified.getTime() < leaseMs;
}

interface Ticket {
  n: number;
  id: string;
  key: string;
  live: boolean;
}

function parseTicket(scope: string, key: string, lastModified: Date | undefined, leaseMs: number, now: number): Ticket | undefined {
  const p = parseLockKey(scope, key);
  if (!p || p.kind !== 'ticket') return undefined;
  return { n: p.n, id: p.id, key, live: live(lastModified, leaseMs, now) };
}

export interface LockGuard {
  /** Throws LockLostError when the lock may no longer be ours (held past half the lease). Call right before acting. */
  check(): void;
}

const before = (a: { n: number; id: string }, b: { n: number; id: string }) => a.n < b.n || (a.n === b.n && a.id < b.id);

export async function withLock<T>(scope: string, fn: (guard: LockGuard) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const leaseMs = opts.leaseMs ?? 30_000;
  const waitMs = opts.waitMs ?? 2 * leaseMs;
  const id = crypto.randomUUID();
  const choosingKey = keys.lockChoosing(scope, id);
  const started = monotonicMs();

  await putObject(choosingKey, '', {}).catch((e) => {
    throw storageError('lock', e);
  });
  let ticketKey: string | undefined;
  try {
    const existing = await listAll(keys.lockTicketPrefix(scope));
    const listedAt = storeNow();
    let max = 0;
    for (const o of existing.objects) {
      const t = parseTicket(scope, o.Key!, o.LastModified, leaseMs, listedAt);
      if (t && t.live) max = Math.max(max, t.n);
    }
    const mine = { n: max + 1, id };
    ticketKey = keys.lockTicket(scope, mine.n, TICKET_DIGITS, id);
    await putObject(ticketKey, '', {}).catch((e) => {
      throw storageError('lock', e);
    });
    let touched = monotonicMs();
    await deleteObject(choosingKey);

    // wait for our turn
    let pause = 5;
    for (;;) {
      if (monotonicMs() - started > waitMs) throw new LockLostError(scope);
      if (monotonicMs() - touched > leaseMs / 4) {
        await putObject(ticketKey, '', {}).catch((e) => {
          throw storageError('lock', e);
        });
        touched = monotonicMs();
      }
      const choosing = await listAll(keys.lockChoosingPrefix(scope));
      const choosingAt = storeNow();
      const othersChoosing = choosing.objects.filter((o) => o.Key !== choosingKey && live(o.LastModified, leaseMs, choosingAt));
      let ahead = 0;
      if (othersChoosing.length === 0) {
        const tickets = await listAll(keys.lockTicketPrefix(scope));
        const ticketsAt = storeNow();
        for (const o of tickets.objects) {
          const t = parseTicket(scope, o.Key!, o.LastModified, leaseMs, ticketsAt);
          if (!t || t.key === ticketKey) continue;
          if (!t.live) {
            // a crashed holder: clean up (deleting is idempotent; a late holder re-checks its lease)
            void deleteObject(t.key).catch(() => undefined);
            continue;
          }
          if (before(t, mine)) ahead++;
        }
        if (ahead === 0) break;
      } else {
        for (const o of choosing.objects) {
          if (o.Key !== choosingKey && !live(o.LastModified, leaseMs, choosingAt)) void deleteObject(o.Key!).catch(() => undefined);
        }
      }
      // back off in proportion to the queue ahead of us, with jitter
      pause = Math.min(250, Math.max(5, ahead * 8, pause * 1.5));
      await sleep(pause * (0.5 + Math.random()));
    }

    const holdStart = touched;
    const guard: LockGuard = {
      check() {
        if (monotonicMs() - holdStart > leaseMs / 2) throw new LockLostError(scope);
      },
    };
    return await fn(guard);
  } finally {
    await deleteObject(choosingKey).catch(() => undefined);
    if (ticketKey) {
      await deleteObject(ticketKey).catch((e) => log.warn('lock release failed', { scope, err: e }));
    }
  }
}
