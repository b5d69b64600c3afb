import type { S3Context } from './context.js';
import type { AccessRequest } from '../auth/access.js';
import type { Access } from '../auth/authorize.js';

/** What authorization reads of a request (src/auth/access.ts). */
export function accessRequest(ctx: S3Context, op: { name: string; access: Access }): AccessRequest {
  const socket = ctx.req.socket as { remoteAddress?: string; encrypted?: boolean; getProtocol?: () => string | null };
  return {
    operation: op.name,
    access: op.access,
    bucket: ctx.state.bucket,
    key: ctx.state.key,
    principal: ctx.state.principal,
    auth: ctx.state.auth,
    headers: ctx.req.headers,
    query: ctx.state.query,
    remoteAddress: socket.remoteAddress,
    tlsVersion: socket.encrypted ? (socket.getProtocol?.() ?? 'TLS') : undefined,
  };
}

