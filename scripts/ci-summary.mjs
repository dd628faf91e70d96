// Prints "N passed, N failed" from vitest's JSON report (plus the number of failed checks — lint,
// typecheck — given as the second argument); exits 1 if anything failed or the report is missing.
import fs from 'node:fs';

const file = process.argv[2] ?? '.ci-out/vitest.json';
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch {
  console.log('vitest JSON report missing or unreadable');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// suites that failed to load count as failures too
const failedSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
const failed = (report.numFailedTests ?? 0) + failedSuites + Number(process.argv[3] ?? 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
