import type { Command } from 'commander';
import { openBackend } from './backend.js';
import { handle, withTarget, type TargetFlags } from './common.js';
import { fields, humanSize, humanTime, out, printJson, table } from './output.js';
import type { GatewayView } from '../gateway/registry.js';

export function register(program: Command): void {
  withTarget(
    program
      .command('stats')
      .description('Store totals: buckets, objects, versions and delete markers, logical and stored bytes, chunks, dedup ratio, multipart uploads'),
  )
    .addHelpText(
      'after',
      '\nObjects and Logical size count current objects; Versions counts every version that holds data (current ones too),\n' +
        'Version size their bytes; the dedup ratio is version size over stored size.\n' +
        '--json prints the admin API shape (StoreStats; with --url also the write-buffer pool).\n' +
        'Gateways: the registry (alive when its heartbeat is within --gateway-timeout, CAIRN_GATEWAY_TIMEOUT).',
    )
    .action(
      handle(async (flags: TargetFlags) => {
        const backend = openBackend(flags, { write: false });
        try {
          const s = await backend.stats();
          if (flags.json) return printJson(s);
          const pairs: Array<[string, string]> = [
            ['Buckets', String(s.buckets)],
            ['Objects', String(s.objects)],
            ['Logical size', `${humanSize(s.logicalBytes)} (${s.logicalBytes} bytes)`],
            ['Versions', String(s.versions)],
            ['Delete markers', String(s.deleteMarkers)],
            ['Version size', `${humanSize(s.versionBytes)} (${s.versionBytes} bytes, every version)`],
            ['Stored size', `${humanSize(s.physicalBytes)} (${s.physicalBytes} bytes)`],
            ['Chunks', String(s.chunks)],
            ['Dedup ratio', `${s.dedupRatio.toFixed(2)}x`],
            ['Multipart uploads', `${s.multipartUploads} (${s.multipartParts} parts)`],
          ];
          if (s.pool) {
            pairs.push(['Write buffers', `${s.pool.inUse}/${s.pool.total} in use, ${s.pool.free} free, ${s.pool.waiters} waiting (${humanSize(s.pool.bufferSize)} each)`]);
          }
          const lc = s.lifecycle;
          if (lc) {
            const did = `${lc.versionsExpired} versions removed, ${lc.markersAdded} delete markers added, ${lc.markersRemoved} removed, ${lc.uploadsAborted} uploads aborted, ${humanSize(lc.bytesExpired)} freed`;
            pairs.push(['Last lifecycle pass', `${new Date(lc.startedAt).toISOString()} (${lc.trigger}): ${lc.finishedAt === null ? 'running' : lc.error ? `stopped: ${lc.error}` : did}`]);
          }
          if (s.engine) pairs.push(['Metadata engine', s.engine]);
          out(fields(pairs));
          if (s.gateways && s.gateways.length > 0) out('\n' + gatewayTable(s.gateways));
        } finally {
          backend.close();
        }
      }),
    );
}

/** The registry: one row per gateway, alive or dead. */
export function gatewayTable(gateways: GatewayView[]): string {
  const rows = gateways.map((g) => [g.id, g.state, g.host, String(g.pid), g.s3Url, humanTime(new Date(g.startedAt).toISOString()), `${Math.max(0, Math.round((Date.now() - g.heartbeatAt) / 1000))} s ago`]);
  return table(['Gateway', 'State', 'Host', 'PID', 'S3 URL', 'Started', 'Heartbeat'], rows);
}
