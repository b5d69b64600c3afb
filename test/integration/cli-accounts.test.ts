// cairn accounts, keys for accounts (imported pairs too) and buckets for owners, run as the built
// CLI (dist/cli.js) against the data dir of a running server and against its admin API: the same
// answers and exit codes in both modes, and the keys they make work through the SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CLI } from '../helpers/process.js';
import { startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { s3Error } from '../helpers/sdk.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without the machine's CAIRN_* settings (but `extra`); `input` goes to its standard input. */
function cli(args: string[], input?: string, extra: Record<string, string> = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  Object.assign(env, extra);
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

async function json<T = any>(args: string[], input?: string): Promise<T> {
  const r = await cli([...args, '--json'], input);
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

let server: TestServer;
const local = (...args: string[]) => [...args, '--data-dir', server.dataDir];
const remote = (...args: string[]) => [...args, '--url', server.adminUrl, '--token', server.adminToken];
const MODES = [
  ['local', local],
  ['remote', remote],
] as const;

beforeAll(async () => {
  server = await startTestServer();
  await server.client().send(new CreateBucketCommand({ Bucket: 'root-bucket' }));
});
afterAll(async () => server?.stop());

const s3For = (accessKeyId: string, secretAccessKey: string) =>
  new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });

describe.each(MODES)('cairn accounts and keys (%s)', (mode, run) => {
  const account = `team-${mode}`;
  const keyId = `IMPORTED${mode.toUpperCase()}1`;
  const secret = `secret/${mode}+AbC=0123456789`;

  it('creates an account; a taken name (exit 2) and a bad name (exit 2) are refused in words', async () => {
    const a = await json(run('accounts', 'create', account, '--email', `${account}@Example.com`));
    expect(a).toMatchObject({ name: account, email: `${account}@example.com`, root: false, buckets: 0, keys: 0 });
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    const [again, bad, human] = await Promise.all([cli(run('accounts', 'create', account)), cli(run('accounts', 'create', 'no/slashes')), cli(run('accounts', 'list'))]);
    expect([again.code, again.stderr]).toEqual([2, `cairn: an account named '${account}' exists\n`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name must be 1 to 64 letters');
    expect(human.stdout).toMatch(/^NAME\s+ID\s+EMAIL\s+BUCKETS\s+KEYS\s+CREATED$/m);
    expect(human.stdout).toMatch(/^root \(root\)\s+[0-9a-f]{64}\s/m);
    expect(human.stdout).toContain(`${account}@example.com`);
  });

  it('imports a fixed pair for the account: the SDK signs with it and sees that account\'s buckets only', async () => {
    const k = await json(run('keys', 'create', '--account', account, '--grant', '*:write', '--access-key-id', keyId, '--secret-access-key', secret, '--description', 'imported'));
    const accounts = (await json(run('accounts', 'list'))).accounts as Array<{ id: string; name: string; keys: number }>;
    const mine = accounts.find((a) => a.name === account)!;
    expect(k).toMatchObject({ id: keyId, secret, accountId: mine.id, description: 'imported', grants: [{ bucket: '*', permission: 'write' }] });
    expect(mine.keys).toBe(1);
    const s3 = s3For(keyId, secret);
    await s3.send(new CreateBucketCommand({ Bucket: `made-by-${mode}` }));
    await s3.send(new PutObjectCommand({ Bucket: `made-by-${mode}`, Key: 'k', Body: 'v' }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual([`made-by-${mode}`]);
    const [human, byId] = await Promise.all([cli(run('keys', 'list', '--account', account)), json(run('keys', 'list', '--account', mine.id))]);
    expect(human.stdout).toMatch(new RegExp(`^${keyId}\\s+${account}\\s`, 'm'));
    expect(human.stdout).not.toContain(secret);
    expect(byId.keys.map((x: { id: string }) => x.id)).toEqual([keyId]);
  });

  it('refuses a taken id (exit 2), the root pair\'s id, a bad secret, half a pair and an unknown account', async () => {
    // The server was given its root pair in CAIRN_*, so a CLI beside it on the data dir is too.
    const rootEnv = { CAIRN_ACCESS_KEY_ID: TEST_ACCESS_KEY, CAIRN_SECRET_ACCESS_KEY: TEST_SECRET };
    const create = (...args: string[]) => run('keys', 'create', '--grant', '*:read', ...args);
    // Independent refusals, run at once: each CLI start costs seconds on a loaded machine.
    const [taken, rootId, badSecret, half, nobody, listNobody] = await Promise.all([
      cli(create('--access-key-id', keyId, '--secret-access-key', 'another-secret')),
      cli(create('--access-key-id', TEST_ACCESS_KEY, '--secret-access-key', 'another-secret'), undefined, rootEnv),
      cli(create('--access-key-id', 'FRESHID1', '--secret-access-key', 'short')),
      cli(create('--access-key-id', 'FRESHID1')),
      cli(create('--account', 'nobody')),
      cli(run('keys', 'list', '--account', 'nobody')),
    ]);
    expect([taken.code, taken.stderr]).toEqual([2, `cairn: access key ${keyId} exists\n`]);
    expect(rootId.code).toBe(2);
    expect(rootId.stderr).toContain(`access key ${TEST_ACCESS_KEY} exists`);
    expect(badSecret.code).toBe(2);
    expect(badSecret.stderr).toContain('secretAccessKey must be 8 to 128 characters');
    expect([half.code, half.stderr]).toEqual([2, 'cairn: --access-key-id and --secret-access-key import a pair: give both\n']);
    expect([nobody.code, nobody.stderr]).toEqual([2, 'cairn: no such account: nobody\n']);
    expect(listNobody.code).toBe(2);
    expect(listNobody.stderr).toContain('no such account: nobody');
    expect((await json(run('keys', 'list'))).keys.map((k: { id: string }) => k.id)).not.toContain('FRESHID1');
  });

  it('creates a bucket for an owner and lists buckets by owner', async () => {
    const b = await json(run('bucket', 'create', `owned-${mode}`, '--owner', account));
    expect(b).toMatchObject({ name: `owned-${mode}`, owner: { name: account }, ownership: 'ObjectWriter', hasPolicy: false, public: false });
    const names = async (...args: string[]) => (await json(run('bucket', 'list', ...args))).buckets.map((x: { name: string }) => x.name);
    const [mine, roots, nobodys, human, noOwner] = await Promise.all([
      names('--owner', account),
      names('--owner', 'root'),
      names('--owner', 'nobody'),
      cli(run('bucket', 'list', '--owner', account)),
      cli(run('bucket', 'create', `orphan-${mode}`, '--owner', 'nobody')),
    ]);
    expect(mine).toEqual([`made-by-${mode}`, `owned-${mode}`]);
    expect(roots).toEqual(['root-bucket']);
    expect(nobodys).toEqual([]);
    expect(human.stdout).toMatch(new RegExp(`^owned-${mode}\\s+${account}\\s`, 'm'));
    expect(noOwner.code).toBe(2);
    expect(noOwner.stderr).toContain('no such account: nobody');
    const created = await cli(run('bucket', 'create', `said-${mode}`, '--owner', account));
    expect(created.stdout).toBe(`created bucket said-${mode} (owner ${account}; private)\n`);
  });

  it('refuses to delete the root account and one that owns buckets (exit 1); deletes one with its keys', async () => {
    const [owns, rootAccount, nobody, temp] = await Promise.all([
      cli(run('accounts', 'delete', account)),
      cli(run('accounts', 'delete', 'root')),
      cli(run('accounts', 'delete', 'nobody')),
      json(run('accounts', 'create', `temp-${mode}`)),
    ]);
    expect([owns.code, owns.stderr]).toEqual([1, `cairn: account ${account} owns buckets: delete them first\n`]);
    expect(rootAccount.code).toBe(1);
    expect(rootAccount.stderr).toContain('cannot be deleted');
    expect([nobody.code, nobody.stderr]).toEqual([1, 'cairn: no such account: nobody\n']);
    const key = await json(run('keys', 'create', '--account', temp.id, '--grant', '*:read'));
    expect((await s3For(key.id, key.secret).send(new ListBucketsCommand({}))).Buckets).toEqual([]);
    expect(await json(run('accounts', 'delete', `temp-${mode}`))).toEqual({ account: `temp-${mode}`, deleted: true });
    expect((await s3Error(s3For(key.id, key.secret).send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    expect((await json(run('accounts', 'list'))).accounts.map((a: { name: string }) => a.name)).not.toContain(`temp-${mode}`);
  });
});

it('reads an imported secret from standard input (kept out of the process list)', async () => {
  const k = await json(local('keys', 'create', '--grant', 'root-bucket:read', '--access-key-id', 'FROMSTDIN1', '--secret-access-key', '-'), 'piped-secret-0123\n');
  expect(k).toMatchObject({ id: 'FROMSTDIN1', secret: 'piped-secret-0123' });
  const human = await cli(local('keys', 'create', '--grant', 'root-bucket:read', '--access-key-id', 'FROMSTDIN2', '--secret-access-key', '-'), 'piped-secret-4567');
  expect(human.code).toBe(0);
  expect(human.stdout).toContain('Imported access key FROMSTDIN2');
  expect(human.stdout).not.toContain('piped-secret-4567');
  expect((await s3For('FROMSTDIN2', 'piped-secret-4567').send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toEqual(['root-bucket']);
});
