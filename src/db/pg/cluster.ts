import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// A throwaway PostgreSQL cluster for tests, benchmarks and the crash campaign: initdb into a
// temp dir, started on a free loopback port (and a unix socket in the same dir), stopped and
// removed by stop(). PostgreSQL refuses to run as root, so under root the cluster runs as the
// `postgres` user that Debian's package creates.

export interface Cluster {
  /** postgres://cairn@127.0.0.1:<port>/postgres (trust auth on loopback). */
  url: string;
  port: number;
  dir: string;
  /** A URL of the same cluster for database `name`. */
  urlFor(name: string): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Durable settings (fsync on): benchmarks and crash tests of PostgreSQL itself. Default: off, for speed. */
  durable?: boolean;
  maxConnections?: number;
}

/** The directory of initdb and pg_ctl: CAIRN_PG_BIN, else Debian's newest, else PATH. */
export function pgBinDir(): string | undefined {
  if (process.env.CAIRN_PG_BIN) return process.env.CAIRN_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return path.join(root, versions[0]!, 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found ? path.dirname(found) : undefined;
}

// The tools run in the cluster's own folder: as `postgres` they may not read the caller's
// working directory (a checkout under /root), which initdb and pg_ctl look up.
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root, and there is no `postgres` user to run the test cluster as (apt-get install postgresql)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb): apt-get install postgresql, or set CAIRN_PG_BIN');
  const ids = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-pg-'));
  if (ids.uid !== undefined) fs.chownSync(dir, ids.uid, ids.gid!);
  const data = path.join(dir, 'data');
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'cairn', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions'], { ...ids, cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const settings = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    `max_connections = ${opts.maxConnections ?? 300}`,
    `shared_buffers = '128MB'`,
    ...(opts.durable ? [] : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']),
  ];
  fs.appendFileSync(path.join(data, 'postgresql.conf'), '\n' + settings.join('\n') + '\n');
  const log = path.join(dir, 'server.log');
  const start = spawnSync(path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', 'start'], { ...ids, cwd: dir, encoding: 'utf8' });
  if (start.status !== 0) {
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${start.stderr || start.stdout}\n${tail}`);
  }
  const urlFor = (name: string) => `postgres://cairn@127.0.0.1:${port}/${name}`;
  let stopped = false;
  return {
    url: urlFor('postgres'),
    port,
    dir,
    urlFor,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        const p = spawn(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...ids, cwd: os.tmpdir(), stdio: 'ignore' });
        p.on('close', () => resolve());
        p.on('error', () => resolve());
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
