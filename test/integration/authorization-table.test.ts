import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KEYS, Wire, bucketState, createAccounts, type Accounts, type KeyPair, type WireResponse } from '../helpers/authz-wire.js';
import { CALLERS, CORS_RULES, OBJECT_KEY, ROWS, RULES, type CallerName, type OpRow, type RuleName, type Target } from '../helpers/authz-table.js';

// The authorization table (test/helpers/authz-table.ts) on the wire: for every operation row,
// rule and caller, a bucket of account A set up under the rule, one raw request as the caller,
// and its status and XML error code compared with the table. A refused request that would have
// changed something must leave the bucket's rows exactly as they were. Mismatches are gathered
// per row, so one failure shows every case of the row that disagrees.

const ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
const SOURCE_BUCKET = 'az-source';
const VERSIONING_ON = '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>';

describe('authorization table: {owner, limited key, other account, anonymous} x rules x operations', () => {
  let srv: TestServer;
  let wire: Wire;
  let accounts: Accounts;
  let cases = 0;
  const keyOf: Record<CallerName, KeyPair | undefined> = { owner: KEYS.owner, limited: KEYS.limited, other: KEYS.other, anonymous: undefined };

  beforeAll(async () => {
    srv = await startTestServer();
    wire = new Wire(srv.port);
    accounts = await createAccounts(srv);
    // The copy source every CopyObject case reads: public-read, so any caller may read it.
    await wire.ok(KEYS.owner, { method: 'PUT', bucket: SOURCE_BUCKET });
    await wire.ok(KEYS.owner, { method: 'PUT', bucket: SOURCE_BUCKET, key: 'src.txt', body: 'source', headers: { 'x-amz-acl': 'public-read' } });
  });

  afterAll(async () => {
    const rows = ROWS.length * RULES.length;
    console.log(`authorization table: ${ROWS.length} operations x ${RULES.length} rules = ${rows} rows x ${CALLERS.length} callers = ${cases} cases on the wire`);
    wire?.close();
    await srv?.stop();
  });

  /** A fresh bucket of account A holding obj.txt (versioned), with what the row needs, under the rule. */
  async function prepare(row: OpRow, rule: RuleName, bucket: string): Promise<Target> {
    const O = KEYS.owner;
    await wire.ok(O, { method: 'PUT', bucket, headers: row.needs?.lock ? { 'x-amz-bucket-object-lock-enabled': 'true' } : {} });
    if (!row.needs?.lock) await wire.ok(O, { method: 'PUT', bucket, query: 'versioning', body: VERSIONING_ON });
    const put = await wire.ok(O, { method: 'PUT', bucket, key: OBJECT_KEY, body: 'fixture' });
    const t: Target = { bucket, versionId: String(put.headers['x-amz-version-id']), source: `${SOURCE_BUCKET}/src.txt`, b: accounts.b };
    if (row.needs?.upload) {
      const created = await wire.ok(O, { method: 'POST', bucket, key: 'up.bin', query: 'uploads' });
      t.uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1];
      const part = await wire.ok(O, { method: 'PUT', bucket, key: 'up.bin', query: `partNumber=1&uploadId=${t.uploadId}`, body: 'part one' });
      t.partEtag = String(part.headers.etag);
    }
    if (row.needs?.cors) await wire.ok(O, { method: 'PUT', bucket, query: 'cors', body: CORS_RULES });
    if (row.needs?.preferred) {
      await wire.ok(O, { method: 'PUT', bucket, query: 'ownershipControls', body: '<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>' });
    }
    await applyRule(row, rule, bucket);
    return t;
  }

  async function applyRule(row: OpRow, rule: RuleName, bucket: string): Promise<void> {
    if (row.acl && (rule === 'acl' || rule === 'aclAll' || rule === 'deny')) {
      const header = `x-amz-grant-${row.acl.permission.toLowerCase().replace('_', '-')}`;
      await wire.ok(KEYS.owner, {
        method: 'PUT', bucket, key: row.acl.on === 'object' ? OBJECT_KEY : undefined, query: 'acl',
        headers: { 'x-amz-grant-full-control': `id=${accounts.a}`, [header]: rule === 'acl' ? `id=${accounts.b}` : ALL_USERS },
      });
    }
    const Resource = row.resource === 'bucket' ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/*`;
    const st = (Effect: 'Allow' | 'Deny', Principal: unknown) => ({ Effect, Principal, Action: row.action, Resource });
    const statements = {
      none: [], acl: [], aclAll: [],
      allowB: [st('Allow', { AWS: `arn:aws:iam::${accounts.b}:root` })],
      allowAll: [st('Allow', '*')],
      deny: [st('Allow', '*'), st('Deny', '*')],
      denyKey: [st('Deny', { AWS: `arn:aws:iam::${accounts.a}:user/${KEYS.owner.id}` })],
    }[rule];
    if (statements.length === 0) return;
    await wire.ok(KEYS.owner, { method: 'PUT', bucket, query: 'policy', body: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });
  }

  /** The table's letter for an answer; anything unexpected spelled out as ?<status> <code>. */
  function classify(row: OpRow, rule: RuleName, method: string, r: WireResponse): string {
    const ok = typeof row.ok === 'function' ? row.ok(['allowB', 'allowAll', 'deny', 'denyKey'].includes(rule)) : row.ok;
    if (r.status === 403 && (r.code === 'AccessDenied' || (method === 'HEAD' && r.text === ''))) return '.';
    if (r.status === 405 && r.code === 'MethodNotAllowed') return 'm';
    if (r.status === 200 && r.text.includes('<DeleteResult')) {
      if (/<Error><Key>[^<]*<\/Key>(<VersionId>[^<]*<\/VersionId>)?<Code>AccessDenied<\/Code>/.test(r.text) && !r.text.includes('<Deleted>')) return 'k';
      if (r.text.includes('<Deleted>') && !r.text.includes('<Error>')) return 'y';
    }
    if (r.status === ok.status && r.code === ok.code) return 'y';
    return `?${r.status}${r.code ? ` ${r.code}` : ''}`;
  }

  async function runCase(row: OpRow, rule: RuleName, caller: CallerName, t: Target, problems: string[]): Promise<string> {
    const req = row.request(t);
    const before = row.mutates ? bucketState(srv.db.sqlite, t.bucket) : '';
    const r = await wire.send(keyOf[caller], req);
    cases++;
    const got = classify(row, rule, req.method, r);
    if (row.mutates && got !== 'y' && bucketState(srv.db.sqlite, t.bucket) !== before) problems.push(`${row.op} / ${rule} / ${caller}: refused (${got}) but the bucket changed`);
    return got.length === 1 ? got : `[${got}]`;
  }

  ROWS.forEach((row, r) => {
    it(`${row.family}: ${row.op}`, async () => {
      const problems: string[] = [];
      // Rules run side by side (separate buckets); callers of a rule one after another.
      await Promise.all(
        RULES.map(async (rule, u) => {
          let observed = '';
          let shared: Target | undefined;
          for (const [c, caller] of CALLERS.entries()) {
            const t = row.mutates ? await prepare(row, rule, `az-${r}-${u}-${c}`) : (shared ??= await prepare(row, rule, `az-${r}-${u}`));
            observed += await runCase(row, rule, caller, t, problems);
          }
          if (observed !== row.expect[rule]) problems.push(`${row.op} / ${rule}: expected ${row.expect[rule]} (O L B A), got ${observed}`);
        }),
      );
      expect(problems, row.note).toEqual([]);
    });
  });

  it('GetObjectAttributes needs both actions: a policy allowing one of them is not enough', async () => {
    const bucket = 'az-attributes-both';
    await wire.ok(KEYS.owner, { method: 'PUT', bucket });
    await wire.ok(KEYS.owner, { method: 'PUT', bucket, key: OBJECT_KEY, body: 'fixture' });
    const attributes = { method: 'GET', bucket, key: OBJECT_KEY, query: 'attributes', headers: { 'x-amz-object-attributes': 'ETag' } };
    const seen: string[] = [];
    for (const Action of [['s3:GetObject'], ['s3:GetObjectAttributes'], ['s3:GetObject', 's3:GetObjectAttributes']]) {
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accounts.b}:root` }, Action, Resource: `arn:aws:s3:::${bucket}/*` }] };
      await wire.ok(KEYS.owner, { method: 'PUT', bucket, query: 'policy', body: JSON.stringify(policy) });
      seen.push(`${Action.join('+')}: ${(await wire.send(KEYS.other, attributes)).status}`);
    }
    expect(seen).toEqual(['s3:GetObject: 403', 's3:GetObjectAttributes: 403', 's3:GetObject+s3:GetObjectAttributes: 200']);
  });
});
