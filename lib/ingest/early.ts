/**
 * The early conversion (ADR 0004): when the table is the whole file in a shape DuckDB reads as is,
 * DuckDB converts with the head sample's types while the full scan runs. The scan decides: the
 * result is kept only if the scan ends with the same schema and nothing to set aside.
 *
 * When the file is still downloading (ADR 0014), DuckDB reads it through a named pipe that a pump
 * fills as the bytes arrive (fifo.ts), so download, scan and conversion overlap.
 */
import path from 'node:path';
import { config } from '../config.js';
import { log } from '../log.js';
import { startConversion, type Conversion } from './convert.js';
import type { Analysis, Column, Plan } from './analyze.js';
import type { Available } from './text.js';
import { sameColumns } from './analyze.js';
import { makeFifo, pumpInto, type Pump } from './fifo.js';

/**
 * Smaller files are converted from the finished file: waiting for the rest of them costs little,
 * and a pipe's end of file is only safe once DuckDB holds its end (a pipe larger than its buffer
 * cannot be filled before the reader opens it).
 */
const STREAM_MIN_BYTES = 8 * 1024 * 1024;

/** A file still arriving: the conversion streams it when it can. */
export interface Arriving {
  complete: boolean;
  size: number;
  available: Available;
}

export class EarlyConversion {
  private constructor(
    private readonly conversion: Conversion,
    private readonly columns: Column[],
    private readonly result: Promise<{ rows?: number; error?: unknown }>,
    readonly output: string,
    private readonly pump: Pump | undefined,
  ) {}

  /** Did DuckDB read the file while it downloaded? */
  get streamed(): boolean {
    return this.pump !== undefined;
  }

  /**
   * Starts converting when the plan allows it; undefined otherwise. A file still arriving is
   * streamed through a pipe when the system has them; else the conversion waits for the file.
   */
  static async start(plan: Plan, workDir: string, arriving?: Arriving): Promise<EarlyConversion | undefined> {
    if (!plan.direct) return undefined;
    const output = path.join(workDir, 'early.parquet');
    let input = plan.text.file;
    let pump: Pump | undefined;
    if (arriving && !arriving.complete) {
      const fifo = path.join(workDir, 'early.fifo');
      if (config().ingestOverlap === 'pipe' && arriving.size >= STREAM_MIN_BYTES && (await makeFifo(fifo))) {
        pump = pumpInto(fifo, plan.text.file, arriving.size, arriving.available);
        input = fifo;
      } else await arriving.available(arriving.size);
    }
    let conversion: Conversion;
    try {
      conversion = await startConversion({
        input,
        output,
        dialect: plan.detection.dialect,
        header: plan.detection.header,
        columns: plan.sampleColumns,
        maxRecordBytes: plan.detection.sampleMaxRecord * 4,
      });
    } catch (e) {
      pump?.stop();
      throw e;
    }
    const result = conversion.done.then(
      (rows) => ({ rows }),
      (error: unknown) => ({ error }),
    );
    // DuckDB has stopped reading: the pump has nothing left to do
    void result.then(() => pump?.stop());
    return new EarlyConversion(conversion, plan.sampleColumns, result, output, pump);
  }

  /** Stops it and waits until DuckDB has let go of the files. */
  async cancel(): Promise<void> {
    this.conversion.cancel();
    // a pipe read blocks until data or end of file comes: closing the pipe ends it
    this.pump?.stop();
    await this.result;
    await this.pump?.done;
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
