// One aggregate pass of the admin API (see aggregates.ts), on its own thread with its own
// read-only connection: runs the statements in one read transaction (one snapshot), answers
// once with their rows or the error, and ends.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { file, statements } = workerData as { file: string; statements: string[] };
let db: Database.Database | undefined;
try {
  db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const conn = db;
  const rows = conn.transaction(() => statements.map((q) => conn.prepare(q).all()))();
  parentPort!.postMessage({ rows });
} catch (e) {
  parentPort!.postMessage({ error: String((e && (e as Error).message) || e) });
} finally {
  db?.close();
}
