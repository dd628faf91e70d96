/**
 * Pruning: which of a dataset's objects a query can need, from its WHERE clause and the manifest's
 * per-object statistics (lib/catalog/stats.ts). Correctness first: only a statement of the simple
 * shape `SELECT … FROM <dataset> [alias] WHERE a AND b AND …` is considered, only conjuncts this
 * module understands exactly narrow the objects (`col op constant`, BETWEEN, IN, IS [NOT] NULL on
 * BIGINT, DOUBLE, DATE, TIMESTAMP and VARCHAR columns), and an object without exact statistics for
 * that column — or written with another schema (an evolved dataset) — is always kept. Anything else
 * keeps every object.
 */
import { compareText } from '../catalog/stats.js';
import type { ObjectRef, StoredManifest } from '../catalog/manifest.js';

type Op = '=' | '<' | '<=' | '>' | '>=' | 'in' | 'null' | 'notnull';

interface Literal {
  /** What DuckDB's AST says the constant is. */
  kind: 'int' | 'decimal' | 'double' | 'string' | 'date' | 'timestamp';
  text: string;
}

export interface Conjunct {
  column: string;
  op: Op;
  values: Literal[];
}

/** The prunable part of a statement: one dataset reference and the conjuncts on its columns. */
export interface TableFilter {
  table: string;
  alias: string;
  conjuncts: Conjunct[];
}

type Node = Record<string, unknown>;

const FLIP: Record<string, Op> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
const COMPARE: Record<string, Op> = {
  COMPARE_EQUAL: '=',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};

function literal(n: unknown): Literal | undefined {
  const o = n as Node | undefined;
  if (!o) return undefined;
  if (o.class === 'CAST' && (o as { try_cast?: boolean }).try_cast === false) {
    const target = ((o.cast_type as Node | undefined)?.id as string | undefined) ?? '';
    const inner = literal(o.child);
    if (!inner || inner.kind !== 'string') return undefined;
    if (target === 'DATE') return { kind: 'date', text: inner.text };
    if (target === 'TIMESTAMP') return { kind: 'timestamp', text: inner.text };
    return undefined;
  }
  if (o.class !== 'CONSTANT') return undefined;
  const v = o.value as { type?: { id?: string; type_info?: { scale?: number } }; is_null?: boolean; value?: unknown } | undefined;
  if (!v || v.is_null) return undefined;
  const id = v.type?.id;
  // the AST is JSON: an integer beyond 2^53 (a BIGINT literal, a DECIMAL's unscaled digits) was
  // rounded by JSON.parse, so it says nothing exact
  if (typeof v.value === 'number' && Number.isInteger(v.value) && !Number.isSafeInteger(v.value)) return undefined;
  if ((id === 'INTEGER' || id === 'BIGINT' || id === 'HUGEINT' || id === 'SMALLINT' || id === 'TINYINT') && (typeof v.value === 'number' || typeof v.value === 'string')) {
    const text = String(v.value);
    return /^-?\d+$/.test(text) ? { kind: 'int', text } : undefined;
  }
  if (id === 'DECIMAL' && (typeof v.value === 'number' || typeof v.value === 'string')) {
    const scale = v.type?.type_info?.scale ?? 0;
    const digits = String(v.value);
    if (!/^-?\d+$/.test(digits)) return undefined;
    const neg = digits.startsWith('-');
    const abs = (neg ? digits.slice(1) : digits).padStart(scale + 1, '0');
    const text = scale ? `${abs.slice(0, abs.length - scale)}.${abs.slice(abs.length - scale)}` : abs;
    return { kind: 'decimal', text: neg ? `-${text}` : text };
  }
  if ((id === 'DOUBLE' || id === 'FLOAT') && typeof v.value === 'number' && Number.isFinite(v.value)) return { kind: 'double', text: String(v.value) };
  if (id === 'VARCHAR' && typeof v.value === 'string') return { kind: 'string', text: v.value };
  return undefined;
}

function columnOf(n: unknown, table: string, alias: string): string | undefined {
  const o = n as Node | undefined;
  if (!o || o.class !== 'COLUMN_REF') return undefined;
  const names = o.column_names as string[];
  if (names.length === 1) return names[0];
  if (names.length === 2 && [table, alias].filter(Boolean).some((t) => t.toLowerCase() === names[0]!.toLowerCase())) return names[1];
  return undefined;
}

function conjuncts(n: Node, table: string, alias: string): Conjunct[] {
  const op = COMPARE[n.type as string];
  if (n.class === 'COMPARISON' && op) {
    const lc = columnOf(n.left, table, alias);
    const rc = columnOf(n.right, table, alias);
    const v = lc && !rc ? literal(n.right) : rc && !lc ? literal(n.left) : undefined;
    if (!v) return [];
    return lc ? [{ column: lc, op, values: [v] }] : [{ column: rc!, op: FLIP[op]!, values: [v] }];
  }
  if (n.class === 'BETWEEN' && n.type === 'COMPARE_BETWEEN') {
    const c = columnOf(n.input, table, alias);
    const lo = literal(n.lower);
    const hi = literal(n.upper);
    return c && lo && hi ? [{ column: c, op: '>=', values: [lo] }, { column: c, op: '<=', values: [hi] }] : [];
  }
  if (n.class === 'OPERATOR' && n.type === 'COMPARE_IN') {
    const kids = n.children as unknown[];
    const c = columnOf(kids[0], table, alias);
    const values = kids.slice(1).map(literal);
    return c && values.length && values.every((v) => v) ? [{ column: c, op: 'in', values: values as Literal[] }] : [];
  }
  if (n.class === 'OPERATOR' && (n.type === 'OPERATOR_IS_NULL' || n.type === 'OPERATOR_IS_NOT_NULL')) {
    const c = columnOf((n.children as unknown[])[0], table, alias);
    return c ? [{ column: c, op: n.type === 'OPERATOR_IS_NULL' ? 'null' : 'notnull', values: [] }] : [];
  }
  return [];
}

