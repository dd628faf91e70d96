/**
 * The upload view: drop (or pick) CSV/TSV/gzip files, give each a dataset name (from the file name,
 * editable, checked as the API checks it), choose mode, bad-row handling and CSV hints, upload.
 */
import { bytes, clear, h, uid } from './dom.js';
import { nameFromFile, nameProblem } from './names.js';
import { startUpload, type UploadOptions } from './upload-job.js';
import type { CsvHints } from './types.js';

interface Staged {
  file: File;
  input: HTMLInputElement;
}

const ACCEPT = '.csv,.tsv,.tab,.txt,.gz,text/csv,text/tab-separated-values,text/plain,application/gzip';

function select(id: string, label: string, options: Array<[string, string]>): [HTMLLabelElement, HTMLSelectElement] {
  return [h('label', { for: id }, label), h('select', { id }, ...options.map(([v, t]) => h('option', { value: v }, t)))];
}

function hintsForm(): { el: HTMLElement; read: () => CsvHints | undefined } {
  const [dl, delim] = select('hint-delimiter', 'Delimiter', [['', 'detect'], [',', 'comma ,'], [';', 'semicolon ;'], ['\t', 'tab'], ['|', 'pipe |'], [':', 'colon :'], ['^', 'caret ^'], [' ', 'space']]);
  const [ql, quote] = select('hint-quote', 'Quote', [['', 'detect'], ['"', 'double "'], ["'", "single '"], ['none', 'none']]);
  const [el, escape] = select('hint-escape', 'Escape', [['', 'detect'], ['quote', 'doubled quote'], ['\\', 'backslash \\']]);
  const [hl, header] = select('hint-header', 'Header row', [['', 'detect'], ['true', 'yes'], ['false', 'no']]);
  const [enl, encoding] = select('hint-encoding', 'Encoding', [['', 'detect'], ['utf-8', 'UTF-8'], ['utf-16', 'UTF-16'], ['windows-1252', 'Windows-1252'], ['latin-1', 'Latin-1']]);
  const skip = h('input', { id: 'hint-skip', type: 'number', min: 0, max: 1000, inputmode: 'numeric' });
  const details = h(
    'details',
    { class: 'hints' },
    h('summary', {}, 'CSV hints (only when detection gets a file wrong)'),
    h('div', { class: 'grid2' }, dl, delim, ql, quote, el, escape, hl, header, h('label', { for: 'hint-skip' }, 'Lines before the table'), skip, enl, encoding),
  );
  const read = (): CsvHints | undefined => {
    const hints: CsvHints = {};
    if (delim.value) hints.delimiter = delim.value;
    if (quote.value) hints.quote = quote.value === 'none' ? '' : quote.value;
    if (escape.value) hints.escape = escape.value === 'quote' ? (hints.quote || '"') : escape.value;
    if (header.value) hints.header = header.value === 'true';
    if (skip.value !== '') hints.skip_lines = Number(skip.value);
    if (encoding.value) hints.encoding = encoding.value;
    return Object.keys(hints).length ? hints : undefined;
  };
  return { el: details, read };
}

export function uploadView(): HTMLElement {
  let staged: Staged[] = [];
  const fileInput = h('input', { type: 'file', id: 'file-input', multiple: true, accept: ACCEPT, class: 'visually-hidden', tabindex: -1, 'aria-hidden': 'true' });
  const pick = h('button', { type: 'button', id: 'pick' }, 'Choose files…');
  const drop = h('div', { id: 'drop', class: 'drop' }, h('p', {}, 'Drop CSV, TSV or gzip files here, or '), pick, fileInput);
  const list = h('tbody', {});
  const [ml, mode] = select('mode', 'Mode', [['replace', 'replace the dataset'], ['append', 'append to it']]);
  const [bl, badRows] = select('bad-rows', 'Rows that do not fit', [['fail', 'fail the upload'], ['quarantine', 'set them aside (quarantine)']]);
  const overwrite = h('input', { type: 'checkbox', id: 'schema-overwrite' });
  const hints = hintsForm();
  const submit = h('button', { type: 'submit', id: 'upload-start' }, 'Upload');
  const formError = h('p', { class: 'error-text', role: 'alert' });
  const form = h(
    'form',
    { id: 'upload-form', hidden: true, novalidate: true },
    h('table', { class: 'staged' }, h('caption', {}, 'Files to upload'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, 'Dataset name'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Remove')))), list),
    h('div', { class: 'grid2' }, ml, mode, bl, badRows, h('label', { for: 'schema-overwrite' }, 'Schema change'), h('span', {}, overwrite, ' overwrite the schema (replace only)')),
    hints.el,
    h('div', { class: 'row' }, submit, formError),
  );
  const jobs = h('div', { id: 'jobs', 'aria-live': 'polite' });

  const render = () => {
    form.hidden = staged.length === 0;
    clear(list);
    staged.forEach((s, i) => {
      const err = h('span', { class: 'error-text', id: uid('name-err') });
      const check = () => {
        const p = nameProblem(s.input.value);
        err.textContent = p ?? '';
        s.input.setAttribute('aria-invalid', p ? 'true' : 'false');
      };
      s.input.setAttribute('aria-describedby', err.id);
      s.input.oninput = check;
      check();
      const remove = h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${s.file.name}` }, '✕');
      remove.addEventListener('click', () => {
        staged = staged.filter((_, j) => j !== i);
        render();
      });
      list.append(h('tr', {}, h('td', {}, s.file.name), h('td', { class: 'num' }, bytes(s.file.size)), h('td', {}, s.input, err), h('td', {}, remove)));
    });
  };

  const add = (files: Iterable<File>) => {
    for (const file of files) {
      const input = h('input', { type: 'text', class: 'name', value: nameFromFile(file.name), 'aria-label': `Dataset name for ${file.name}`, spellcheck: 'false', autocomplete: 'off' });
      staged.push({ file, input });
    }
    render();
    staged[0]?.input.focus();
  };

  pick.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    add(fileInput.files ?? []);
    fileInput.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    add(e.dataTransfer?.files ?? []);
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const bad = staged.find((s) => nameProblem(s.input.value));
    if (bad) {
      formError.textContent = `Fix the dataset name of ${bad.file.name}.`;
      bad.input.focus();
      return;
    }
    formError.textContent = '';
    const opts: UploadOptions = {
      mode: mode.value as UploadOptions['mode'],
      bad_rows: badRows.value as UploadOptions['bad_rows'],
      ...(overwrite.checked ? { schema_change: 'overwrite' as const } : {}),
      csv: hints.read(),
    };
    const batch = staged;
    staged = [];
    render();
    // in order: two files for one dataset (append) go in one after the other
    void batch.reduce<Promise<unknown>>((prev, s) => prev.then(() => startUpload(s.file, s.input.value, opts, jobs)), Promise.resolve());
  });

  return h('section', { class: 'view', 'aria-labelledby': 'upload-title' }, h('h1', { id: 'upload-title' }, 'Upload CSV files'), drop, form, h('h2', { class: 'visually-hidden' }, 'Uploads'), jobs);
}
