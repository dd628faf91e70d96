/**
 * Shapes of an upload's hints and report (docs/api.md), declarations only: no imports, so the
 * browser console can use the server's own definitions (console/types.ts).
 */
/** CSV hints from the upload request (contract v2, docs/api.md): each given field overrides detection. */
export interface CsvHints {
  delimiter?: string;
  quote?: string;
  escape?: string;
  header?: boolean;
  skip_lines?: number;
  encoding?: string;
}

export interface ColumnReport {
  name: string;
  type: string;
  non_empty: number;
  empty: number;
  reason: string;
  rejected_types?: Array<{ type: string; value: string; line: number; reason: string }>;
  renamed_from?: string;
}
