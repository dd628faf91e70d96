/**
 * One file's way in: POST /uploads (presign) → PUT straight to S3 with a byte progress bar →
 * GET /uploads/{id}?wait= until it is ready, failed or expired, shown live; then the report.
 */
import { ApiError, apiJson } from './api.js';
import { bytes, h } from './dom.js';
import { failedReport, readyReport } from './report.js';
import type { CsvHints, PresignedUpload, UploadStatus } from './types.js';

export interface UploadOptions {
  mode: 'replace' | 'append';
  bad_rows: 'fail' | 'quarantine';
  schema_change?: 'overwrite';
  csv?: CsvHints;
}

/** Seconds GET /uploads/{id}?wait= may hold the answer (the API's maximum is 20). */
const STATUS_WAIT_S = 20;
const PACE_MS = 100;
const STATES = ['pending', 'ingesting', 'ready'] as const;

/** PUTs the file to the presigned URL; progress in bytes as the browser reports them. */
function put(p: PresignedUpload, file: File, progress: (loaded: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', p.url);
    // Content-Length is the browser's to set (it is the file's size, as signed)
    for (const [k, v] of Object.entries(p.headers)) if (k.toLowerCase() !== 'content-length') xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => progress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`S3 refused the upload (HTTP ${xhr.status}).`))));
    xhr.addEventListener('error', () => reject(new Error('The upload to S3 failed (network or CORS).')));
    xhr.send(file);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function startUpload(file: File, name: string, opts: UploadOptions, into: HTMLElement): Promise<UploadStatus | undefined> {
  const bar = h('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload of ${file.name}` });
  const byteText = h('span', { class: 'bytes' }, `0 of ${file.size} bytes`);
  const steps = h('ol', { class: 'steps' }, ...STATES.map((s) => h('li', { 'data-step': s }, s)));
  const state = h('p', { class: 'state' }, 'Requesting an upload URL…');
  const result = h('div', { class: 'result' });
  const card = h('article', { class: 'job', 'data-state': 'presigning', 'aria-label': `${file.name} → ${name}` }, h('h3', {}, `${file.name} → `, h('code', {}, name)), h('div', { class: 'progress' }, bar, ' ', byteText), steps, state, result);
  into.prepend(card);

  const setState = (s: string, text: string) => {
    card.dataset.state = s;
    state.textContent = text;
    const idx = STATES.indexOf(s as (typeof STATES)[number]);
    // the last step says how it ended
    steps.lastElementChild!.textContent = s === 'failed' || s === 'expired' ? s : 'ready';
    steps.querySelectorAll('li').forEach((li, i) => {
      li.classList.toggle('done', idx >= 0 && i < idx);
      li.classList.toggle('current', i === idx);
    });
  };
  const fail = (e: unknown) => {
    setState('failed', 'Failed.');
    const msg = e instanceof ApiError ? [h('strong', { class: 'code' }, e.code), ': ', e.message] : [e instanceof Error ? e.message : String(e)];
    result.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', {}, ...msg)));
    return undefined;
  };

  return (async () => {
    const body = { name, mode: opts.mode, bad_rows: opts.bad_rows, size: file.size, filename: file.name, ...(opts.csv ? { csv: opts.csv } : {}), ...(opts.schema_change ? { schema_change: opts.schema_change } : {}) };
    const p = await apiJson<PresignedUpload>('/uploads', { method: 'POST', json: body });
    setState('uploading', `Uploading straight to S3 (upload ${p.upload_id})…`);
    await put(p, file, (loaded, total) => {
      bar.max = total || 1;
      bar.value = loaded;
      byteText.textContent = `${loaded} of ${total} bytes (${bytes(loaded)})`;
    });
    setState('pending', 'Uploaded; waiting for the ingest…');
    let last = '';
    for (;;) {
      // the server holds the answer until the state moves (?wait=); an unchanged answer (the wait ran out) is paced
      const s = await apiJson<UploadStatus>(`/uploads/${encodeURIComponent(p.upload_id)}?wait=${STATUS_WAIT_S}`);
      if (s.state === 'pending' || s.state === 'ingesting') {
        setState(s.state, s.state === 'pending' ? 'Uploaded; waiting for the ingest…' : 'Ingesting: detecting the dialect and types, converting to Parquet…');
        if (s.state === last) await sleep(PACE_MS);
        last = s.state;
        continue;
      }
      if (s.state === 'ready') {
        setState('ready', 'Ready.');
        result.replaceChildren(readyReport(s));
        document.dispatchEvent(new CustomEvent('lakehouse:catalog-changed'));
      } else {
        setState(s.state, s.state === 'expired' ? 'Expired: the file never arrived.' : 'Failed.');
        result.replaceChildren(failedReport(s, file));
      }
      return s;
    }
  })().catch(fail);
}
