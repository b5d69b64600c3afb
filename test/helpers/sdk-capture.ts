import type { AuthRequest } from '../../src/auth/types.js';

/** A request as the SDK's middleware stack handed it to the HTTP layer. */
export interface Captured {
  method: string;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

// The SDK's node handler escapes the query this way when it writes the request line.
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/** What the server's auth layer would see for a captured SDK request. */
export function toAuthRequest(c: Captured): AuthRequest {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(c.query)) {
    if (v === null) parts.push(escape(k));
    else for (const x of Array.isArray(v) ? v : [v]) parts.push(`${escape(k)}=${escape(x)}`);
  }
  const headers: Record<string, string> = {};
  // Node hands the server trimmed header values.
  for (const [k, v] of Object.entries(c.headers)) headers[k.toLowerCase()] = String(v).trim();
  return { method: c.method, rawPath: c.path, rawQuery: parts.join('&'), headers };
}
