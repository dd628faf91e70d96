/**
 * The request's deadline (LAKEHOUSE_SQL_TIMEOUT_MS). When it passes, every registered action runs
 * (interrupting the connection) and check() throws from then on, so work that is between two
 * statements (downloading, refreshing, uploading) stops at its next phase instead of running a
 * statement without a limit.
 */
import { queryTimeout } from './duck-errors.js';

export class Deadline {
  private expiredAt: number | undefined;
  private readonly actions = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  /** Resolves when the deadline passes (never, once cancelled). */
  readonly passed: Promise<void>;

  constructor(readonly ms: number) {
    let fire!: () => void;
    this.passed = new Promise<void>((r) => (fire = r));
    this.timer = setTimeout(() => {
      this.expiredAt = Date.now();
      for (const a of this.actions) {
        try {
          a();
        } catch {
          /* an action failing must not stop the others */
        }
      }
      fire();
    }, ms);
  }

  get expired(): boolean {
    return this.expiredAt !== undefined;
  }

  /** Runs `action` when the deadline passes (at once if it has); the returned function unregisters it. */
  onExpire(action: () => void): () => void {
    if (this.expired) {
      action();
      return () => undefined;
    }
    this.actions.add(action);
    return () => this.actions.delete(action);
  }

  /** Throws the timeout error once the deadline has passed. */
  check(): void {
    if (this.expired) throw queryTimeout();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.actions.clear();
  }
}
