/**
 * The early conversion (ADR 0004): when the table is the whole file in a shape DuckDB reads as is,
 * DuckDB converts with the head sample's types while the full scan runs. The scan decides: the
 * result is kept only if the scan ends with the same schema and nothing to set aside.
 */
import path from 'node:path';
import { log } from '../log.js';
import { startConversion, type Conversion } from './convert.js';
import type { Analysis, Column, Plan } from './analyze.js';
import { sameColumns } from './analyze.js';

export class EarlyConversion {
  private constructor(
    private readonly conversion: Conversion,
    private readonly columns: Column[],
    private readonly result: Promise<{ rows?: number; error?: unknown }>,
    readonly output: string,
  ) {}

  /** Starts converting when the plan allows it; undefined otherwise. */
  static async start(plan: Plan, workDir: string): Promise<EarlyConversion | undefined> {
    if (!plan.direct) return undefined;
    const output = path.join(workDir, 'early.parquet');
    const conversion = await startConversion({
      input: plan.text.file,
      output,
      dialect: plan.detection.dialect,
      header: plan.detection.header,
      columns: plan.sampleColumns,
      maxRecordBytes: plan.detection.sampleMaxRecord * 4,
    });
    const result = conversion.done.then(
      (rows) => ({ rows }),
      (error: unknown) => ({ error }),
    );
    return new EarlyConversion(conversion, plan.sampleColumns, result, output);
  }

  /** Stops it and waits until DuckDB has let go of the files. */
  async cancel(): Promise<void> {
    this.conversion.cancel();
    await this.result;
  }

  /**
   * The rows it wrote, if the full scan confirmed its schema and it succeeded; otherwise it is
   * cancelled (or its failure logged) and undefined is returned.
   */
  async keep(a: Analysis): Promise<number | undefined> {
    if (a.needsCopy || !sameColumns(a.columns, this.columns)) {
      await this.cancel();
      return undefined;
    }
    const r = await this.result;
    if (r.rows === undefined) log.info('ingest: early conversion failed; converting again', { err: r.error });
    return r.rows;
  }
}
