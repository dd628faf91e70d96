/**
 * Register semantics (seed ADR-020 + docs/api.md): same name + fingerprint → existing, same
 * dataset_id, objects replaced (or added in append mode), updated_at bumped; new name → created;
 * different fingerprint → 409 schema_conflict with a diff. Objects must exist and live under
 * datasets/<name>/.
 */
import crypto from 'node:crypto';
import { badRequest, conflict, notFound } from '../errors.js';
import { normalizeName } from '../names.js';
import { headObject } from '../storage/objects.js';
import { keyProblem, keys } from '../storage/keys.js';
import {
  datasetId,
  fingerprint,
  isDropped,
  schemaDiff,
  sumRows,
  validateSchema,
  type ObjectRef,
  type SchemaChangeEntry,
  type SchemaColumn,
  type StoredManifest,
} from './manifest.js';
import { evolveSchema } from './evolve.js';
import { unsafeIntegers } from './integer-range.js';
import { commit, mapLimit, readHead, readVersion, type Decision } from './store.js';

export type Mode = 'replace' | 'append';
/**
 * What a commit with another schema does (contract v2, docs/api.md): `fail` (409 schema_conflict
 * with the diff), `evolve` (an append adds columns and widens types where no value changes:
 * evolve.ts) or `overwrite` (a replace installs the new schema as the next version).
 */
export type SchemaChange = 'fail' | 'evolve' | 'overwrite';
export const MAX_OBJECTS = 10_000;

export interface RegisterRequest {
  name: string;
  schema: SchemaColumn[];
  schema_fingerprint: string;
  objects: ObjectRef[];
  row_count: number | null;
  mode: Mode;
  schemaChange?: SchemaChange;
}

function nonNegInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw badRequest('invalid_request', `${what} must be a non-negative integer.`);
  }
  return v;
}

export function parseSchemaChange(v: unknown, mode: Mode): SchemaChange {
  if (v === undefined || v === null || v === 'fail') return 'fail';
  if (v === 'overwrite') {
    if (mode !== 'replace') throw badRequest('invalid_schema_change', 'schema_change "overwrite" needs mode "replace".');
    return v;
  }
  if (v === 'evolve') {
    if (mode !== 'append') throw badRequest('invalid_schema_change', 'schema_change "evolve" needs mode "append" (a replace with another schema is "overwrite").');
    return v;
  }
  throw badRequest('invalid_schema_change', 'schema_change must be "fail", "evolve" or "overwrite".');
}

/** Does a commit with this schema conflict with the dataset's current one? */
export function conflicts(head: StoredManifest | undefined, fp: string, schemaChange: SchemaChange | undefined): boolean {
  return head !== undefined && head.schema_fingerprint !== fp && schemaChange !== 'overwrite' && schemaChange !== 'evolve';
}

export function parseMode(v: unknown): Mode {
  if (v === undefined || v === null) return 'replace';
  if (v === 'replace' || v === 'append') return v;
  throw badRequest('invalid_mode', 'mode must be "replace" or "append".');
}

/** Validates a register request body (shape only; objects are checked against the store later). */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalid_request', 'The request body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  const name = normalizeName(b.name);
  const schema = validateSchema(b.schema);
  const fp = fingerprint(schema);
  if (b.schema_fingerprint !== undefined && b.schema_fingerprint !== fp) {
    throw badRequest('fingerprint_mismatch', 'schema_fingerprint does not match the schema.', {
      expected: fp,
      given: typeof b.schema_fingerprint === 'string' ? b.schema_fingerprint.slice(0, 100) : null,
    });
  }
  if (!Array.isArray(b.objects)) throw badRequest('invalid_request', 'objects must be an array of {key, size, row_count}.');
  if (b.objects.length > MAX_OBJECTS) throw badRequest('too_many_objects', `At most ${MAX_OBJECTS} objects per register.`);
  const prefix = keys.datasetPrefix(name);
  const seen = new Set<string>();
  const objects = b.objects.map((o, i): ObjectRef => {
    const obj = o as Record<string, unknown>;
    if (!obj || typeof obj !== 'object') throw badRequest('invalid_request', `objects[${i}] must be an object.`);
    const key = obj.key;
    const problem = keyProblem(key);
    if (problem) throw badRequest('invalid_key', `objects[${i}].key is invalid: ${problem}.`);
    if (!(key as string).startsWith(prefix)) {
      throw badRequest('invalid_key', `objects[${i}].key must live under ${prefix}.`, { key: (key as string).slice(0, 300) });
    }
    if (seen.has(key as string)) throw badRequest('invalid_request', `objects[${i}].key appears twice.`);
    seen.add(key as string);
    return {
      key: key as string,
      size: obj.size === undefined ? -1 : nonNegInt(obj.size, `objects[${i}].size`),
      row_count: obj.row_count === undefined || obj.row_count === null ? null : nonNegInt(obj.row_count, `objects[${i}].row_count`),
    };
  });
  const rowCount = b.row_count === undefined || b.row_count === null ? null : nonNegInt(b.row_count, 'row_count');
  const mode = parseMode(b.mode);
  return { name, schema, schema_fingerprint: fp, objects, row_count: rowCount, mode, schemaChange: parseSchemaChange(b.schema_change, mode) };
}

