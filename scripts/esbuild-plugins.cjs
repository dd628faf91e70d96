/**
 * esbuild plugins for the Lambda bundles (serverless.yml: custom.esbuild.plugins).
 *
 * scanWorker: the ingest's whole-file scan runs in a worker thread (lib/ingest/scan-worker.ts,
 * ADR 0014). A bundle is one file, so the worker's code travels inside it as a string: the worker
 * entry is bundled on its own and defined as __LAKEHOUSE_SCAN_WORKER__, which
 * lib/ingest/scan-thread.ts hands to `new Worker(code, { eval: true })`.
 */
const path = require('node:path');
const esbuild = require('esbuild');

const scanWorker = {
  name: 'lakehouse-scan-worker',
  setup(build) {
    const out = esbuild.buildSync({
      entryPoints: [path.join(__dirname, '..', 'lib', 'ingest', 'scan-worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    build.initialOptions.define = { ...build.initialOptions.define, __LAKEHOUSE_SCAN_WORKER__: JSON.stringify(out.outputFiles[0].text) };
  },
};

module.exports = [scanWorker];
