// SQLSTATEs of PostgreSQL errors the stores answer (node-postgres puts `code` on the error;
// drizzle may wrap it in `cause`).

function codeOf(err: unknown, code: string): { constraint?: string } | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === code) return e as { constraint?: string };
  }
  return undefined;
}

/** 23503: a row's foreign key names a row that is not there. */
export function isForeignKeyViolation(err: unknown): boolean {
  return codeOf(err, '23503') !== undefined;
}

/** 23505: the name of the unique constraint violated ('' when not given); undefined for any other error. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = codeOf(err, '23505');
  return e ? (e.constraint ?? '') : undefined;
}
