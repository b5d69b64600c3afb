import type { Command } from 'commander';
import { isSha256, type ChunkRecord, type ObjectRecord } from '../db/records/index.js';
import { openBackend } from './backend.js';
import { handle, requireObjectTarget, usage, withTarget, type TargetFlags } from './common.js';
import { lockWords, versionState } from './ls.js';
import { encryptionWords } from '../db/records/encryption.js';
import { fields, humanSize, humanTime, out, printJson, table } from './output.js';

const crcHex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

export function objectReport(r: ObjectRecord): string {
  const pairs: Array<[string, string]> = [
    ['Object', `${r.bucket}/${r.key}`],
    ['Version', `${r.versionId}${r.isLatest ? ' (latest)' : ''}${r.deleteMarker ? ' (delete marker)' : ''}`],
    ['Size', `${humanSize(r.size)} (${r.size} bytes)`],
    ['ETag', r.etag],
    ['Last modified', humanTime(r.lastModified)],
    ['Content type', r.contentType],
    ['Storage class', r.storageClass],
  ];
  if (r.checksumAlgorithm) pairs.push(['Checksum', `${r.checksumAlgorithm} ${r.checksumValue ?? ''}${r.checksumType ? ` (${r.checksumType})` : ''}`]);
  if (r.partCount !== null) pairs.push(['Parts', String(r.partCount)]);
  for (const [name, value] of [
    ['Content encoding', r.contentEncoding],
    ['Content disposition', r.contentDisposition],
    ['Content language', r.contentLanguage],
    ['Cache control', r.cacheControl],
    ['Expires', r.expires],
  ] as const) {
    if (value) pairs.push([name, value]);
  }
  for (const [k, v] of Object.entries(r.metadata)) pairs.push([`x-amz-meta-${k}`, v]);
  if (r.tags.length > 0) pairs.push(['Tags', r.tags.map((t) => `${t.key}=${t.value}`).join(', ')]);
  pairs.push(['Lock', lockWords(r.lock) || 'none']);
  pairs.push(['Encryption', encryptionWords(r.encryption)]);
  let s = fields(pairs);
  s += `\nChunks (${r.chunks.length}):\n`;
  s += r.chunks.length === 0
    ? '  (none: empty object)\n'
    : table(
        ['SEQ', 'OFFSET', 'SIZE', 'SHA256', 'CRC32C', 'REFS', 'SHARED', 'STORED'],
        r.chunks.map((c) => [String(c.seq), String(c.offset), humanSize(c.size), c.sha256, crcHex(c.crc32c), String(c.refcount), c.shared ? 'yes' : 'no', c.stored]),
        ['right', 'right', 'right', 'left', 'left', 'right'],
      );
  if (r.parts.length > 0) {
    s += `\nParts (${r.parts.length}):\n`;
    s += table(
      ['PART', 'OFFSET', 'SIZE', 'CHECKSUM'],
      r.parts.map((p) => [String(p.partNumber), String(p.offset), humanSize(p.size), p.checksum ?? '-']),
      ['right', 'right', 'right'],
    );
  }
  s += `\nVersions (${r.versions.length}${r.versionsTruncated ? '+' : ''}, newest first):\n`;
  s += table(
    ['VERSION', 'MODIFIED', 'SIZE', 'ETAG', 'STATE'],
    r.versions.map((v) => [
      `${v.versionId === r.versionId ? '* ' : '  '}${v.versionId}`,
      humanTime(v.lastModified),
      v.deleteMarker ? '-' : humanSize(v.size),
      v.etag || '-',
      versionState(v),
    ]),
    ['left', 'left', 'right'],
  );
  return s;
}

export function chunkReport(c: ChunkRecord): string {
  let s = fields([
    ['Chunk', c.sha256],
    ['Size', `${humanSize(c.size)} (${c.size} bytes)`],
    ['CRC32C', crcHex(c.crc32c)],
    ['References', String(c.refcount)],
    ['Created', humanTime(c.createdAt)],
  ]);
  s += `\nUsed by objects (${c.objects.length}${c.truncated ? '+' : ''}):\n`;
  s += c.objects.length === 0
    ? '  (none)\n'
    : table(['OBJECT', 'VERSION', 'SEQ', 'OFFSET'], c.objects.map((o) => [`${o.bucket}/${o.key}`, o.versionId, String(o.seq), String(o.offset)]), ['left', 'left', 'right', 'right']);
  if (c.uploads.length > 0) {
    s += `\nUsed by multipart uploads (${c.uploads.length}):\n`;
    s += table(['UPLOAD', 'OBJECT', 'PART'], c.uploads.map((u) => [u.uploadId, `${u.bucket}/${u.key}`, String(u.partNumber)]), ['left', 'left', 'right']);
  }
  return s;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('inspect')
      .argument('<bucket/key | sha256>', 'an object (bucket/key or s3://bucket/key), or a chunk by its SHA-256')
      .description("Show an object's record: attributes, metadata, checksums, lock, its chunk table, parts and versions (or a chunk and who uses it)")
      .option('--version-id <id>', 'that version of the object (a delete marker too) instead of the current one'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  cairn inspect photos/cat.jpg                   the current version\n' +
        '  cairn inspect photos/cat.jpg --version-id ID   an older version (ids: cairn ls photos --versions)\n' +
        '--json prints the admin API shape: an ObjectRecord, or a ChunkRecord for a SHA-256.',
    )
    .action(
      handle(async (arg: string, flags: TargetFlags & { versionId?: string }) => {
        const backend = openBackend(flags, { write: false });
        try {
          if (isSha256(arg)) {
            if (flags.versionId !== undefined) throw usage('--version-id is for an object (bucket/key), not a chunk');
            const rec = await backend.chunkRecord(arg);
            if (flags.json) printJson(rec);
            else out(chunkReport(rec));
            return;
          }
          const { bucket, key } = requireObjectTarget(arg);
          const rec = await backend.objectRecord(bucket, key, flags.versionId);
          if (flags.json) printJson(rec);
          else out(objectReport(rec));
        } finally {
          backend.close();
        }
      }),
    );
}
