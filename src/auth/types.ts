// Shapes shared by the auth layer and its callers (http middleware, body decoding).
// Nothing here knows about Koa or sockets: a request is just its wire-level parts.

export interface AuthRequest {
  method: string;
  /** Path exactly as received on the wire, still percent-encoded, no query. */
  rawPath: string;
  /** Query string as received, without '?', may be ''. */
  rawQuery: string;
  /**
   * Lower-case names, as node's IncomingMessage.headers. Prefer `headersDistinct` (arrays):
   * node joins repeated headers with ', ' while SigV4/SigV2 join them with ','.
   */
  headers: Record<string, string | string[] | undefined>;
  host?: string;
  /**
   * Bucket named by the Host header (virtual-hosted style), if any. Only SigV2 needs it:
   * its CanonicalizedResource starts with '/<bucket>' even when the path does not.
   */
  virtualHostBucket?: string;
}

export interface SecretLookup {
  (accessKeyId: string): string | undefined;
}

export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; expectedHex: string }
  | { kind: 'streaming-signed'; trailer: boolean; seed: ChunkSigningContext }
  | { kind: 'streaming-unsigned-trailer' };

export interface ChunkSigningContext {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface AuthResult {
  accessKeyId: string;
  payload: PayloadMode;
  signatureVersion: 'v4' | 'v2';
  presigned: boolean;
  /** Signed in a browser form's fields (PostObject): s3:authtype POST. */
  form?: true;
}
