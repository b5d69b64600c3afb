// Sends a GET body whose piece buffers are reused (storage's PieceStream). Koa would pipe it,
// and a pipe never says when the socket is done with a buffer; here each write's callback does,
// and only then does the buffer go back to the reader for a next piece. The app runs this after
// its last header was set (CORS included), in place of Koa's own response.
import type { ServerResponse } from 'node:http';
import type { PieceStream } from '../storage/chunk-reader.js';

/** Resolves true on 'drain', false once the response closed (the client went away). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Writes every piece, then ends the response. The stream reads its next piece while the socket
 * drains the last one (its high-water mark is one piece). A stream error is the body's own
 * 'error' listeners' business (the GET handler cuts the connection); this only stops writing.
 */
export async function sendPieces(res: ServerResponse, body: PieceStream): Promise<void> {
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      const more = res.write(piece, (err) => {
        // Written out (or failed): either way nobody reads this buffer again. On failure it is
        // simply dropped, in case the socket still held it.
        if (!err) body.recycle(piece);
      });
      if (!more && !(await drained(res))) break;
    }
    if (!res.destroyed) res.end();
  } catch {
    // The body failed mid-stream; its 'error' listener has already cut the connection.
    if (!res.destroyed) res.destroy();
  } finally {
    // Leaving the loop early (client gone) must still release the read's pins and files.
    if (!body.destroyed) body.destroy();
  }
}
