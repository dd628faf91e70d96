/**
 * vitest global setup: one real embedded S3 server (s3rver) on a free loopback port, data in a
 * temp dir, torn down at the end. Tests create their own buckets (test/helpers/s3.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startS3Server } from '../../localstack/s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    tmpRoot: string;
  }
}

export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-test-'));
  const s3 = await startS3Server({ directory: path.join(tmpRoot, 's3') });
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('tmpRoot', tmpRoot);
  return async () => {
    await s3.close();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  };
}
