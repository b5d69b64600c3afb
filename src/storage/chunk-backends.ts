// Picks the chunk backend the configuration names (`--chunks`): another S3 store, a folder
// (possibly shared by several gateways), or by default the data dir.
import path from 'node:path';
import type { Config } from '../config.js';
import type { ChunkBackend } from './backend.js';
import { LocalDiskBackend, type ChunkFsOps } from './local-disk.js';
import { parseChunksUrl, S3ChunkBackend } from './s3-backend.js';

export function chunkBackendFor(
  config: Pick<Config, 'chunks' | 'chunksEndpoint' | 'chunksRegion' | 'chunksAccessKeyId' | 'chunksSecretAccessKey' | 'durability'>,
  dataDir: string,
  opts: { fsOps?: Partial<ChunkFsOps>; gatewayId?: string } = {},
): ChunkBackend {
  const where = config.chunks;
  if (where?.startsWith('s3://')) {
    const { bucket, prefix } = parseChunksUrl(where);
    const { chunksAccessKeyId: accessKeyId, chunksSecretAccessKey: secretAccessKey } = config;
    // config.ts already refused a missing pair; this keeps the SDK off its default chain.
    if (!accessKeyId || !secretAccessKey) throw new Error('an s3:// chunk store needs CAIRN_CHUNKS_ACCESS_KEY_ID and CAIRN_CHUNKS_SECRET_ACCESS_KEY');
    return new S3ChunkBackend({ bucket, prefix, endpoint: config.chunksEndpoint, region: config.chunksRegion, credentials: { accessKeyId, secretAccessKey } });
  }
  return new LocalDiskBackend({ dataDir: where ? path.resolve(where) : dataDir, durability: config.durability, fsOps: opts.fsOps, gatewayId: opts.gatewayId });
}

/** Whether chunks live somewhere other gateways reach too (not the data dir of this process). */
export function chunksShared(config: Pick<Config, 'chunks'>): boolean {
  return config.chunks?.startsWith('s3://') ?? false;
}
