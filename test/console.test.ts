/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against the real
 * `npm start` stack, with an API token set: the 401 prompt (a wrong token, then the right one) →
 * a CSV dropped on the page → the PUT straight to the S3 server (another origin: CORS) with byte
 * progress → ready with the detected types and reasons → a query typed in the editor and run with
 * Ctrl-Enter → rows in the grid → completion → a bar chart whose bars are counted on the canvas, a
 * line and a scatter plot → typed values, 10,000 rows, truncation, a spilled result, a download, an
 * error → a failing upload and a query, done with the keyboard only, the failure showing its line →
 * the catalog and a version's manifest → axe-core on every view → the prompt again after a later
 * 401. No Content-Security-Policy violation or page error anywhere. One stack, one browser.
 * Screenshots of each step go to test-artifacts/console/ (not committed).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startStack, type Stack } from '../localstack/stack.js';
import { apiFetch } from './helpers/openapi.js';
import { launchChromium, type Browser } from './helpers/browser.js';
import * as drive from './helpers/console-page.js';

// Browser globals as the page functions below see them: this file is compiled with Node's types
// only (the DOM library would change the types of Node's fetch for every test).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const sessionStorage: any;
declare const localStorage: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

const TOKEN = 'console-e2e-token';
const FIXTURES = path.resolve('test/console-fixtures');
const SHOTS = path.resolve('test-artifacts/console');

