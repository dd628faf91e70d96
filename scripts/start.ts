/**
 * `npm start`: the whole product on loopback.
 *   - embedded S3 server (s3rver) on 127.0.0.1:$LAKEHOUSE_S3_PORT (4569), data under .lakehouse/,
 *     honouring conditional PUTs (If-None-Match: *, If-Match) as AWS S3 does, so commits and status
 *     writes take the same lock-free path as on AWS; LAKEHOUSE_LOCAL_CONDITIONAL_WRITES=off serves
 *     plain s3rver (which ignores them: the bakery-lock path, ADR 0002)
 *   - the bucket ($LAKEHOUSE_BUCKET, 'lakehouse') created if missing, with a browser CORS rule
 *   - serverless-offline: HTTP API on :$LAKEHOUSE_HTTP_PORT (3000), Lambda invoke on :$LAKEHOUSE_LAMBDA_PORT (3002)
 *   - S3 ObjectCreated events delivered to the functions declared with `s3` events in serverless.yml
 * With S3_ENDPOINT set, no embedded server is started and that endpoint is used instead.
 * Ctrl-C stops everything; data persists.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startS3Server, LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, type S3ServerHandle } from '../localstack/s3-server.js';
import { stopGroup } from '../localstack/process-group.js';
import { subscriptionsFrom, matches, toAwsEvent, invokeAsync, type RawRecord } from '../localstack/event-bridge.js';
import { runSchedules, schedulesFrom } from '../localstack/schedules.js';
import { warmUp } from '../localstack/warmup.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const httpPort = Number(env.LAKEHOUSE_HTTP_PORT ?? 3000);
const s3Port = Number(env.LAKEHOUSE_S3_PORT ?? 4569);
const lambdaPort = Number(env.LAKEHOUSE_LAMBDA_PORT ?? 3002);
const bucketName = env.LAKEHOUSE_BUCKET ?? 'lakehouse';
const dataDir = path.resolve(root, env.LAKEHOUSE_DATA_DIR ?? '.lakehouse');
const slsBin = path.join(root, 'node_modules', '.bin', 'sls');
const conditionalWrites = (env.LAKEHOUSE_LOCAL_CONDITIONAL_WRITES ?? 'on').toLowerCase() !== 'off';

function say(msg: string): void {
  process.stdout.write(`[lakehouse] ${msg}\n`);
}

async function main(): Promise<void> {
  // the first thing printed: where to go (the banner repeats it once everything is up)
  say(`web console: http://127.0.0.1:${httpPort}/ (starting…)`);
  let s3server: S3ServerHandle | undefined;
  let endpoint = env.S3_ENDPOINT;
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    LAKEHOUSE_BUCKET: bucketName,
    LAKEHOUSE_HTTP_PORT: String(httpPort),
    LAKEHOUSE_LAMBDA_PORT: String(lambdaPort),
    // links the API hands out (status_url) point at this stack
    LAKEHOUSE_PUBLIC_URL: env.LAKEHOUSE_PUBLIC_URL ?? `http://127.0.0.1:${httpPort}`,
    LAKEHOUSE_TMP_DIR: env.LAKEHOUSE_TMP_DIR ?? path.join(dataDir, 'tmp'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  if (!endpoint) {
    s3server = await startS3Server({ port: s3Port, directory: path.join(dataDir, 's3'), buckets: [bucketName], conditionalWrites, ifMatch: conditionalWrites });
    endpoint = s3server.endpoint;
    childEnv.AWS_ACCESS_KEY_ID = LOCAL_ACCESS_KEY;
    childEnv.AWS_SECRET_ACCESS_KEY = LOCAL_SECRET_KEY;
    delete childEnv.AWS_SESSION_TOKEN;
    delete childEnv.AWS_PROFILE;
    say(
      `embedded S3 server on ${endpoint} (data in ${path.relative(root, path.join(dataDir, 's3')) || '.'}), bucket '${bucketName}'` +
        (conditionalWrites ? ', conditional writes honoured' : ', conditional writes ignored (lock path)'),
    );
  } else {
    say(`using external S3 endpoint ${endpoint} (no embedded server, no local event delivery)`);
  }
  childEnv.S3_ENDPOINT = endpoint;
  process.env.S3_ENDPOINT = endpoint;

  // Resolve serverless.yml once to learn which functions subscribe to which S3 events.
  const { stdout } = await promisify(execFile)(slsBin, ['print', '--format', 'json'], {
    cwd: root,
    env: childEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  const service = JSON.parse(stdout.slice(stdout.indexOf('{')));
  const subs = subscriptionsFrom(service);
  const schedules = schedulesFrom(service);
  const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;

  const offline: ChildProcess = spawn(slsBin, ['offline', 'start'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let ready = false;
  let stopSchedules = () => {};
  const watch = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
    out.write(chunk);
    if (!ready && /Server ready/.test(chunk.toString())) {
      ready = true;
      // the functions a first upload goes through are loaded before the banner says "running"
      const warming =
        env.LAKEHOUSE_LOCAL_WARMUP === '0'
          ? Promise.resolve()
          : warmUp({ api: `http://127.0.0.1:${httpPort}`, lambda: lambdaEndpoint, direct: [...new Set(subs.map((s) => s.functionName))] }).then((r) =>
              say(`warmed: ${r.join(', ')}`),
            );
      void warming.then(() => {
        // scheduled functions (the sweeper, gc) run as EventBridge would run them
        const override = env.LAKEHOUSE_LOCAL_SCHEDULE_MS ? Number(env.LAKEHOUSE_LOCAL_SCHEDULE_MS) : undefined;
        stopSchedules = runSchedules(schedules, lambdaEndpoint, say, override);
        banner(endpoint!);
      });
    }
  };
  offline.stdout!.on('data', watch(process.stdout));
  offline.stderr!.on('data', watch(process.stderr));

  if (s3server) {
    s3server.server.on('event', (ev: { Records: Array<RawRecord & Record<string, unknown>> }) => {
      for (const rec of ev.Records ?? []) {
        for (const sub of subs) {
          if (!matches(sub, rec)) continue;
          say(`${rec.eventName} s3://${rec.s3.bucket.name}/${rec.s3.object.key} → ${sub.functionName}`);
          invokeAsync(lambdaEndpoint, sub.functionName, toAwsEvent(rec)).then(
            (status) => {
              if (status >= 300) say(`event delivery to ${sub.functionName} answered HTTP ${status}`);
            },
            (err: Error) => say(`event delivery to ${sub.functionName} failed: ${err.message}`),
          );
        }
      }
    });
  }

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    stopSchedules();
    await stopGroup(offline, 'SIGTERM', 5000);
    await s3server?.close().catch(() => undefined);
    say('stopped; data kept in .lakehouse/');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  offline.on('exit', (code) => {
    if (!stopping) {
      say(`serverless-offline exited (${code ?? 'signal'})`);
      void stop(code ?? 1);
    }
  });
}

function banner(endpoint: string): void {
  const api = `http://127.0.0.1:${httpPort}`;
  process.stdout.write(
    [
      '',
      `  Lakehouse is running — open the console: ${api}/`,
      '',
      `    HTTP API        ${api}   (GET /health, POST /uploads, GET /uploads/{id}, POST /sql, /catalog/…, GET /openapi.json)`,
      `    S3              ${endpoint}   bucket '${bucketName}'`,
      `    Lambda invoke   http://127.0.0.1:${lambdaPort}`,
      '',
      '  Next: drop a CSV file on the console, or',
      '    npx lakehouse upload data.csv --name mydata',
      '    npx lakehouse sql "SELECT count(*) FROM mydata"',
      '',
      '  Ctrl-C stops everything (data stays in .lakehouse/).',
      '',
    ].join('\n'),
  );
}

main().catch((err: Error) => {
  process.stderr.write(`[lakehouse] failed to start: ${err.message}\n`);
  process.exit(1);
});
