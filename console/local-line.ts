/**
 * Line N of the user's own file, read in the browser (gzip through DecompressionStream), so a
 * failed upload can show the offending line next to the API's line and column. Reads only as far
 * as that line.
 */
const MAX_CHARS = 2000;

export async function localLine(file: File, line: number): Promise<string | undefined> {
  let stream: ReadableStream<Uint8Array> = file.stream();
  if (/\.(gz|gzip)$/i.test(file.name)) stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  const reader = stream.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let current = 1;
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return current === line && text ? text : undefined;
      let start = 0;
      for (;;) {
        const nl = value.indexOf('\n', start);
        const piece = value.slice(start, nl === -1 ? undefined : nl);
        if (current === line && text.length < MAX_CHARS) text += piece;
        if (nl === -1) break;
        if (current === line) return text.replace(/\r$/, '').slice(0, MAX_CHARS);
        current++;
        start = nl + 1;
      }
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}
