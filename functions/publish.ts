/**
 * Iceberg repair (`sls invoke -f publish`, payload `{"names"?: ["sales", …]}`): publishes every
 * dataset's head as Iceberg metadata, replaying each version whose metadata is missing (a publish
 * that failed after its commit). A direct invocation: a failure is thrown, so Lambda records it.
 */
import { publishAll } from '../lib/iceberg/publish.js';
import { invocationError } from '../lib/http/errors.js';

export const handler = async (event: unknown) => {
  const e = (event ?? {}) as { names?: unknown };
  const names = Array.isArray(e.names) && e.names.every((n) => typeof n === 'string') ? (e.names as string[]) : undefined;
  try {
    return { published: await publishAll(names) };
  } catch (err) {
    throw invocationError(err);
  }
};
