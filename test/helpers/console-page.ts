/**
 * Driving the web console in a playwright page the way a person does (keys, a dropped file), and
 * reading what it drew (canvas pixels, axe-core's report). Used by test/console.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// Browser globals as the page functions below see them: the tests are compiled with Node's types
// only (the DOM library would change the types of Node's fetch for every test).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const DataTransfer: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** console/chart.ts COLORS[0]: bars, the first line, scatter points. */
export const FIRST_SERIES_RGB = [0x2b, 0x6c, 0xb0];

/** Presses Tab until the element matching `selector` has the focus (keyboard-only use). */
export async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Drops a file from disk on the drop zone, as a drag from the file manager does. */
export async function dropFile(page: Page, file: string): Promise<void> {
  const b64 = fs.readFileSync(file).toString('base64');
  const dt = await page.evaluateHandle(
    ({ name, data }) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: 'text/csv' }));
      return transfer;
    },
    { name: path.basename(file), data: b64 },
  );
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
}

/** Replaces the editor's text by typing (select all, then the keys). */
export async function typeQuery(page: Page, sql: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(sql);
  // a completion popup may be open after the last word: close it so Ctrl-Enter is not taken by it
  await page.keyboard.press('Escape');
}

/** Ctrl-Enter, then waits until the result area shows a new result or error. */
export async function runAndWait(page: Page): Promise<void> {
  const before = await page.evaluate(() => document.querySelector('#result .meta, #result .error')?.textContent ?? '');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((prev) => {
    const el = document.querySelector('#result .meta, #result .error');
    return !!el && el.textContent !== prev;
  }, before);
}

/** The most runs of the bar colour along one pixel row of the chart's canvas: the bars drawn. */
export async function barsOnCanvas(page: Page): Promise<number> {
  return page.evaluate((rgb) => {
    const canvas = document.querySelector('figure.chart canvas');
    if (!canvas) return -1;
    const { width, height } = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data as Uint8ClampedArray;
    let most = 0;
    for (let y = 0; y < height; y++) {
      let runs = 0;
      let inRun = false;
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const hit = Math.abs(data[i]! - rgb[0]!) <= 6 && Math.abs(data[i + 1]! - rgb[1]!) <= 6 && Math.abs(data[i + 2]! - rgb[2]!) <= 6 && data[i + 3]! > 200;
        if (hit && !inRun) runs++;
        inRun = hit;
      }
      most = Math.max(most, runs);
    }
    return most;
  }, FIRST_SERIES_RGB);
}

/** How many pixels of the first series colour the chart's canvas holds. */
export async function pixelsOfColour(page: Page): Promise<number> {
  return page.evaluate((rgb) => {
    const canvas = document.querySelector('figure.chart canvas');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data as Uint8ClampedArray;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - rgb[0]!) <= 6 && Math.abs(data[i + 1]! - rgb[1]!) <= 6 && Math.abs(data[i + 2]! - rgb[2]!) <= 6 && data[i + 3]! > 200) n++;
    return n;
  }, FIRST_SERIES_RGB);
}

/** axe-core's violations on the page as it is. */
export async function axeViolations(page: Page): Promise<Array<{ id: string; impact: string; targets: string[] }>> {
  const source = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // evaluated through the DevTools protocol, which the page's CSP does not govern
  await page.evaluate(source);
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: unknown, o: object) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return result;
}
