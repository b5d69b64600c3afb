import type { CORSRule } from '@aws-sdk/client-s3';

// The shape of test/fixtures/datadir-0.1.0/MANIFEST.json: written by scripts/make-upgrade-fixture.ts,
// read by test/integration/upgrade.test.ts.

export interface ManifestObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  md5: string;
  contentType: string;
  metadata: Record<string, string>;
  checksumCRC32?: string;
  /** How the release stored it: 'inline' (bytes in the SQLite row), chunk files, or nothing (empty). */
  stored: 'inline' | 'files' | 'none';
  chunks: number;
  parts?: Array<{ partNumber: number; size: number; md5: string }>;
}

export interface Manifest {
  buckets: Array<{ name: string; public: boolean; cors?: CORSRule[] }>;
  objects: ManifestObject[];
  inProgressUpload: {
    bucket: string;
    key: string;
    uploadId: string;
    contentType: string;
    metadata: Record<string, string>;
    parts: Array<{ partNumber: number; size: number; etag: string; md5: string }>;
  };
  accessKey: { id: string; secret: string; grants: Array<{ bucket: string; permission: 'read' | 'write' }> };
  stats: { chunks: number; objects: number };
}
