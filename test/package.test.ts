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
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', LAKEHOUSE_BUCKET: 'lakehouse-test-bucket', LAKEHOUSE_GLUE_DATABASE: 'lakehouse_glue_test' };
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

  it('Iceberg: the REST catalog routes, the repair function, a read-only role for vended credentials', () => {
    const routes = Object.values<any>(cfn.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && String(r.Properties.RouteKey).includes('/iceberg/'))
      .map((r) => r.Properties.RouteKey)
      .sort();
    expect(routes).toEqual([
      'GET /iceberg/v1/config',
      'GET /iceberg/v1/namespaces',
      'GET /iceberg/v1/namespaces/{namespace}',
      'GET /iceberg/v1/namespaces/{namespace}/tables',
      'GET /iceberg/v1/namespaces/{namespace}/tables/{table}',
      'HEAD /iceberg/v1/namespaces/{namespace}',
      'HEAD /iceberg/v1/namespaces/{namespace}/tables/{table}',
    ]);
    expect(cfn.Resources.PublishLambdaFunction.Properties.Handler).toBe('functions/publish.handler');
    // the read role: GetObject on datasets/ and a prefix-limited ListBucket, nothing else; only our functions' role may assume it
    const role = cfn.Resources.IcebergReadRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] } }, Action: 'sts:AssumeRole' },
    ]);
    const read = role.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(read.flatMap((s: any) => [s.Action].flat()).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(read.find((s: any) => [s.Action].flat().includes('s3:GetObject')).Resource).toBe('arn:aws:s3:::lakehouse-test-bucket/datasets/*');
    expect(read.find((s: any) => [s.Action].flat().includes('s3:ListBucket')).Condition).toEqual({ StringLike: { 's3:prefix': ['datasets/*'] } });
    const statements = cfn.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const assume = statements.filter((s: any) => [s.Action].flat().includes('sts:AssumeRole'));
    expect(assume).toEqual([{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: { 'Fn::GetAtt': ['IcebergReadRole', 'Arn'] } }]);
    const env = cfn.Resources.IcebergLambdaFunction.Properties.Environment.Variables;
    expect(env.LAKEHOUSE_ICEBERG_READ_ROLE_ARN).toEqual({ 'Fn::Sub': ['arn:aws:iam::${AWS::AccountId}:role/lakehouse-dev-iceberg-read', {}] });
    expect(role.RoleName).toBe('lakehouse-dev-iceberg-read');
  });

  it('Glue (LAKEHOUSE_GLUE_DATABASE set): the database, and glue:GetTable/CreateTable/UpdateTable on its tables only', () => {
    expect(cfn.Conditions.HasGlueDatabase).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['lakehouse_glue_test', ''] }] });
    const db = cfn.Resources.GlueDatabase;
    expect(db.Type).toBe('AWS::Glue::Database');
    expect(db.Condition).toBe('HasGlueDatabase');
    expect(db.Properties.DatabaseInput.Name).toBe('lakehouse_glue_test');
    const policies = Object.values<any>(cfn.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::Role');
    const glue = policies.flatMap((r: any) =>
      (r.Properties.PolicyDocument ? [r.Properties.PolicyDocument] : (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)).flatMap((d: any) => d.Statement),
    ).filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('glue:')));
    expect(glue).toHaveLength(1);
    expect([glue[0].Action].flat().sort()).toEqual(['glue:CreateTable', 'glue:GetTable', 'glue:UpdateTable']);
    expect(glue[0].Resource.map((r: any) => r['Fn::Sub'])).toEqual([
      'arn:aws:glue:${AWS::Region}:${AWS::AccountId}:catalog',
      'arn:aws:glue:${AWS::Region}:${AWS::AccountId}:database/lakehouse_glue_test',
      'arn:aws:glue:${AWS::Region}:${AWS::AccountId}:table/lakehouse_glue_test/*',
    ]);
    expect(cfn.Resources.GlueTablesPolicy.Condition).toBe('HasGlueDatabase');
    expect(cfn.Resources.GlueTablesPolicy.Properties.Roles).toEqual([{ Ref: 'IamRoleLambdaExecution' }]);
    for (const f of ['IngestLambdaFunction', 'RegisterLambdaFunction', 'PublishLambdaFunction']) {
      expect(cfn.Resources[f].Properties.Environment.Variables.LAKEHOUSE_GLUE_DATABASE).toBe('lakehouse_glue_test');
    }
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
