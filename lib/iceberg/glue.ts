/**
 * Optional AWS Glue registration (LAKEHOUSE_GLUE_DATABASE): each published version points the
 * dataset's Glue table at its metadata file, the way Iceberg's own GlueTableOperations does —
 * `table_type=ICEBERG`, `metadata_location`, `previous_metadata_location`, and `VersionId` for an
 * optimistic update — so Athena (and anything else reading Glue) sees the same table.
 */
import {
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  UpdateTableCommand,
  type TableInput,
} from '@aws-sdk/client-glue';
import { config } from '../config.js';
import { MetadataFileName } from './types.js';
import type { IcebergPrimitive } from './types.js';

let client: GlueClient | undefined;
function glue(): GlueClient {
  client ??= new GlueClient({ region: config().region });
  return client;
}

/** Hive type names for the Glue columns (informational: Athena reads the schema from the metadata). */
export function hiveType(t: IcebergPrimitive): string {
  if (t === 'long') return 'bigint';
  if (t === 'timestamptz') return 'timestamp';
  if (t.startsWith('decimal')) return t.replace(/\s/g, '');
  return t;
}

export interface GlueTableArgs {
  name: string;
  location: string;
  metadataLocation: string;
  previousMetadataLocation?: string;
  columns?: Array<{ name: string; type: IcebergPrimitive }>;
}

/** The TableInput of CreateTable / UpdateTable for a published version. */
export function tableInput(a: GlueTableArgs): TableInput {
  return {
    Name: a.name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      table_type: 'ICEBERG',
      metadata_location: a.metadataLocation,
      ...(a.previousMetadataLocation ? { previous_metadata_location: a.previousMetadataLocation } : {}),
    },
    StorageDescriptor: {
      Location: a.location,
      ...(a.columns ? { Columns: a.columns.map((c) => ({ Name: c.name, Type: hiveType(c.type) })) } : {}),
    },
  };
}

/** Is `candidate` an older version than `current` (both metadata locations of ours)? */
export function isOlder(candidate: string, current: string | undefined): boolean {
  const v = (loc: string | undefined) => (loc ? MetadataFileName.parse(loc.slice(loc.lastIndexOf('/') + 1))?.version : undefined);
  const a = v(candidate);
  const b = v(current);
  return a !== undefined && b !== undefined && a <= b;
}

/**
 * Creates or updates the Glue table; returns the number of Glue requests made. A version older
 * than the one Glue already points at is left alone (a late publisher never moves Glue back).
 */
export async function registerInGlue(name: string, location: string, metadataLocation: string, columns?: GlueTableArgs['columns']): Promise<number> {
  const DatabaseName = config().glueDatabase!;
  let requests = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    requests++;
    const current = await glue()
      .send(new GetTableCommand({ DatabaseName, Name: name }))
      .catch((e: unknown) => {
        if (e instanceof EntityNotFoundException) return undefined;
        throw e;
      });
    const table = current?.Table;
    requests++;
    try {
      if (!table) {
        await glue().send(new CreateTableCommand({ DatabaseName, TableInput: tableInput({ name, location, metadataLocation, columns }) }));
        return requests;
      }
      const was = table.Parameters?.metadata_location;
      if (was === metadataLocation || isOlder(metadataLocation, was)) return requests - 1;
      await glue().send(
        new UpdateTableCommand({
          DatabaseName,
          VersionId: table.VersionId,
          TableInput: tableInput({ name, location, metadataLocation, previousMetadataLocation: was, columns }),
        }),
      );
      return requests;
    } catch (e) {
      if (e instanceof ConcurrentModificationException || (e as { name?: string }).name === 'AlreadyExistsException') continue;
      throw e;
    }
  }
  throw new Error(`Glue table ${DatabaseName}.${name} kept changing; not updated`);
}
