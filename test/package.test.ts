/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation templates are untyped JSON */
/**
 * `sls package` works offline and produces what AWS needs: the bucket with its ObjectCreated
 * notification on uploads/ → ingest, IAM scoped to this bucket, environment wiring, sensible
 * memory/timeouts, and artifacts that carry DuckDB's native linux-x64 binding within Lambda's
 * 250 MB unzipped limit.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';

const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;
let dir: string;
let cfn: any;

function zipEntries(file: string): Promise<Array<{ name: string; size: number }>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: Array<{ name: string; size: number }> = [];
      zip.on('entry', (e: yauzl.Entry) => {
        out.push({ name: e.fileName, size: e.uncompressedSize });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', LAKEHOUSE_BUCKET: 'lakehouse-test-bucket' };
  delete env.NODE_OPTIONS;
  delete env.S3_ENDPOINT;
  await promisify(execFile)(path.resolve('node_modules/.bin/sls'), ['package', '--package', dir], {
    env,
    cwd: path.resolve('.'),
    maxBuffer: 32 * 1024 * 1024,
  });
  cfn = JSON.parse(fs.readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sls package', () => {
  it('declares the bucket with CORS and the ObjectCreated notification on uploads/ → ingest', () => {
    const buckets = Object.values(cfn.Resources).filter((r: any) => r.Type === 'AWS::S3::Bucket' && r.Properties?.BucketName === 'lakehouse-test-bucket');
    expect(buckets).toHaveLength(1);
    const b: any = buckets[0];
    expect(b.Properties.CorsConfiguration.CorsRules[0].AllowedMethods).toEqual(expect.arrayContaining(['PUT', 'GET']));
    const n = b.Properties.NotificationConfiguration.LambdaConfigurations;
    expect(n).toEqual([
      {
        Event: 's3:ObjectCreated:*',
        Function: { 'Fn::GetAtt': ['IngestLambdaFunction', 'Arn'] },
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'uploads/' }] } },
      },
    ]);
    expect(b.Properties.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
  });

  it('IAM is limited to this bucket: no s3:* and no S3 action on *', () => {
    const statements = cfn.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const s3 = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) {
      expect([s.Action].flat()).not.toContain('s3:*');
      for (const r of [s.Resource].flat()) {
        expect(typeof r).toBe('string');
        expect(r).toMatch(/^arn:aws:s3:::lakehouse-test-bucket(\/\*)?$/);
      }
    }
    const all = JSON.stringify(statements);
    expect(all).not.toMatch(/"Action":"\*"|"s3:\*"/);
  });

  it('environment wiring and sensible memory/timeouts', () => {
    const fns: Record<string, any> = {};
    for (const [k, r] of Object.entries<any>(cfn.Resources)) if (r.Type === 'AWS::Lambda::Function') fns[k] = r.Properties;
    for (const f of Object.values(fns)) {
      expect(f.Environment.Variables.LAKEHOUSE_BUCKET).toBe('lakehouse-test-bucket');
      expect(f.Runtime).toBe('nodejs20.x');
    }
    const ingest = fns.IngestLambdaFunction;
    expect(ingest.MemorySize).toBeGreaterThanOrEqual(2048);
    expect(ingest.Timeout).toBe(900);
    expect(ingest.EphemeralStorage.Size).toBeGreaterThanOrEqual(4096);
    const sql = fns.SqlLambdaFunction;
    expect(sql.MemorySize).toBeGreaterThanOrEqual(1024);
    expect(sql.Timeout).toBeLessThanOrEqual(30); // API Gateway's integration limit
    expect(Number(sql.Environment.Variables.LAKEHOUSE_SQL_TIMEOUT_MS)).toBeLessThan(sql.Timeout * 1000);
    expect(cfn.Resources.HttpApiRouteDefault.Properties.RouteKey).toBe('$default');
    const routes = Object.values<any>(cfn.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(routes).toContain('GET /');
  });

  it('ingest: a failed async invocation goes to an SQS dead-letter queue; the sweeper runs every few minutes', () => {
    const configs = Object.values<any>(cfn.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && r.Properties.FunctionName?.Ref === 'IngestLambdaFunction',
    );
    expect(configs).toHaveLength(1);
    const c = configs[0].Properties;
    expect(c.MaximumRetryAttempts).toBe(2);
    expect(c.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['IngestDeadLetterQueue', 'Arn'] });
    expect(cfn.Resources.IngestDeadLetterQueue.Type).toBe('AWS::SQS::Queue');
    // the functions' role may send to it
    const statements = cfn.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(
      statements.some(
        (s: any) =>
          [s.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(s.Resource).includes('IngestDeadLetterQueue'),
      ),
    ).toBe(true);

    const sweeper = cfn.Resources.SweeperLambdaFunction.Properties;
    expect(sweeper.Handler).toBe('functions/sweeper.handler');
    expect(sweeper.Timeout).toBe(900);
    expect(sweeper.MemorySize).toBeGreaterThanOrEqual(cfn.Resources.IngestLambdaFunction.Properties.MemorySize);
    const rules = Object.values<any>(cfn.Resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes('SweeperLambdaFunction'),
    );
    expect(rules).toHaveLength(1);
    const m = /^rate\((\d+) minutes?\)$/.exec(rules[0].Properties.ScheduleExpression);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(15);
  });

  it('artifacts carry DuckDB’s native linux-x64 binding and stay under 250 MB unzipped', async () => {
    for (const fn of ['sql', 'ingest', 'sweeper']) {
      const entries = await zipEntries(path.join(dir, `${fn}.zip`));
      const names = entries.map((e) => e.name);
      expect(names).toContain(`functions/${fn}.cjs`);
      expect(names).toContain('node_modules/@duckdb/node-bindings-linux-x64/duckdb.node');
      expect(names).toContain('node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so');
      expect(names).toContain('node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
      const total = entries.reduce((n, e) => n + e.size, 0);
      expect(total).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
    }
    const health = await zipEntries(path.join(dir, 'health.zip'));
    expect(health.map((e) => e.name)).toEqual(['functions/health.cjs']);
    // the console's page travels inside its function's bundle (dist/console/console.json, inlined)
    const consoleZip = await zipEntries(path.join(dir, 'console.zip'));
    expect(consoleZip.map((e) => e.name)).toContain('functions/console.cjs');
    expect(consoleZip.find((e) => e.name === 'functions/console.cjs')!.size).toBeGreaterThan(300_000);
  });
});
