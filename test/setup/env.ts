/** Per-worker environment: the test S3 server, local credentials, a private temp dir. */
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

process.env.S3_ENDPOINT = inject('s3Endpoint');
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
delete process.env.LAKEHOUSE_API_TOKEN;
process.env.LAKEHOUSE_LOG_LEVEL = process.env.LAKEHOUSE_LOG_LEVEL ?? 'warn';
const tmp = path.join(inject('tmpRoot'), `w${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
fs.mkdirSync(tmp, { recursive: true });
process.env.LAKEHOUSE_TMP_DIR = tmp;