/** HEADs every object: it must exist, and match its declared size. Fills in unknown sizes. */
export async function verifyObjects(objects: ObjectRef[]): Promise<ObjectRef[]> {
  return mapLimit(objects, 16, async (o) => {
    const h = await headObject(o.key);
    if (!h) throw badRequest('object_not_found', `Object ${o.key} does not exist.`, { key: o.key });
    if (o.size >= 0 && o.size !== h.size) {
      throw badRequest('object_size_mismatch', `Object ${o.key} is ${h.size} bytes, not ${o.size}.`, {
        key: o.key,
        size: h.size,
      });
    }
    return { ...o, size: h.size };
  });
}

export function schemaConflict(name: string, head: StoredManifest, schema: SchemaColumn[], fp: string) {
  return conflict('schema_conflict', `Dataset "${name}" has a different schema; the upload's schema does not match.`, {
    name,
    current_fingerprint: head.schema_fingerprint,
    new_fingerprint: fp,
    diff: schemaDiff(head.schema, schema),
  });
}

/** An overwrite's changes, column by column. */
function overwriteChanges(from: SchemaColumn[], to: SchemaColumn[]): SchemaChangeEntry[] {
  const d = schemaDiff(from, to);
  return [
    ...d.added.map((c): SchemaChangeEntry => ({ change: 'added', name: c.name, to: c.type })),
    ...d.removed.map((c): SchemaChangeEntry => ({ change: 'removed', name: c.name, from: c.type })),
    ...d.changed.map((c): SchemaChangeEntry => ({ change: 'changed', name: c.name, from: c.from, to: c.to })),
  ];
}

export interface CommitOptions {
  /** Re-applying the same change is a no-op (ingest retries); the API register always commits. */
  idempotent?: boolean;
  commitId?: string;
  beforeWrite?: () => Promise<void>;
  /** The objects are still going up: prepare the commit meanwhile (lib/catalog/store.ts CommitHooks). */
  objectsWritten?: Promise<void>;
  /** New objects that are local files with the same bytes (lib/catalog/store.ts CommitHooks). */
  localObjects?: ReadonlyMap<string, string>;
}

function laterThan(prevIso: string | undefined): string {
  const now = Date.now();
  const prev = prevIso ? Date.parse(prevIso) : 0;
  return new Date(Math.max(now, prev + 1)).toISOString();
}

