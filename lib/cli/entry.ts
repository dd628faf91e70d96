/**
 * The CLI bundle's entry (scripts/build-cli.mjs): exports main for bin/lakehouse.js, and runs it
 * when the bundle itself is the program — the `lakehouse` npm package's bin (dist/cli).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './main.js';

export { main };

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) process.exitCode = await main(process.argv);
