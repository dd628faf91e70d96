/**
 * Files shared by every query engine on one machine (serverless-offline runs each concurrent
 * request's engine in a worker thread of one process; on Lambda each container has its own /tmp,
 * so there is only ever one engine here).
 *
 *   <root>/objects/<name>          a finished file, immutable, never rewritten
 *   <root>/objects/<name>.lock     a claim: one engine is producing <name> (O_EXCL create)
 *   <root>/objects/<name>.<rand>.part   the producer's work file, renamed into place when complete
 *
 * `fetchShared` hard-links the finished file into the caller's private directory, producing it
 * first when it is absent — exactly one producer per file at a time, whatever the number of engines
 * and processes: the others wait for the file to appear (or for the claim to go, and try again). A
 * claim is refreshed while its producer works; one left by a dead producer is taken over once it is
 * older than STALE_MS. A private link keeps its bytes when the shared name is removed, so
 * `unshare` removes the shared name only when no engine links it any more.
 *
 * `claim` is the same claim for a one-off task (a catalog snapshot write): one engine does it, the
 * others skip.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A claim not refreshed for this long belongs to a dead producer. */
export const STALE_MS = 15_000;
const REFRESH_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SharedFetch {
  size: number;
  /** Whether this call produced the file (false: linked an existing one). */
  produced: boolean;
}

export class SharedStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'objects');
    fs.mkdirSync(this.dir, { recursive: true });
  }

  pathOf(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * Makes `target` a link to the shared file `name`, running `produce(tmpFile)` first when no engine
   * has it (it must write the complete file at tmpFile, or throw).
   */
  async fetchShared(name: string, target: string, produce: (tmp: string) => Promise<void>): Promise<SharedFetch> {
    const shared = this.pathOf(name);
    const lock = `${shared}.lock`;
    let pause = 10;
    for (;;) {
      const linked = linkInto(shared, target);
      if (linked !== undefined) return { size: linked, produced: false };
      const claim = tryClaim(lock);
      if (claim) {
        try {
          // double-checked: a producer may have finished between our link attempt and our claim
          const late = linkInto(shared, target);
          if (late !== undefined) return { size: late, produced: false };
          const tmp = `${shared}.${crypto.randomBytes(6).toString('hex')}.part`;
          const keepAlive = setInterval(() => touch(lock), REFRESH_MS);
          keepAlive.unref();
          try {
            await produce(tmp);
            fs.renameSync(tmp, shared);
          } catch (e) {
            fs.rmSync(tmp, { force: true });
            throw e;
          } finally {
            clearInterval(keepAlive);
          }
          const size = linkInto(shared, target);
          if (size === undefined) throw new Error('shared cache: a produced file vanished before it was linked');
          return { size, produced: true };
        } finally {
          claim.release();
        }
      }
      // another engine is producing it: wait for the file, the claim's end, or its staleness
      if (isStale(lock)) fs.rmSync(lock, { force: true });
      await sleep(pause);
      pause = Math.min(100, pause * 1.5);
    }
  }

  /** Removes our private link; the shared name goes too once no other engine links it. */
  unshare(name: string, privateFile: string): void {
    fs.rmSync(privateFile, { force: true });
    const shared = this.pathOf(name);
    try {
      if (fs.statSync(shared).nlink <= 1) fs.rmSync(shared, { force: true });
    } catch {
      /* already gone */
    }
  }

  /**
   * A one-off task on this machine: a claim for the one caller that should do it now (undefined:
   * another engine is doing it); release it when done, so a later caller can check and skip.
   */
  claim(name: string): { release(): void } | undefined {
    const marker = `${this.pathOf(name)}.lock`;
    if (isStale(marker)) fs.rmSync(marker, { force: true });
    return tryClaim(marker);
  }

  /** Leftovers of dead engines: unlinked shared files, stale claims and work files older than `ms`. */
  sweep(ms: number): void {
    const cutoff = Date.now() - ms;
    for (const f of safeReaddir(this.dir)) {
      const p = path.join(this.dir, f);
      try {
        const st = fs.statSync(p);
        if (st.mtimeMs >= cutoff) continue;
        if (f.endsWith('.lock') || f.endsWith('.part') || st.nlink <= 1) fs.rmSync(p, { force: true });
      } catch {
        /* raced with its owner */
      }
    }
  }
}

/** Links `shared` at `target` and returns its size, or undefined when `shared` does not exist. */
function linkInto(shared: string, target: string): number | undefined {
  try {
    fs.linkSync(shared, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EEXIST') {
      // a leftover of ours: replace it with the shared file
      fs.rmSync(target, { force: true });
      return linkInto(shared, target);
    }
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') {
      // no hard links here: a copy (still one download)
      try {
        fs.copyFileSync(shared, target);
      } catch (c) {
        if ((c as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw c;
      }
    } else {
      throw e;
    }
  }
  return fs.statSync(target).size;
}

function tryClaim(lock: string): { release(): void } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  fs.closeSync(fd);
  return { release: () => fs.rmSync(lock, { force: true }) };
}

function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    /* gone: the claim was taken over */
  }
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
