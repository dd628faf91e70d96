/**
 * Local cache of Parquet objects for DuckDB (httpfs is not available, and a local read is faster
 * anyway). Keys under datasets/ are immutable, so a cached file is always valid. Files are named by
 * a hash of the key (paths reveal nothing), downloaded once even when many queries want them at
 * the same time — in this engine (one in-flight download per key) and across the engines of the
 * machine (shared-store.ts: one producer, the others hard-link its file) — pinned while a query
 * uses them, and evicted least-recently-used beyond LAKEHOUSE_CACHE_MAX_BYTES (each engine counts
 * the files it links).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { downloadToFile } from '../storage/objects.js';
import { LakehouseError } from '../errors.js';
import { log } from '../log.js';
import { SharedStore } from './shared-store.js';

/** For tests: a hook awaited before each download (to make materialisation slow). */
export const cacheTestHooks: { beforeDownload?: (key: string) => Promise<void> } = {};

interface Entry {
  key: string;
  file: string;
  size: number;
  lastUsed: number;
  pins: number;
}

export class ObjectCache {
  readonly dir: string;
  private readonly maxBytes: () => number;
  private entries = new Map<string, Entry>();
  private inflight = new Map<string, Promise<Entry>>();
  private total = 0;
  private readonly shared: SharedStore;
  /** Objects this engine downloaded, and those it linked from another engine's download. */
  downloads = 0;
  linked = 0;
  evictions = 0;
  /** Called with the keys whose files were removed (views using them must be rebuilt). */
  onEvict: (keys: string[]) => void = () => undefined;

  /**
   * `root` is shared by every engine on the machine (worker threads locally); each engine owns a
   * private subdirectory of it, removed at exit, whose files are links into the shared store
   * (`root/objects`). Leftovers of dead engines older than a day go.
   */
  constructor(root: string, maxBytes: () => number) {
    fs.mkdirSync(root, { recursive: true });
    this.shared = new SharedStore(root);
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    this.shared.sweep(24 * 3600 * 1000);
    for (const f of fs.readdirSync(root)) {
      const p = path.join(root, f);
      if (p === this.shared.dir) continue;
      try {
        if (fs.statSync(p).mtimeMs < dayAgo) fs.rmSync(p, { force: true, recursive: true });
      } catch {
        /* raced with its owner */
      }
    }
    this.dir = fs.mkdtempSync(path.join(root, 'c-'));
    this.maxBytes = maxBytes;
    process.once('exit', this.dispose);
  }

  /** Removes this engine's files (at exit, or when the engine is dropped); shared files no engine links go too. */
  readonly dispose = (): void => {
    process.removeListener('exit', this.dispose);
    for (const e of this.entries.values()) this.shared.unshare(this.nameFor(e.key), e.file);
    this.entries.clear();
    this.total = 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  private nameFor(key: string): string {
    return `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)}.parquet`;
  }

  fileFor(key: string): string {
    return path.join(this.dir, this.nameFor(key));
  }

  get bytes(): number {
    return this.total;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Makes every key local and pins it until release() is called with the same keys.
   * `expectedBytes` lets a query that cannot fit fail before downloading anything.
   */
  async acquire(keyList: string[], expectedBytes?: number): Promise<string[]> {
    const max = this.maxBytes();
    if (expectedBytes !== undefined && expectedBytes > max) {
      throw new LakehouseError(
        'cache_too_small',
        `The query needs ${expectedBytes} bytes of data; the local cache holds at most ${max} (LAKEHOUSE_CACHE_MAX_BYTES).`,
      );
    }
    // fetched 16 at a time (a dataset of many small objects is latency-bound); each entry is
    // pinned the moment it is there, and every pin taken is released if any fetch fails
    const pinned: Array<Entry | undefined> = new Array(keyList.length);
    const failures: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < keyList.length && !failures.length) {
        const i = next++;
        try {
          const e = await this.get(keyList[i]!);
          e.pins++;
          e.lastUsed = Date.now();
          pinned[i] = e;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, keyList.length) }, worker));
    if (failures.length) {
      for (const p of pinned) if (p) p.pins--;
      throw failures[0];
    }
    this.evict();
    return pinned.map((e) => e!.file);
  }

  /** A one-off task for one engine of the machine (shared-store.ts `claim`): undefined when another has it. */
  claim(task: string): { release(): void } | undefined {
    return this.shared.claim(task);
  }

  /** Keys pinned by a query right now (tests: nothing stays pinned after a request). */
  pinnedKeys(): string[] {
    return [...this.entries.values()].filter((e) => e.pins > 0).map((e) => e.key);
  }

  release(keyList: string[]): void {
    for (const k of keyList) {
      const e = this.entries.get(k);
      if (e && e.pins > 0) e.pins--;
    }
    this.evict();
  }

  private async get(key: string): Promise<Entry> {
    const have = this.entries.get(key);
    if (have) return have;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.download(key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async download(key: string): Promise<Entry> {
    const file = this.fileFor(key);
    const got = await this.shared.fetchShared(this.nameFor(key), file, async (tmp) => {
      if (cacheTestHooks.beforeDownload) await cacheTestHooks.beforeDownload(key);
      await downloadToFile(key, tmp);
    });
    if (got.produced) this.downloads++;
    else this.linked++;
    const e: Entry = { key, file, size: got.size, lastUsed: Date.now(), pins: 0 };
    this.entries.set(key, e);
    this.total += got.size;
    return e;
  }

  private evict(): void {
    const max = this.maxBytes();
    if (this.total <= max) return;
    const victims = [...this.entries.values()].filter((e) => e.pins === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    const removed: string[] = [];
    for (const v of victims) {
      if (this.total <= max) break;
      this.shared.unshare(this.nameFor(v.key), v.file);
      this.entries.delete(v.key);
      this.total -= v.size;
      this.evictions++;
      removed.push(v.key);
    }
    if (removed.length) {
      log.info('cache eviction', { evicted: removed.length, bytes: this.total, max });
      this.onEvict(removed);
    }
  }
}