let stack: Stack;
let browser: Browser;
let page: Page;
const violations: string[] = [];
const s3Requests: Array<{ method: string; url: string; status?: number }> = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The API's own answer, for comparing with what the page shows. */
async function api(pathname: string, init: RequestInit = {}): Promise<Response> {
  return apiFetch(`${stack.api}${pathname}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });
}

async function axe(view: string): Promise<void> {
  const found = await drive.axeViolations(page);
  const serious = found.filter((v) => v.impact === 'serious');
  if (serious.length) process.stderr.write(`axe (${view}), serious: ${JSON.stringify(serious)}\n`);
  expect(found.filter((v) => v.impact === 'critical'), view).toEqual([]);
}

const tabTo = (selector: string) => drive.tabTo(page, selector);
const dropFile = (file: string) => drive.dropFile(page, file);
const typeQuery = (sql: string) => drive.typeQuery(page, sql);
const runAndWait = () => drive.runAndWait(page);
const barsOnCanvas = () => drive.barsOnCanvas(page);
const pixelsOfColour = () => drive.pixelsOfColour(page);

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  // a small inline cap, so that a result can spill to S3 (result_url) without a large query
  stack = await startStack({ env: { LAKEHOUSE_API_TOKEN: TOKEN, LAKEHOUSE_SQL_MAX_INLINE_BYTES: '300000' } });
  browser = await launchChromium();
  page = browser.page;
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  // a listener from the start turns on the interception of file choosers before any key press
  // (turned on by the first listener, asynchronously: a race with the key press otherwise)
  page.on('filechooser', () => undefined);
  page.on('requestfinished', (r) => {
    if (r.url().startsWith(stack.s3)) void r.response().then((res) => s3Requests.push({ method: r.method(), url: r.url(), status: res?.status() }));
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  if (stack) {
    await stack.stop();
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  }
});

describe('the web console in Chromium', () => {
  it('npm start prints the console URL first', () => {
    const first = stack.output().split('\n').find((l) => l.trim() !== '');
    expect(first).toContain(`${stack.api}/`);
    expect(stack.output()).toContain(`open the console: ${stack.api}/`);
  });

  it('asks for the token on the first 401, asks again when it is refused, keeps it for the session', async () => {
    const response = await page.goto(`${stack.api}/`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-encoding']).toBe('gzip');
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    await shot('01-token-prompt');
    await page.fill('#token-input', 'wrong-token');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-why')?.textContent ?? ''));
    expect(await dialog.isVisible()).toBe(true);
    await page.fill('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => sessionStorage.getItem('lakehouse.token'))).toBe(TOKEN);
    expect(await page.evaluate(() => localStorage.getItem('lakehouse.token'))).toBeNull();
    expect(await page.textContent('#auth-state')).toBe('token set');
  });

  it('a dropped CSV goes straight to S3 with byte progress, then shows ready with each type and its reason', async () => {
    const file = path.join(FIXTURES, 'city-sales.csv');
    const size = fs.statSync(file).size;
    await dropFile(file);
    expect(await page.inputValue('#upload-form input.name')).toBe('city-sales');
    await shot('02-file-dropped');
    await page.click('#upload-start');
    const job = page.locator('.job').first();
    await page.waitForSelector('.job[data-state="ready"], .job[data-state="failed"]', { timeout: 90_000 });
    expect(await job.getAttribute('data-state')).toBe('ready');
    // progress: what the browser reported sending, all of it
    expect(await job.locator('.bytes').textContent()).toMatch(new RegExp(`^${size} of ${size} bytes`));
    expect(await job.locator('progress').evaluate((p) => [(p as unknown as { value: number }).value, (p as unknown as { max: number }).max])).toEqual([size, size]);
    // the PUT went to the S3 server's origin (another port) and succeeded: CORS works from a browser
    const put = s3Requests.find((r) => r.method === 'PUT');
    expect(put?.status).toBe(200);
    expect(new URL(put!.url).origin).toBe(stack.s3);
    expect(await job.locator('.summary .rows').textContent()).toBe('12 rows');
    const rows = await job.locator('table.columns tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ name: tr.querySelector('th')!.textContent, type: tr.querySelector('.type')!.textContent, reason: tr.querySelector('.reason')!.textContent })),
    );
    expect(rows.map((r) => [r.name, r.type])).toEqual([
      ['date', 'DATE'],
      ['city', 'VARCHAR'],
      ['amount', 'DOUBLE'],
      ['units', 'BIGINT'],
      ['code', 'VARCHAR'],
    ]);
    expect(rows.find((r) => r.name === 'code')!.reason).toMatch(/"00123" on line 3 has a leading zero/);
    // the dialect and the skipped title line
    expect(await job.locator('dl.dialect').textContent()).toMatch(/Delimitercomma \(,\)/);
    expect(await job.locator('.skipped').textContent()).toContain('Sales export, generated 2026-02-01');
    await shot('03-upload-ready');
  });

  it('a query typed in the editor runs with Ctrl-Enter; the grid shows the rows the API returns', async () => {
    await page.click('a[data-nav="sql"]');
    const sql = 'SELECT city, sum(amount) AS total FROM "city-sales" GROUP BY city ORDER BY city';
    await typeQuery(sql);
    await runAndWait();
    const expected = (await (await api('/sql', { method: 'POST', body: JSON.stringify({ sql }) })).json()) as { rows: unknown[][] };
    expect(await page.textContent('#result .row-count')).toBe('4 rows');
    const cells = await page.locator('#result [role="row"]').evaluateAll((rs) => rs.slice(1).map((r) => [...r.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent)));
    expect(cells).toEqual(expected.rows.map((r) => r.map(String)));
    await shot('04-query-grid');
  });

  it('completes dataset and column names in the editor', async () => {
    await typeQuery('SELECT "city-sales".');
    await page.keyboard.press('Control+Space');
    const options = page.locator('.cm-tooltip-autocomplete li');
    await options.first().waitFor();
    expect(await options.allTextContents()).toEqual(expect.arrayContaining(['amount', 'city', 'code', 'date', 'units']));
    await page.keyboard.press('Escape');
  });

  it('charts category + number as bars: one bar per row, drawn on the canvas', async () => {
    await typeQuery('SELECT city, sum(amount) AS total FROM "city-sales" GROUP BY city ORDER BY city');
    await runAndWait();
    await page.click('#show-chart');
    await page.waitForSelector('figure.chart[data-kind="bar"] canvas');
    expect(await page.textContent('figure.chart figcaption')).toBe('Bar chart of total by city');
    expect(await barsOnCanvas()).toBe(4);
    await shot('05-chart-bar');
    await page.click('#show-table');
    expect(await page.isVisible('.grid')).toBe(true);
  });

  it('a date + number result with a parameter charts as a line', async () => {
    await typeQuery('SELECT date, amount FROM "city-sales" WHERE amount > ? ORDER BY date');
    await page.fill('#params', '[9]');
    await page.click('.cm-content');
    await runAndWait();
    expect(await page.textContent('#result .row-count')).toBe('6 rows');
    await page.click('#show-chart');
    await page.waitForSelector('figure.chart[data-kind="line"] canvas');
    expect(await page.textContent('figure.chart figcaption')).toBe('Line chart of amount over date');
    expect(await pixelsOfColour()).toBeGreaterThan(100);
    await shot('06-chart-line');
    await page.fill('#params', '');
  });

  it('two numbers chart as a scatter plot', async () => {
    await typeQuery('SELECT units, amount FROM "city-sales"');
    await runAndWait();
    await page.click('#show-chart');
    await page.waitForSelector('figure.chart[data-kind="scatter"] canvas');
    expect(await page.textContent('figure.chart figcaption')).toBe('Scatter plot of amount against units');
    expect(await pixelsOfColour()).toBeGreaterThan(30);
  });

  it('shows typed values as the API gives them: NULL apart from empty text, big integers and decimals digit for digit', async () => {
    await typeQuery("SELECT NULL AS n, '' AS e, 9007199254740993::BIGINT AS big, 12.30::DECIMAL(6,2) AS d, DATE '2026-01-02' AS day, true AS b");
    await runAndWait();
    const cells = await page.locator('#result .g-body [role="gridcell"]').evaluateAll((cs) => cs.map((c) => [c.textContent, c.className.replace('g-cell ', '')]));
    expect(cells).toEqual([
      ['NULL', 'v-null'],
      ['""', 'v-empty'],
      ['9007199254740993', 'v-num'],
      ['12.30', 'v-num'],
      ['2026-01-02', 'v-other'],
      ['true', 'v-bool'],
    ]);
    await shot('07-typed-values');
  });

  it('10,000 rows: the grid keeps only the rows in view in the page, and scrolls to the last', async () => {
    await typeQuery("SELECT range AS i, 'row ' || range AS label FROM range(10000)");
    await runAndWait();
    expect(await page.textContent('#result .row-count')).toBe('10,000 rows');
    expect(await page.getAttribute('#result .grid', 'aria-rowcount')).toBe('10001');
    expect(await page.locator('#result .g-body [role="row"]').count()).toBeLessThan(80);
    await page.focus('#result .grid');
    await page.keyboard.press('End');
    await page.waitForSelector('#result [role="row"][aria-rowindex="10001"]');
    expect(await page.textContent('#result [role="row"][aria-rowindex="10001"] [aria-colindex="2"]')).toBe('row 9999');
    expect(await page.locator('#result .g-body [role="row"]').count()).toBeLessThan(80);
  });

  it('truncation is made visible', async () => {
    await page.fill('#limit', '5');
    await page.click('.cm-content');
    await runAndWait();
    expect(await page.textContent('#result .row-count')).toBe('5 rows');
    expect(await page.textContent('[data-note="truncated"]')).toMatch(/Truncated/);
    await page.fill('#limit', '');
  });

  it('a result too large to send inline: the first rows, and the presigned link to the whole result', async () => {
    await typeQuery("SELECT range AS i, repeat('x', 100) AS pad FROM range(5000)");
    await runAndWait();
    expect(await page.textContent('#result .row-count')).toBe('5,000 rows');
    const note = page.locator('[data-note="spilled"]');
    const inline = Number((/showing the first ([\d,]+) rows/.exec((await note.textContent())!)?.[1] ?? '').replace(/,/g, ''));
    expect(inline).toBeGreaterThan(0);
    expect(inline).toBeLessThan(5000);
    expect(await page.getAttribute('#result .grid', 'aria-rowcount')).toBe(String(inline + 1));
    const href = (await note.locator('a').getAttribute('href'))!;
    expect(new URL(href).origin).toBe(stack.s3);
    const whole = (await (await fetch(href)).json()) as { rows: unknown[][] };
    expect(whole.rows).toHaveLength(5000);
  });

  it('downloads the result as CSV: the bytes the API sends', async () => {
    await typeQuery('SELECT city, units FROM "city-sales" ORDER BY date LIMIT 3');
    await runAndWait();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-format="csv"]')]);
    const file = await download.path();
    const expected = await (await api('/sql', { method: 'POST', body: JSON.stringify({ sql: 'SELECT city, units FROM "city-sales" ORDER BY date LIMIT 3', format: 'csv' }) })).text();
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
    expect(download.suggestedFilename()).toMatch(/^result-.+\.csv$/);
  });

  it("an engine error shows the API's code and message", async () => {
    await typeQuery('SELECT * FROM no_such_dataset');
    await runAndWait();
    const body = (await (await api('/sql', { method: 'POST', body: JSON.stringify({ sql: 'SELECT * FROM no_such_dataset' }) })).json()) as { error: { code: string; message: string } };
    expect(await page.textContent('#result .error .code')).toBe(body.error.code);
    expect(await page.textContent('#result .error')).toContain(body.error.message);
    expect(await page.locator('.history-list li').count()).toBeGreaterThanOrEqual(5);
    await shot('08-sql-error');
  });

  it('keyboard only: a file picked and uploaded without the mouse; the failure shows its line and column and the line itself', async () => {
    await page.goto(`${stack.api}/#/upload`);
    await page.reload(); // a fresh page: the keyboard starts from the top
    await tabTo('#pick');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles(path.join(FIXTURES, 'broken.csv'));
    // the name field has the focus; the name derived from the file is kept
    expect(await page.evaluate(() => document.activeElement.value)).toBe('broken');
    await tabTo('#upload-start');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.job[data-state="failed"], .job[data-state="ready"]', { timeout: 90_000 });
    const job = page.locator('.job').first();
    expect(await job.getAttribute('data-state')).toBe('failed');
    expect(await job.locator('.error .code').textContent()).toBe('ragged_row');
    expect(await job.locator('.error .where').textContent()).toBe('Line 4, column 4');
    await job.locator('.offending').waitFor();
    expect(await job.locator('.offending').textContent()).toBe('4 3,gamma,30,extra');
    await shot('09-upload-failed');
  });

  it('with bad rows quarantined the same file is ready, with the rejected row behind the rejects link', async () => {
    await dropFile(path.join(FIXTURES, 'broken.csv'));
    await page.selectOption('#bad-rows', 'quarantine');
    const jobs = await page.locator('.job').count();
    await page.click('#upload-start');
    await page.waitForFunction((n) => document.querySelectorAll('.job').length === n + 1, jobs);
    const job = page.locator('.job').first();
    await page.waitForFunction(() => ['ready', 'failed'].includes(document.querySelector('.job')?.getAttribute('data-state') ?? ''), undefined, { timeout: 90_000 });
    // on failure the page's error text says why (seen once on a loaded CI machine, not reproduced)
    const state = await job.getAttribute('data-state');
    expect({ state, error: state === 'failed' ? await job.locator('.error').textContent() : null }).toEqual({ state: 'ready', error: null });
    expect(await job.locator('.summary .rows').textContent()).toBe('3 rows');
    expect(await job.locator('.rejects').textContent()).toMatch(/^Rejected rows: 1\./);
    const href = (await job.locator('.rejects-link').getAttribute('href'))!;
    expect(new URL(href).origin).toBe(stack.s3);
    expect(await (await fetch(href)).text()).toContain('3,gamma,30,extra');
    await shot('10-upload-quarantine');
  });

  it('keyboard only: to the SQL view, a query typed and run with Ctrl-Enter, the result grid reached by Tab', async () => {
    await tabTo('a[data-nav="sql"]');
    await page.keyboard.press('Enter');
    // the view puts the focus in the editor
    await page.waitForFunction(() => document.activeElement?.classList.contains('cm-content') ?? false);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT count(*) AS n FROM "city-sales"');
    await page.keyboard.press('Escape');
    await runAndWait();
    expect(await page.textContent('#result .row-count')).toBe('1 row');
    await tabTo('#result .grid');
    expect(await page.textContent('#result .g-body [role="gridcell"]')).toBe('12');
  });

  it('the catalog lists the dataset; its page shows the schema, objects and any version’s manifest', async () => {
    await page.click('a[data-nav="catalog"]');
    const row = page.locator('table.catalog tbody tr', { hasText: 'city-sales' });
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['12', '5', '1', '1', expect.stringMatching(/UTC$/)]);
    await shot('11-catalog');
    await row.locator('a').click();
    await page.waitForSelector('table.schema');
    expect(await page.locator('table.schema tbody th').allTextContents()).toEqual(['date', 'city', 'amount', 'units', 'code']);
    expect(await page.locator('table.objects tbody tr').count()).toBe(1);
    await page.click('button[data-version="1"]');
    await page.waitForSelector('.manifest pre.json');
    const shown = JSON.parse((await page.textContent('.manifest pre.json'))!) as { version: number; name: string };
    expect(shown).toMatchObject({ version: 1, name: 'city-sales' });
    await shot('12-dataset');
  });

  it('axe-core: no critical accessibility violations on the main views', async () => {
    await axe('dataset page');
    await page.click('a[data-nav="catalog"]');
    await page.waitForSelector('table.catalog');
    await axe('catalog');
    await page.click('a[data-nav="upload"]');
    await axe('upload');
    await page.click('a[data-nav="sql"]');
    await typeQuery('SELECT city, sum(amount) AS total FROM "city-sales" GROUP BY city ORDER BY city');
    await runAndWait();
    await axe('sql with a result');
    await page.click('#show-chart');
    await page.waitForSelector('figure.chart canvas');
    await axe('sql with a chart');
  });

  it('a 401 later (the token is rotated away) brings the prompt back', async () => {
    await page.evaluate(() => sessionStorage.setItem('lakehouse.token', 'stale'));
    await page.click('a[data-nav="catalog"]');
    await page.locator('#token-dialog').waitFor({ state: 'visible' });
    await page.fill('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('table.catalog').waitFor();
  });

  it('no Content-Security-Policy violation and no page error in the whole run', async () => {
    const inPage = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
    expect([...violations, ...inPage]).toEqual([]);
    const r = await fetch(`${stack.api}/`);
    expect(r.headers.get('content-security-policy')).toContain(`connect-src 'self' ${stack.s3};`);
  });
});