/** The conjuncts of an AND tree (anything else is one conjunct). */
function flatten(n: Node | undefined, out: Node[] = []): Node[] {
  if (!n) return out;
  if (n.class === 'CONJUNCTION' && n.type === 'CONJUNCTION_AND') for (const c of n.children as Node[]) flatten(c, out);
  else out.push(n);
  return out;
}

/**
 * The prunable filter of a statement (json_serialize_sql's AST), or undefined when its shape is
 * not the simple one: a single SELECT whose FROM is one unqualified table, without CTEs.
 */
export function tableFilter(statements: unknown): TableFilter | undefined {
  const list = statements as Array<{ node?: Node }> | undefined;
  if (!Array.isArray(list) || list.length !== 1) return undefined;
  const node = list[0]!.node;
  if (!node || node.type !== 'SELECT_NODE') return undefined;
  const cte = (node.cte_map as { map?: unknown[] } | undefined)?.map;
  if (Array.isArray(cte) && cte.length) return undefined;
  const from = node.from_table as Node | undefined;
  if (!from || from.type !== 'BASE_TABLE' || from.catalog_name || from.schema_name || from.sample || from.at_clause) return undefined;
  const table = String(from.table_name ?? '');
  const alias = String(from.alias ?? '');
  const where = node.where_clause as Node | undefined;
  if (!table || !where) return undefined;
  const list2 = flatten(where).flatMap((c) => conjuncts(c, table, alias));
  return list2.length ? { table: table.toLowerCase(), alias, conjuncts: list2 } : undefined;
}

/** The literal as text of the column's type, or undefined when DuckDB's comparison would not be exactly ours. */
function valueText(type: string, v: Literal): string | undefined {
  switch (type) {
    case 'BIGINT':
      return v.kind === 'int' ? v.text : undefined;
    case 'DOUBLE':
      return v.kind === 'int' || v.kind === 'decimal' || v.kind === 'double' ? v.text : undefined;
    case 'VARCHAR':
      return v.kind === 'string' ? v.text : undefined;
    case 'DATE':
      return (v.kind === 'string' || v.kind === 'date') && /^\d{4}-\d{2}-\d{2}$/.test(v.text) ? v.text : undefined;
    case 'TIMESTAMP': {
      if (v.kind !== 'string' && v.kind !== 'timestamp') return undefined;
      // hours 00–23 only: DuckDB reads '24:00:00' as the next day, which text order would not
      const m = /^(\d{4}-\d{2}-\d{2})(?:[ T]((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?:\.(\d{1,6}))?)?$/.exec(v.text);
      if (!m) return undefined;
      const frac = (m[3] ?? '').replace(/0+$/, '');
      return `${m[1]} ${m[2] ?? '00:00:00'}${frac ? `.${frac}` : ''}`;
    }
    default:
      return undefined;
  }
}

/** Whether an object may hold a row satisfying the conjunct (true when unsure). */
function mayMatch(o: ObjectRef, type: string, c: Conjunct): boolean {
  const st = o.stats?.find((s) => s.name === c.column);
  if (!st || o.schema_fingerprint !== undefined) return true;
  const rows = o.row_count;
  if (c.op === 'null') return st.nulls === null || st.nulls > 0;
  const nonNull = rows === null || st.nulls === null ? null : rows - st.nulls;
  if (c.op === 'notnull') return nonNull === null || nonNull > 0;
  if (nonNull === 0) return false; // comparisons with NULL are never true
  if (st.min === null || st.max === null) return true;
  const within = (text: string, op: Op): boolean => {
    const lo = compareText(type, text, st.min!);
    const hi = compareText(type, text, st.max!);
    if (lo === undefined || hi === undefined) return true;
    switch (op) {
      case '=':
      case 'in':
        return lo >= 0 && hi <= 0;
      case '<':
        return lo > 0; // some value below text: min < text
      case '<=':
        return lo >= 0;
      case '>':
        return hi < 0; // max > text
      case '>=':
        return hi <= 0;
      default:
        return true;
    }
  };
  const texts = c.values.map((v) => valueText(type, v));
  if (texts.some((t) => t === undefined)) return true;
  return texts.some((t) => within(t!, c.op));
}

/** The objects of a version that a filter lets through (all of them when nothing can be concluded). */
export function selectObjects(m: StoredManifest, filter: TableFilter | undefined): ObjectRef[] {
  if (!filter) return m.objects;
  const types = new Map(m.schema.map((c) => [c.name.toLowerCase(), c]));
  const usable = filter.conjuncts
    .map((c) => ({ c, col: types.get(c.column.toLowerCase()) }))
    .filter((x): x is { c: Conjunct; col: { name: string; type: string; nullable: boolean } } => x.col !== undefined)
    .map(({ c, col }) => ({ c: { ...c, column: col.name }, type: col.type }));
  if (!usable.length) return m.objects;
  return m.objects.filter((o) => usable.every(({ c, type }) => mayMatch(o, type, c)));
}
