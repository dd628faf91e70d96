/**
 * The SQL sandbox, in layers (docs/adr/0003-sql-sandbox.md):
 *   1. exactly one statement (DuckDB's own parser: extractStatements);
 *   2. only SELECT-family statements: DuckDB must be able to serialise it as a SELECT
 *      (json_serialize_sql), and the prepared statement's type must be SELECT;
 *   3. a policy over DuckDB's own AST: table functions from an allowlist only, no functions that
 *      read settings, the environment or files, and table references only to datasets and CTEs;
 *   4. DuckDB's native lock-down, set once per engine: no external access outside the cache,
 *      no extension loading, configuration locked (lib/query/engine.ts).
 * Error messages are redacted of credentials and local paths.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LakehouseError, badRequest, forbidden } from '../errors.js';
import { redact } from '../redact.js';
import { tableFilter, type TableFilter } from './prune.js';

export const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest', 'json_each', 'json_tree']);

const DENIED_FUNCTION =
  /^(current_setting|getenv|get_env|setenv|duckdb_.*|pragma_.*|read_.*|glob|sniff_csv|parquet_.*|iceberg_.*|delta_.*|which_secret|load_.*|install_.*|enable_.*|disable_.*|checkpoint|force_checkpoint|set_.*|query|query_table|sql_auto_complete|ducklake_.*|postgres_.*|mysql_.*|sqlite_.*)$/i;

export interface TableRef {
  catalog: string;
  schema: string;
  name: string;
}

export interface SqlShape {
  tables: TableRef[];
  ctes: Set<string>;
  /** DESCRIBE / SHOW: schema only, no data needed. */
  schemaOnly: boolean;
  /** The WHERE conjuncts on one dataset that can prune its objects (prune.ts), when the shape allows. */
  filter?: TableFilter;
}

export const forbiddenStatement = (message: string) => forbidden('forbidden_statement', message);

export function sqlError(message: string, extra: (s: string) => string = (s) => s): LakehouseError {
  return badRequest('sql_error', extra(redact(message)));
}

/** DuckDB's message without its internal detail lines. */
export function duckMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 1000);
}

export async function inspectSql(con: DuckDBConnection, sql: string, clean: (s: string) => string): Promise<SqlShape> {
  let count: number;
  try {
    count = (await con.extractStatements(sql)).count;
  } catch (e) {
    throw sqlError(duckMessage(e), clean);
  }
  if (count === 0) throw badRequest('sql_error', 'No SQL statement was given.');
  if (count > 1) throw forbiddenStatement(`Exactly one statement per request is allowed; found ${count}.`);

  const r = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const ast = JSON.parse(String(r.getRows()[0]![0])) as { error: boolean; error_message?: string; statements?: unknown[] };
  if (ast.error) {
    throw forbiddenStatement(
      'Only read-only queries are allowed (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE); this statement is not one.',
    );
  }
  const shape: SqlShape = { tables: [], ctes: new Set(), schemaOnly: false };
  let sawShow = false;
  let sawData = false;
  const stack: unknown[] = [ast.statements];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const o = node as Record<string, unknown>;
    if (o.type === 'BASE_TABLE') {
      shape.tables.push({
        catalog: String(o.catalog_name ?? ''),
        schema: String(o.schema_name ?? ''),
        name: String(o.table_name ?? ''),
      });
    } else if (o.type === 'TABLE_FUNCTION') {
      const fn = (o.function as Record<string, unknown> | undefined)?.function_name;
      const name = String(fn ?? '').toLowerCase();
      if (!ALLOWED_TABLE_FUNCTIONS.has(name)) {
        throw forbiddenStatement(
          `Table function ${name || '(unknown)'}() is not allowed: queries read datasets by name, never files, URLs or system state.`,
        );
      }
    } else if (o.type === 'SHOW_REF') {
      if (!allowedShow(o)) {
        throw forbiddenStatement('Of the SHOW statements only SHOW TABLES, DESCRIBE and SUMMARIZE are allowed: the others describe the engine, not the datasets.');
      }
      if (o.show_type === 'SUMMARY') sawData = true;
      else sawShow = true;
    }
    // every function call of any kind (scalar, aggregate, window, macro) has a function_name
    if (typeof o.function_name === 'string' && DENIED_FUNCTION.test(o.function_name)) {
      throw forbiddenStatement(`Function ${o.function_name}() is not allowed: it reads settings, the environment or files.`);
    }
    const cte = (o.cte_map as { map?: Array<{ key: string }> } | undefined)?.map;
    if (Array.isArray(cte)) for (const c of cte) shape.ctes.add(String(c.key).toLowerCase());
    for (const v of Object.values(o)) if (v && typeof v === 'object') stack.push(v);
  }
  shape.schemaOnly = sawShow && !sawData;
  // only when the dataset is named once: a subquery reading it too must see every object
  const filter = tableFilter(ast.statements);
  if (filter && shape.tables.filter((t) => t.name.toLowerCase() === filter.table).length === 1) shape.filter = filter;
  return shape;
}

/**
 * DESCRIBE / SUMMARIZE (their query is checked like any other), SHOW TABLES, and SHOW TABLES FROM
 * main. Not SHOW ALL TABLES, SHOW DATABASES or SHOW SCHEMAS: they list the engine's own databases
 * (native-tables.ts) and DuckDB's internal schemas.
 */
function allowedShow(o: Record<string, unknown>): boolean {
  if (o.show_type === 'DESCRIBE' || o.show_type === 'SUMMARY') return true;
  if (o.show_type === 'SHOW_UNQUALIFIED') return o.table_name === '"tables"';
  if (o.show_type === 'SHOW_FROM') {
    const catalog = String(o.catalog_name ?? '').toLowerCase();
    return (catalog === '' || catalog === 'memory') && String(o.schema_name ?? '').toLowerCase() === 'main';
  }
  return false;
}

const FILEISH = /[/\\:]|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|gz|zst|xlsx?|arrow|db|duckdb|sqlite)$/i;

/**
 * Classifies table references once the engine knows which datasets exist. Returns the dataset
 * names the query needs. Qualified names (information_schema, pg_catalog, other catalogs) and
 * file-like names are refused; unknown names are a plain SQL error.
 */
export function resolveTables(shape: SqlShape, isDataset: (name: string) => boolean): string[] {
  const needed = new Set<string>();
  for (const t of shape.tables) {
    const name = t.name.toLowerCase();
    const qualified = (t.catalog && t.catalog.toLowerCase() !== 'memory') || (t.schema && t.schema.toLowerCase() !== 'main');
    // a dataset first: a CTE of the same name may exist in one scope while another scope reads the
    // dataset (CTE names are not global); materialising it when unneeded costs only a fetch
    if (!qualified && isDataset(name)) {
      needed.add(name);
      continue;
    }
    if (!qualified && shape.ctes.has(name)) continue;
    if (qualified) {
      throw forbiddenStatement(`Only datasets can be queried; "${[t.catalog, t.schema, t.name].filter(Boolean).join('.')}" is not one.`);
    }
    if (FILEISH.test(t.name)) {
      throw forbiddenStatement('Reading files or URLs is not allowed; query a dataset by its name.');
    }
    throw badRequest('sql_error', `Table "${t.name.slice(0, 200)}" does not exist.`, { table: t.name.slice(0, 200) });
  }
  return [...needed];
}