/** Commits already-verified objects. Returns the manifest and whether the dataset existed. */
export async function commitObjects(req: RegisterRequest, opts: CommitOptions = {}) {
  const commitId = opts.commitId ?? crypto.randomUUID();
  let existing = false;
  const result = await commit(
    req.name,
    async (head, ctx): Promise<Decision> => {
      existing = head !== undefined;
      if (head && conflicts(head, req.schema_fingerprint, req.schemaChange)) {
        throw schemaConflict(req.name, head, req.schema, req.schema_fingerprint);
      }
      const newKeys = new Set(req.objects.map((o) => o.key));
      if (head && opts.idempotent) {
        const headKeys = new Set(head.objects.map((o) => o.key));
        const applied =
          req.mode === 'append'
            ? [...newKeys].every((k) => headKeys.has(k))
            : headKeys.size === newKeys.size && [...newKeys].every((k) => headKeys.has(k));
        if (applied) return { kind: 'noop', result: head };
      }
      const evolving = head !== undefined && head.schema_fingerprint !== req.schema_fingerprint && req.schemaChange === 'evolve';
      const evo = evolving ? evolveSchema(head.schema, req.schema) : undefined;
      if (evo?.integerToDouble.length) {
        // reads the new objects' footers: they must be there
        await opts.objectsWritten;
        const keysToCheck = [...head!.objects.map((o) => o.key), ...req.objects.map((o) => o.key)];
        const problem = await unsafeIntegers(keysToCheck, evo.integerToDouble);
        if (problem) {
          throw conflict('schema_conflict', `Column "${problem.column}" cannot widen from BIGINT to DOUBLE without changing values: ${problem.reason}.`, {
            name: req.name,
            current_fingerprint: head!.schema_fingerprint,
            new_fingerprint: req.schema_fingerprint,
            diff: schemaDiff(head!.schema, req.schema),
          });
        }
      }
      const schema = evo ? evo.schema : req.schema;
      const fp = evo ? fingerprint(schema) : req.schema_fingerprint;
      // every object keeps the schema it was written with, named when it is not the dataset's
      const own = (o: ObjectRef, objectFp: string): ObjectRef => {
        const { schema_fingerprint: _drop, ...rest } = o;
        return objectFp === fp ? rest : { ...rest, schema_fingerprint: objectFp };
      };
      const added = req.objects.map((o) => own(o, req.schema_fingerprint));
      const objects =
        req.mode === 'append' && head
          ? [...head.objects.filter((o) => !newKeys.has(o.key)).map((o) => own(o, o.schema_fingerprint ?? head.schema_fingerprint)), ...added]
          : added;
      const rows = sumRows(objects);
      const now = laterThan(head?.updated_at);
      const changes = evo
        ? evo.changes
        : head && head.schema_fingerprint !== fp
          ? overwriteChanges(head.schema, schema)
          : [];
      return {
        kind: 'write',
        next: {
          dataset_id: head?.dataset_id ?? datasetId(req.name, ctx.dropped?.version),
          name: req.name,
          schema_fingerprint: fp,
          schema,
          objects,
          row_count: rows ?? (req.mode === 'replace' || !head ? req.row_count : null),
          created_at: head?.created_at ?? now,
          updated_at: now,
          commit_id: commitId,
          mode: head ? req.mode : 'create',
          ...(changes.length ? { schema_changes: changes } : {}),
        },
      };
    },
    { beforeWrite: opts.beforeWrite, objectsWritten: opts.objectsWritten, localObjects: opts.localObjects },
  );
  return { manifest: result.manifest, existing, written: result.written };
}

/** POST /catalog/register. */
export async function register(body: unknown) {
  const req = parseRegisterRequest(body);
  const objects = await verifyObjects(req.objects);
  return commitObjects({ ...req, objects });
}

/**
 * A version of the live dataset of that name. Versions of a dropped dataset, and versions from
 * before a drop of a dataset created again, are not found.
 */
export async function getManifest(rawName: string, version?: string): Promise<StoredManifest> {
  const name = normalizeName(rawName);
  let m: StoredManifest | undefined;
  if (version !== undefined) {
    if (!/^\d{1,12}$/.test(version) || Number(version) < 1) {
      throw badRequest('invalid_version', 'version must be a positive integer.');
    }
    const [v, head] = await Promise.all([readVersion(name, Number(version)), readHead(name)]);
    m = v && head && v.dataset_id === head.dataset_id && !isDropped(v) ? v : undefined;
    if (!m) throw notFound(`Dataset "${name}" has no version ${version}.`);
  } else {
    m = await readHead(name);
    if (!m) throw notFound(`Dataset "${name}" does not exist.`);
  }
  return m;
}

/**
 * DELETE /catalog/manifests/{name}: commits a tombstone version. The dataset is gone from the
 * listing and from /sql at once; its objects are left to GC (after its grace period, counted from
 * the drop). The name can be used again: that is a new dataset with a new dataset_id.
 */
export async function dropDataset(rawName: string): Promise<{ name: string; dropped_version: number }> {
  const name = normalizeName(rawName);
  let dropped = 0;
  await commit(name, (head): Decision => {
    if (!head) throw notFound(`Dataset "${name}" does not exist.`);
    dropped = head.version;
    const now = laterThan(head.updated_at);
    return {
      kind: 'write',
      next: {
        dataset_id: head.dataset_id,
        name,
        schema_fingerprint: '',
        schema: [],
        objects: [],
        row_count: 0,
        created_at: head.created_at,
        updated_at: now,
        commit_id: crypto.randomUUID(),
        mode: 'drop',
      },
    };
  });
  return { name, dropped_version: dropped };
}
