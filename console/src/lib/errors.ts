// Errors in words: every failure the console shows says what went wrong and what to do.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const HINTS: Record<string, string> = {
  Unauthorized: 'Sign-in was not accepted: check the admin token or the access key pair.',
  Forbidden: 'This access key is not allowed to do that.',
  NotFound: 'It does not exist (any more).',
  Conflict: 'It conflicts with the current state.',
  BadFilter: 'A search filter is not valid.',
  BadRequest: 'The request was not valid.',
  NotImplemented: 'This server does not support it.',
  InternalError: 'The server failed; its log has the details.',
  AccessDenied: 'Access denied: the key or link does not allow this.',
  SignatureDoesNotMatch: 'The signature was refused: check the secret key and the computer clock.',
  RequestTimeTooSkewed: "This device's clock is too far from the server's.",
  NoSuchKey: 'The object does not exist (any more).',
  NoSuchBucket: 'The bucket does not exist.',
  NoSuchUpload: 'The upload was already aborted or completed.',
  BucketNotEmpty: 'The bucket still holds objects.',
  EntityTooSmall: 'A part was smaller than the 5 MiB S3 minimum.',
  NetworkError: 'The server could not be reached. For uploads and downloads the S3 port must be reachable from this device and the bucket must allow this page (CORS).',
};

/** One sentence a person can act on, with the code kept for reference. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const hint = HINTS[err.code];
    const msg = err.message && err.message !== err.code ? err.message : '';
    const head = hint ?? `Request failed (HTTP ${err.status}).`;
    return `${head}${msg ? ` ${capitalize(msg)}${/[.!?]$/.test(msg) ? '' : '.'}` : ''} (${err.code})`;
  }
  if (err instanceof Error) {
    if (err.name === 'TypeError' && /fetch|network/i.test(err.message)) return `${HINTS.NetworkError} (${err.message})`;
    return capitalize(err.message);
  }
  return String(err);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
