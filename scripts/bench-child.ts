/**
 * One measured task in a fresh process, so its peak RSS is its own: the bench (scripts/bench.ts)
 * runs each through here against the running stack's S3. Prints one JSON line.
 *
 *   ingest <key> <size>        the real ingest handler with an S3 ObjectCreated event
 *   sql <body-json>            the real sql handler with an HTTP API event (response consumed)
 *   duckdb-convert <csv>       baseline: DuckDB alone, COPY (FROM read_csv(csv)) TO parquet
 *   duckdb-json <parquet>      baseline: DuckDB building 500k rows of JSON itself (to_json, chunks)
 *   cold <sql>                 import the sql handler and answer one query: cold-start costs
 *   catalog                    load the whole catalog (every dataset's head) once
 */
import fs from 'node:fs';
import path from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const t0 = performance.now();

function rssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function main(): Promise<Record<string, unknown>> {
  switch (mode) {
    case 'ingest': {
      const { handler } = await import('../functions/ingest.js');
      const { s3Event, lambdaContext } = await import('../test/helpers/lambda.js');
      const [key, size] = args;
      const t = performance.now();
      const out = (await handler(s3Event(process.env.LAKEHOUSE_BUCKET!, key!, Number(size)), lambdaContext())) as { results: unknown[] };
      const { readStatus } = await import('../lib/ingest/status.js');
      const id = path.basename(key!).replace(/\.csv(\.gz)?$/, '');
      const st = await readStatus(id);
      return { ms: performance.now() - t, result: out.results[0], timings: st?.timings_ms, report_conversion: (st?.report as { conversion?: string })?.conversion };
    }
    case 'ingest-warm': {
      // the same container ingesting a second upload: JIT and DuckDB already warm
      const { handler } = await import('../functions/ingest.js');
      const { s3Event, lambdaContext } = await import('../test/helpers/lambda.js');
      const { readStatus } = await import('../lib/ingest/status.js');
      const [first, second, size] = args;
      await handler(s3Event(process.env.LAKEHOUSE_BUCKET!, first!, Number(size)), lambdaContext());
      const t = performance.now();
      const cpu = process.cpuUsage();
      const out = (await handler(s3Event(process.env.LAKEHOUSE_BUCKET!, second!, Number(size)), lambdaContext())) as { results: unknown[] };
      const used = process.cpuUsage(cpu);
      const st = await readStatus(path.basename(second!).replace(/\.csv(\.gz)?$/, ''));
      // CPU of the whole process (DuckDB's threads included) during the second ingest
      return { ms: performance.now() - t, cpu_ms: Math.round((used.user + used.system) / 1000), result: out.results[0], timings: st?.timings_ms };
    }
    case 'sql': {
      const { handler } = await import('../functions/sql.js');
      const { httpEvent, lambdaContext } = await import('../test/helpers/lambda.js');
      const body = JSON.parse(args[0]!);
      // a warm container: the engine is up and the dataset's Parquet is in the local cache
      const warm = JSON.parse(args[1] ?? 'null');
      if (warm) await handler(httpEvent({ method: 'POST', path: '/sql', body: warm }) as never, lambdaContext() as never);
      const t = performance.now();
      const res = (await handler(httpEvent({ method: 'POST', path: '/sql', body }) as never, lambdaContext() as never)) as {
        statusCode: number;
        body: string;
        isBase64Encoded: boolean;
        headers: Record<string, string>;
      };
      const ms = performance.now() - t;
      const bytes = res.isBase64Encoded ? Buffer.from(res.body, 'base64').length : Buffer.byteLength(res.body);
      let resultUrl = res.headers['x-lakehouse-result-url'];
      if (!resultUrl && res.headers['content-type']?.startsWith('application/json')) resultUrl = JSON.parse(res.body).result_url;
      // the spilled result is measured by the caller (fetching it here would count in this RSS)
      const timing = Object.fromEntries(
        (res.headers['server-timing'] ?? '').split(',').filter(Boolean).map((p) => {
          const [k, v] = p.trim().split(';dur=');
          return [k, Number(v)];
        }),
      );
      return { ms, exec_ms: timing.exec, upload_ms: timing.upload ?? 0, status: res.statusCode, inline_bytes: bytes, result_url: resultUrl, rows: res.headers['x-lakehouse-row-count'] };
    }
    case 'sql-loop': {
      // server-side latency of warm queries, in-process (no HTTP): the engine's own overhead
      const { handler } = await import('../functions/sql.js');
      const { httpEvent, lambdaContext } = await import('../test/helpers/lambda.js');
      const queries = JSON.parse(args[0]!) as Record<string, string>;
      const runs = Number(args[1] ?? 30);
      const out: Record<string, { p50: number; p95: number }> = {};
      for (const [label, sql] of Object.entries(queries)) {
        const call = () => handler(httpEvent({ method: 'POST', path: '/sql', body: { sql } }) as never, lambdaContext() as never);
        for (let i = 0; i < 3; i++) await call();
        const v: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await call();
          v.push(performance.now() - t);
        }
        v.sort((a, b) => a - b);
        out[label] = { p50: v[Math.floor(v.length / 2)]!, p95: v[Math.floor(v.length * 0.95)]! };
      }
      return { queries: out };
    }
    case 'duckdb-convert': {
      const { createInstance } = await import('../lib/duckdb.js');
      const inst = await createInstance('baseline');
      const con = await inst.connect();
      const out = path.join(process.env.LAKEHOUSE_TMP_DIR ?? '/tmp', `baseline-${process.pid}.parquet`);
      const t = performance.now();
      await con.run(`COPY (FROM read_csv('${args[0]}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
      const ms = performance.now() - t;
      fs.rmSync(out, { force: true });
      return { ms };
    }
    case 'duckdb-json': {
      const { createInstance } = await import('../lib/duckdb.js');
      const inst = await createInstance('baseline-json');
      const con = await inst.connect();
      const t = performance.now();
      const res = await con.stream(`SELECT to_json(t)::VARCHAR FROM read_parquet('${args[0]}') t`);
      const parts: string[] = [];
      for (;;) {
        const c = await res.fetchChunk();
        if (!c || c.rowCount === 0) break;
        const s = (c.getColumnValues(0) as string[]).join(',');
        parts.push(s);
      }
      const body = `[${parts.join(',')}]`;
      return { ms: performance.now() - t, bytes: Buffer.byteLength(body) };
    }
    case 'cold': {
      const ti = performance.now();
      const { handler } = await import('../functions/sql.js');
      const importMs = performance.now() - ti;
      const { httpEvent, lambdaContext } = await import('../test/helpers/lambda.js');
      const { getEngine } = await import('../lib/query/engine.js');
      const te = performance.now();
      const engine = await getEngine();
      const engineMs = performance.now() - te;
      const tq = performance.now();
      const res = (await handler(httpEvent({ method: 'POST', path: '/sql', body: { sql: args[0] } }) as never, lambdaContext() as never)) as {
        statusCode: number;
        body: string;
      };
      const firstMs = performance.now() - tq;
      return {
        import_ms: importMs,
        engine_ms: engineMs,
        datasets: engine.datasetNames().length,
        first_query_ms: firstMs,
        status: res.statusCode,
        body: res.body.slice(0, 200),
        downloads: engine.cache.downloads,
      };
    }
    case 'catalog': {
      const { loadCatalog } = await import('../lib/catalog/store.js');
      const t = performance.now();
      const r = await loadCatalog();
      return { ms: performance.now() - t, datasets: r.manifests.length, errors: r.errors.length, versions: r.manifests.reduce((n, m) => n + m.version, 0) };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

main().then(
  (r) => {
    process.stdout.write(JSON.stringify({ ...r, process_ms: performance.now() - t0, peak_rss_mb: rssMb() }) + '\n');
    process.exit(0);
  },
  (e) => {
    process.stdout.write(JSON.stringify({ error: (e as Error).message, peak_rss_mb: rssMb() }) + '\n');
    process.exit(1);
  },
);
