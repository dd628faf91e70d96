/**
 * The bearer token (docs/api.md "Auth"): asked for once, when the API first answers 401, kept in
 * sessionStorage (this tab only, gone when it closes); a later 401 — a wrong or rotated token —
 * brings the prompt back.
 */
import { byId } from './dom.js';

const KEY = 'lakehouse.token';
let pending: Promise<string> | undefined;

export function currentToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

function showState(): void {
  byId('auth-state').textContent = currentToken() ? 'token set' : '';
}

/** Asks for a token (one prompt however many requests were refused at once). Rejects on cancel. */
export function askToken(refused: boolean): Promise<string> {
  pending ??= new Promise<string>((resolve, reject) => {
    const dialog = byId<HTMLDialogElement>('token-dialog');
    const form = byId<HTMLFormElement>('token-form');
    const input = byId<HTMLInputElement>('token-input');
    const cancel = byId<HTMLButtonElement>('token-cancel');
    byId('token-why').textContent = refused ? 'The API refused the token (401 unauthorized). Enter the right one.' : 'This API needs a bearer token (401 unauthorized).';
    input.value = '';
    const done = (token: string | undefined) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      pending = undefined;
      if (token) {
        sessionStorage.setItem(KEY, token);
        showState();
        resolve(token);
      } else reject(new Error('No token given.'));
    };
    const onSubmit = (e: Event) => {
      e.preventDefault();
      const t = input.value.trim();
      if (t) done(t);
    };
    const onCancel = (e: Event) => {
      e.preventDefault();
      done(undefined);
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
  return pending;
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  showState();
}

export function initToken(): void {
  showState();
}
