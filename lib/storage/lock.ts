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
 */
import crypto from 'node:crypto';
import { putObject, deleteObject, listAll, storageError } from './objects.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';

export interface LockOptions {
  leaseMs?: number;
  /** Give up waiting after this long (default 2 × lease). */
  waitMs?: number;
}

export class LockLostError extends LakehouseError {
  constructor(scope: string) {
    super('lock_timeout', `Could not hold the lock for ${scope} long enough; try again.`, 503);
  }
}

const TICKET_DIGITS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function live(lastModified: Date | undefined, leaseMs: number): boolean {
  if (!lastModified) return true;
  return Date.now() - lastModified.getTime() < leaseMs;
}

interface Ticket {
  n: number;
  id: string;
  key: string;
  live: boolean;
}

function parseTicket(key: string, prefix: string, lastModified: Date | undefined, leaseMs: number): Ticket | undefined {
  const rest = key.slice(prefix.length);
  const m = /^t-(\d+)-(.+)$/.exec(rest);
  if (!m) return undefined;
  return { n: Number(m[1]), id: m[2]!, key, live: live(lastModified, leaseMs) };
}

const before = (a: { n: number; id: string }, b: { n: number; id: string }) => a.n < b.n || (a.n === b.n && a.id < b.id);

export async function withLock<T>(scope: string, fn: (guard: { check(): void }) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const leaseMs = opts.leaseMs ?? 30_000;
  const waitMs = opts.waitMs ?? 2 * leaseMs;
  const prefix = `_locks/${scope}/`;
  const id = crypto.randomUUID();
  const choosingKey = `${prefix}c-${id}`;
  const started = Date.now();

  await putObject(choosingKey, '', {}).catch((e) => {
    throw storageError('lock', e);
  });
  let ticketKey: string | undefined;
  try {
    const existing = await listAll(`${prefix}t-`);
    let max = 0;
    for (const o of existing.objects) {
      const t = parseTicket(o.Key!, prefix, o.LastModified, leaseMs);
      if (t && t.live) max = Math.max(max, t.n);
    }
    const mine = { n: max + 1, id };
    ticketKey = `${prefix}t-${String(mine.n).padStart(TICKET_DIGITS, '0')}-${id}`;
    await putObject(ticketKey, '', {}).catch((e) => {
      throw storageError('lock', e);
    });
    let touched = Date.now();
    await deleteObject(choosingKey);

    // wait for our turn
    let pause = 5;
    for (;;) {
      if (Date.now() - started > waitMs) throw new LockLostError(scope);
      if (Date.now() - touched > leaseMs / 4) {
        await putObject(ticketKey, '', {}).catch((e) => {
          throw storageError('lock', e);
        });
        touched = Date.now();
      }
      const choosing = await listAll(`${prefix}c-`);
      const othersChoosing = choosing.objects.filter((o) => o.Key !== choosingKey && live(o.LastModified, leaseMs));
      let ahead = 0;
      if (othersChoosing.length === 0) {
        const tickets = await listAll(`${prefix}t-`);
        for (const o of tickets.objects) {
          const t = parseTicket(o.Key!, prefix, o.LastModified, leaseMs);
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
          if (o.Key !== choosingKey && !live(o.LastModified, leaseMs)) void deleteObject(o.Key!).catch(() => undefined);
        }
      }
      // back off in proportion to the queue ahead of us, with jitter
      pause = Math.min(250, Math.max(5, ahead * 8, pause * 1.5));
      await sleep(pause * (0.5 + Math.random()));
    }

    const holdStart = touched;
    const guard = {
      check() {
        if (Date.now() - holdStart > leaseMs / 2) throw new LockLostError(scope);
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
