import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';

/**
 * Whether a real command-line client is installed. Under CI=true a missing client is a
 * failure, never a skip: CI must prove every client works.
 */
export function hasClient(cmd: string, versionArgs: string[] = ['--version'], okExitCodes: number[] = [0]): boolean {
  try {
    execFileSync(cmd, versionArgs, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch (err) {
    // Some tools (wrk -v) print their version and exit non-zero: installed all the same.
    const status = (err as { status?: number | null }).status;
    if (typeof status === 'number' && okExitCodes.includes(status)) return true;
    if (process.env.CI === 'true') throw new Error(`${cmd} is required in CI but is not installed`);
    return false;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client to completion (bounded by timeoutMs), capturing its output. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Buffer | string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Like run(), but throws with the client's stderr when it exits non-zero. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/**
 * Environment for rclone with a remote named `cairn:` pointed at a test server, configured by
 * variables alone (an empty config file, so nothing from the user's rclone.conf leaks in).
 */
export function rcloneEnv(srv: { env: NodeJS.ProcessEnv; url: string; credentials: { accessKeyId: string; secretAccessKey: string } }, configFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...srv.env,
    RCLONE_CONFIG: configFile,
    RCLONE_CONFIG_CAIRN_TYPE: 's3',
    RCLONE_CONFIG_CAIRN_PROVIDER: 'Other',
    RCLONE_CONFIG_CAIRN_ENV_AUTH: 'false',
    RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID: srv.credentials.accessKeyId,
    RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY: srv.credentials.secretAccessKey,
    RCLONE_CONFIG_CAIRN_ENDPOINT: srv.url,
    RCLONE_CONFIG_CAIRN_REGION: 'us-east-1',
    // Fail fast instead of retrying a broken response three times.
    RCLONE_RETRIES: '1',
    RCLONE_LOW_LEVEL_RETRIES: '1',
  };
  // rclone 1.60 rejects every remote when AWS_CA_BUNDLE is set, even over plain HTTP.
  delete env.AWS_CA_BUNDLE;
  return env;
}

/**
 * Writes an s3cmd config file (pass it with `-c`) for a test server: path-style (host_bucket
 * without %(bucket)s), plain HTTP, SigV4, and nothing read from the user's ~/.s3cfg.
 */
export function s3cmdConfig(file: string, url: string, key: { accessKeyId: string; secretAccessKey: string }): string {
  const host = new URL(url).host;
  const lines = [
    '[default]',
    `access_key = ${key.accessKeyId}`,
    `secret_key = ${key.secretAccessKey}`,
    `host_base = ${host}`,
    `host_bucket = ${host}`,
    'use_https = False',
    'signature_v2 = False',
    'bucket_location = us-east-1',
    '',
  ];
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}
