/**
 * The SQL editor: CodeMirror 6 with SQL highlighting, completion of keywords and of the catalog's
 * dataset and column names (updated when the catalog changes), and Ctrl/Cmd-Enter to run. Tab is
 * left to the browser, so keyboard users can move on from the editor.
 */
import { basicSetup } from 'codemirror';
import { EditorView, keymap } from '@codemirror/view';
import { Compartment, Prec } from '@codemirror/state';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';

/** The default colours, but quoted identifiers (#e40 there) dark enough for 4.5:1 contrast. */
const contrast = HighlightStyle.define([{ tag: [tags.special(tags.string), tags.regexp, tags.escape], color: '#b32d00' }]);

export interface SqlEditor {
  view: EditorView;
  text(): string;
  set(text: string): void;
  setSchema(schema: Record<string, string[]>): void;
}

/** The nonce the page was served with, read from this script's own tag. */
const nonce = document.currentScript?.nonce ?? '';

export function createEditor(parent: HTMLElement, onRun: () => void, initial = ''): SqlEditor {
  const language = new Compartment();
  const lang = (schema: Record<string, string[]>) => sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true });
  const view = new EditorView({
    doc: initial,
    parent,
    extensions: [
      Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => (onRun(), true) }])),
      Prec.high(syntaxHighlighting(contrast)),
      basicSetup,
      language.of(lang({})),
      EditorView.lineWrapping,
      // the CSP allows CodeMirror's own <style> element by the page's nonce (lib/console/page.ts)
      EditorView.cspNonce.of(nonce),
      EditorView.contentAttributes.of({ 'aria-label': 'SQL query (Ctrl or Cmd + Enter runs it)', id: 'sql-input' }),
    ],
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    set: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: text.length } }),
    setSchema: (schema) => view.dispatch({ effects: language.reconfigure(lang(schema)) }),
  };
}
