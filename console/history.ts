/** The query history, kept in this browser (localStorage): newest first, no duplicates, at most 50. */
export interface HistoryEntry {
  sql: string;
  params: string;
  at: string;
  outcome: string;
}

const KEY = 'lakehouse.history';
const MAX = 50;

export function history(): HistoryEntry[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

export function remember(e: HistoryEntry): HistoryEntry[] {
  const list = [e, ...history().filter((x) => x.sql !== e.sql || x.params !== e.params)].slice(0, MAX);
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}

export function forgetHistory(): void {
  localStorage.removeItem(KEY);
}
