/** Environment changes that last one test: setEnv() sets (or, with undefined, deletes) a variable, restored after the test. */
import { afterEach } from 'vitest';

export function scopedEnv(): (name: string, value: string | undefined) => void {
  const restore: Array<() => void> = [];
  afterEach(() => {
    while (restore.length) restore.pop()!();
  });
  return (name, value) => {
    const old = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    restore.push(() => (old === undefined ? delete process.env[name] : (process.env[name] = old)));
  };
}
