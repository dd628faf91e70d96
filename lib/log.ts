/**
 * Structured JSON logs, one line per event, every field passed through redaction.
 * A request id set with withLogContext() is attached to each line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { redactValue } from './redact.js';
import { errorMessage } from './errors.js';
import { logSettings } from './config.js';

type Fields = Record<string, unknown>;
type Level = 'debug' | 'info' | 'warn' | 'error';

const context = new AsyncLocalStorage<Fields>();
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const l = logSettings.level() as Level;
  return LEVELS[l] ?? LEVELS.info;
}

export function withLogContext<T>(fields: Fields, fn: () => T): T {
  const parent = context.getStore() ?? {};
  return context.run({ ...parent, ...fields }, fn);
}

export function logContext(): Fields {
  return context.getStore() ?? {};
}

function emit(level: Level, msg: string, fields?: Fields): void {
  if (LEVELS[level] < threshold()) return;
  const line: Fields = { level, time: new Date().toISOString(), msg, ...logContext(), ...(fields ?? {}) };
  if (line.err !== undefined) line.err = describeError(line.err);
  let text: string;
  try {
    text = JSON.stringify(redactValue(line), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    text = JSON.stringify(redactValue({ level, msg, note: 'unserialisable log fields' }));
  }
  if (level === 'error' || level === 'warn') process.stderr.write(text + '\n');
  else process.stdout.write(text + '\n');
}

function describeError(e: unknown): Fields {
  if (e instanceof Error) {
    const f: Fields = { name: e.name, message: errorMessage(e) };
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') f.code = code;
    if (logSettings.stacks() && e.stack) f.stack = e.stack;
    return f;
  }
  return { message: errorMessage(e) };
}

export const log = {
  debug: (msg: string, fields?: Fields) => emit('debug', msg, fields),
  info: (msg: string, fields?: Fields) => emit('info', msg, fields),
  warn: (msg: string, fields?: Fields) => emit('warn', msg, fields),
  error: (msg: string, fields?: Fields) => emit('error', msg, fields),
};
