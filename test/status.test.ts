/**
 * Issue 12: HTTP statuses are chosen in one table (lib/http/status.ts), not where errors are
 * thrown. Every code the code base throws has a row, and the table agrees with openapi.yaml.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { STATUS_BY_CODE } from '../lib/http/status.js';
import { openapiDocument } from '../lib/http/openapi.js';
import { LakehouseError } from '../lib/errors.js';
import { errorResponse } from '../lib/http/errors.js';

/** Codes given at throw sites in lib/ and functions/ (ingest-only codes go to status records, not HTTP). */
function thrownCodes(): Set<string> {
  const files = execFileSync('git', ['ls-files', 'lib', 'functions'], { encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.ts'));
  const codes = new Set<string>();
  const re = /\b(?:badRequest|forbidden|conflict|tooLarge|unavailable|new LakehouseError|super)\(\s*'([a-z_]+)'/g;
  for (const f of files) for (const m of fs.readFileSync(f, 'utf8').matchAll(re)) codes.add(m[1]!);
  for (const fixed of ['not_found', 'unauthorized', 'timeout', 'internal']) codes.add(fixed);
  return codes;
}

describe('the code → status table', () => {
  it('has a row for every code thrown in lib/ and functions/', () => {
    const missing = [...thrownCodes()].filter((c) => STATUS_BY_CODE[c] === undefined);
    expect(missing).toEqual([]);
  });

  it('agrees with every error code openapi.yaml lists under a status', () => {
    const doc = JSON.stringify(openapiDocument());
    const parsed = JSON.parse(doc) as { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>; components: Record<string, Record<string, unknown>> };
    const resolve = (x: unknown): unknown => {
      const ref = (x as { $ref?: string })?.$ref;
      if (!ref) return x;
      const [, , kind, name] = ref.split('/');
      return resolve(parsed.components[kind!]![name!]);
    };
    const disagreements: string[] = [];
    const checked = new Set<string>();
    const codesIn = (x: unknown, out: string[] = []): string[] => {
      if (!x || typeof x !== 'object') return out;
      const o = x as Record<string, unknown>;
      // a $ref with siblings (the envelope narrowed to some codes): the siblings hold the enum
      if (typeof o.$ref === 'string' && Object.keys(o).length === 1) return codesIn(resolve(o), out);
      const code = (o as { properties?: { code?: { enum?: string[] } } }).properties?.code?.enum;
      if (code) out.push(...code);
      for (const [k, v] of Object.entries(o)) if (k !== '$ref' && v && typeof v === 'object') codesIn(v, out);
      return out;
    };
    for (const ops of Object.values(parsed.paths)) {
      for (const op of Object.values(ops)) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (!/^[45]\d\d$/.test(status)) continue;
          for (const code of codesIn(resolve(response))) {
            checked.add(code);
            if (STATUS_BY_CODE[code] !== Number(status)) disagreements.push(`${code}: openapi ${status}, table ${STATUS_BY_CODE[code]}`);
          }
        }
      }
    }
    expect(checked.size).toBeGreaterThan(25);
    expect([...new Set(disagreements)]).toEqual([]);
  });

  it('is what the error response uses', () => {
    expect(errorResponse(new LakehouseError('schema_conflict', 'x')).status).toBe(409);
    expect(errorResponse(new LakehouseError('cache_too_small', 'x')).status).toBe(507);
    expect(errorResponse(new LakehouseError('no_such_code', 'x')).status).toBe(500);
  });
});
