import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Grant } from '../../src/db/keys-repository.js';
import { bodyOf, s3Error } from '../helpers/sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Bucket names are unique per suite: 'alpha' and 'beta' are made by root before any key exists.
const A = 'alpha';
const B = 'beta';

describe('access keys: grants enforced through the SDK', () => {
  let srv: TestServer;
  let root: S3Client;
  const keyClient = (grants: Grant[], description = 'test') => {
    const k = srv.keys.create({ description, grants });
    return { id: k.id, secret: k.secret, s3: srv.client({ credentials: { accessKeyId: k.id, secretAccessKey: k.secret } }) };
  };
  /** The request fails with AccessDenied (403; a HEAD has no body, so only the status). */
  const denied = async (p: Promise<unknown>, head = false) => {
    const e = await s3Error(p);
    expect(e.$metadata.httpStatusCode).toBe(403);
    if (!head) expect(e.name).toBe('AccessDenied');
  };

  beforeAll(async () => {
    srv = await startTestServer();
    root = srv.client();
    await root.send(new CreateBucketCommand({ Bucket: A }));
    await root.send(new CreateBucketCommand({ Bucket: B }));
    await root.send(new PutObjectCommand({ Bucket: A, Key: 'a.txt', Body: 'in alpha' }));
    await root.send(new PutObjectCommand({ Bucket: B, Key: 'b.txt', Body: 'in beta' }));
  });
  afterAll(async () => srv?.stop());

  describe('a read-only key on one bucket', () => {
    let s3: S3Client;
    beforeAll(() => {
      s3 = keyClient([{ bucket: A, permission: 'read' }]).s3;
    });

    it('reads, heads and lists that bucket', async () => {
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: A, Key: 'a.txt' })))).toString()).toBe('in alpha');
      expect((await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'a.txt' }))).ContentLength).toBe(8);
      expect((await s3.send(new ListObjectsV2Command({ Bucket: A }))).Contents?.map((o) => o.Key)).toEqual(['a.txt']);
      expect((await s3.send(new ListObjectsCommand({ Bucket: A }))).Contents?.map((o) => o.Key)).toEqual(['a.txt']);
      await s3.send(new HeadBucketCommand({ Bucket: A }));
      await s3.send(new GetBucketLocationCommand({ Bucket: A }));
      await s3.send(new GetBucketVersioningCommand({ Bucket: A }));
      await s3.send(new GetBucketAclCommand({ Bucket: A }));
      expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: A }))).Uploads ?? []).toEqual([]);
    });

    it('cannot write or delete in it', async () => {
      await denied(s3.send(new PutObjectCommand({ Bucket: A, Key: 'new.txt', Body: 'x' })));
      await denied(s3.send(new DeleteObjectCommand({ Bucket: A, Key: 'a.txt' })));
      await denied(s3.send(new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: 'a.txt' }] } })));
      await denied(s3.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'mp' })));
      await denied(s3.send(new CopyObjectCommand({ Bucket: A, Key: 'copy.txt', CopySource: `${A}/a.txt` })));
      // Nothing changed.
      const list = await root.send(new ListObjectsV2Command({ Bucket: A }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(['a.txt']);
    });

    it('cannot read another bucket, nor learn whether one exists', async () => {
      await denied(s3.send(new GetObjectCommand({ Bucket: B, Key: 'b.txt' })));
      await denied(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'b.txt' })), true);
      await denied(s3.send(new ListObjectsV2Command({ Bucket: B })));
      await denied(s3.send(new HeadBucketCommand({ Bucket: B })), true);
      await denied(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })), true);
    });

    it('cannot create or delete buckets', async () => {
      await denied(s3.send(new CreateBucketCommand({ Bucket: 'made-by-reader' })));
      await denied(s3.send(new DeleteBucketCommand({ Bucket: A })));
      await denied(s3.send(new DeleteBucketCommand({ Bucket: B })));
      const names = (await root.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
      expect(names).toEqual([A, B]);
    });

    it('lists only the buckets it can read', async () => {
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A]);
    });

    it('presigned URLs carry the same grants', async () => {
      const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: A, Key: 'a.txt' }), { expiresIn: 300 });
      const ok = await fetch(get);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('in alpha');
      const other = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'b.txt' }), { expiresIn: 300 }));
      expect(other.status).toBe(403);
      expect(await other.text()).toContain('<Code>AccessDenied</Code>');
      const put = await fetch(await getSignedUrl(s3, new PutObjectCommand({ Bucket: A, Key: 'presigned.txt' }), { expiresIn: 300 }), {
        method: 'PUT',
        body: 'x',
      });
      expect(put.status).toBe(403);
    });
  });

  describe('a write key on one bucket', () => {
    let s3: S3Client;
    beforeAll(() => {
      s3 = keyClient([{ bucket: A, permission: 'write' }]).s3;
    });

    it('puts, reads and deletes objects there', async () => {
      await s3.send(new PutObjectCommand({ Bucket: A, Key: 'w/one.txt', Body: 'one' }));
      await s3.send(new PutObjectCommand({ Bucket: A, Key: 'w/two.txt', Body: 'two' }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: A, Key: 'w/one.txt' })))).toString()).toBe('one');
      await s3.send(new DeleteObjectCommand({ Bucket: A, Key: 'w/one.txt' }));
      const del = await s3.send(new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: 'w/two.txt' }] } }));
      expect(del.Errors ?? []).toEqual([]);
      const left = await s3.send(new ListObjectsV2Command({ Bucket: A, Prefix: 'w/' }));
      expect(left.KeyCount).toBe(0);
    });

    it('runs multipart uploads there (create, part, list, complete, abort)', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'mp.bin' }));
      const part = await s3.send(new UploadPartCommand({ Bucket: A, Key: 'mp.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 7) }));
      expect((await s3.send(new ListPartsCommand({ Bucket: A, Key: 'mp.bin', UploadId }))).Parts?.length).toBe(1);
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: A, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      );
      expect((await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'mp.bin' }))).ContentLength).toBe(1000);
      const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'aborted.bin' }));
      await s3.send(new AbortMultipartUploadCommand({ Bucket: A, Key: 'aborted.bin', UploadId: second.UploadId }));
      await s3.send(new DeleteObjectCommand({ Bucket: A, Key: 'mp.bin' }));
    });

    it('copies within the bucket', async () => {
      await s3.send(new CopyObjectCommand({ Bucket: A, Key: 'a-copy.txt', CopySource: `${A}/a.txt` }));
      expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: A, Key: 'a-copy.txt' })))).toString()).toBe('in alpha');
      await s3.send(new DeleteObjectCommand({ Bucket: A, Key: 'a-copy.txt' }));
    });

    it('cannot copy from a bucket it cannot read (CopyObject, UploadPartCopy)', async () => {
      await denied(s3.send(new CopyObjectCommand({ Bucket: A, Key: 'stolen.txt', CopySource: `${B}/b.txt` })));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'stolen.bin' }));
      await denied(s3.send(new UploadPartCopyCommand({ Bucket: A, Key: 'stolen.bin', UploadId, PartNumber: 1, CopySource: `${B}/b.txt` })));
      expect((await s3.send(new ListPartsCommand({ Bucket: A, Key: 'stolen.bin', UploadId }))).Parts ?? []).toEqual([]);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: A, Key: 'stolen.bin', UploadId }));
      // 404, not 403: the key may read A, the copy just never happened.
      const e = await s3Error(s3.send(new HeadObjectCommand({ Bucket: A, Key: 'stolen.txt' })));
      expect(e.$metadata.httpStatusCode).toBe(404);
    });

    it('cannot write to another bucket, nor copy into it', async () => {
      await denied(s3.send(new PutObjectCommand({ Bucket: B, Key: 'x.txt', Body: 'x' })));
      await denied(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'x.txt', CopySource: `${A}/a.txt` })));
      await denied(s3.send(new CreateBucketCommand({ Bucket: 'made-by-writer' })));
      await denied(s3.send(new DeleteBucketCommand({ Bucket: A })));
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A]);
    });
  });

  it('a write key on the destination and read on the source copies across buckets', async () => {
    const { s3 } = keyClient([
      { bucket: A, permission: 'write' },
      { bucket: B, permission: 'read' },
    ]);
    await s3.send(new CopyObjectCommand({ Bucket: A, Key: 'from-beta.txt', CopySource: `${B}/b.txt` }));
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: A, Key: 'from-beta.txt' })))).toString()).toBe('in beta');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'from-beta.bin' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: A, Key: 'from-beta.bin', UploadId, PartNumber: 1, CopySource: `${B}/b.txt` }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: A,
        Key: 'from-beta.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
      }),
    );
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: A, Key: 'from-beta.bin' })))).toString()).toBe('in beta');
    // Read on B does not mean write on B.
    await denied(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'from-alpha.txt', CopySource: `${A}/a.txt` })));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A, B]);
    await s3.send(new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: 'from-beta.txt' }, { Key: 'from-beta.bin' }] } }));
  });

  it("a '*' write key creates and deletes buckets and writes in every bucket", async () => {
    const { s3 } = keyClient([{ bucket: '*', permission: 'write' }]);
    await s3.send(new CreateBucketCommand({ Bucket: 'gamma' }));
    await s3.send(new PutObjectCommand({ Bucket: 'gamma', Key: 'g.txt', Body: 'g' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'gamma', Key: 'b.txt', CopySource: `${B}/b.txt` }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A, B, 'gamma']);
    await s3.send(new DeleteObjectsCommand({ Bucket: 'gamma', Delete: { Objects: [{ Key: 'g.txt' }, { Key: 'b.txt' }] } }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'gamma' }));
    expect((await root.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A, B]);
  });

  it("a '*' read key reads every bucket but cannot write or create buckets", async () => {
    const { s3 } = keyClient([{ bucket: '*', permission: 'read' }]);
    expect((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: B, Key: 'b.txt' })))).toString()).toBe('in beta');
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A, B]);
    await denied(s3.send(new PutObjectCommand({ Bucket: B, Key: 'x.txt', Body: 'x' })));
    await denied(s3.send(new CreateBucketCommand({ Bucket: 'made-by-star-reader' })));
  });

  it('a grant on a bucket created later applies once it exists', async () => {
    const { s3 } = keyClient([{ bucket: 'delta', permission: 'write' }]);
    const missing = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'delta', Key: 'd.txt', Body: 'd' })));
    expect(missing.name).toBe('NoSuchBucket');
    await root.send(new CreateBucketCommand({ Bucket: 'delta' }));
    await s3.send(new PutObjectCommand({ Bucket: 'delta', Key: 'd.txt', Body: 'd' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'delta', Key: 'd.txt' }));
    await denied(s3.send(new DeleteBucketCommand({ Bucket: 'delta' })));
    await root.send(new DeleteBucketCommand({ Bucket: 'delta' }));
  });

  it('a revoked key stops working on the next request (InvalidAccessKeyId)', async () => {
    const { id, s3 } = keyClient([{ bucket: A, permission: 'write' }]);
    await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'a.txt' }));
    expect(srv.keys.revoke(id)).toBe(true);
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: A, Key: 'a.txt' })));
    expect(e.name).toBe('InvalidAccessKeyId');
    expect(e.$metadata.httpStatusCode).toBe(403);
    const list = await s3Error(s3.send(new ListBucketsCommand({})));
    expect(list.name).toBe('InvalidAccessKeyId');
  });

  it('an unknown key is InvalidAccessKeyId, a wrong secret SignatureDoesNotMatch', async () => {
    const unknown = srv.client({ credentials: { accessKeyId: 'CKNOSUCHKEY000000000', secretAccessKey: 'x'.repeat(40) } });
    expect((await s3Error(unknown.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    const { id } = keyClient([{ bucket: A, permission: 'read' }]);
    const wrong = srv.client({ credentials: { accessKeyId: id, secretAccessKey: 'y'.repeat(40) } });
    expect((await s3Error(wrong.send(new GetObjectCommand({ Bucket: A, Key: 'a.txt' })))).name).toBe('SignatureDoesNotMatch');
  });

  it('the root key can still do everything', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'epsilon' }));
    await root.send(new PutObjectCommand({ Bucket: 'epsilon', Key: 'e.txt', Body: 'e' }));
    await root.send(new CopyObjectCommand({ Bucket: 'epsilon', Key: 'b.txt', CopySource: `${B}/b.txt` }));
    expect((await root.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([A, B, 'epsilon']);
    await root.send(new DeleteObjectsCommand({ Bucket: 'epsilon', Delete: { Objects: [{ Key: 'e.txt' }, { Key: 'b.txt' }] } }));
    await root.send(new DeleteBucketCommand({ Bucket: 'epsilon' }));
  });

  it('anonymous requests keep the public-read rule', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'public-zeta', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'public-zeta', Key: 'z.txt', Body: 'z', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'public-zeta', Key: 'private.txt', Body: 'p' }));
    const ok = await fetch(`${srv.url}/public-zeta/z.txt`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('z');
    // The bucket's public-read ACL lists it for anyone; an object without a public ACL stays private (S3's rule).
    expect((await fetch(`${srv.url}/public-zeta?list-type=2`)).status).toBe(200);
    expect((await fetch(`${srv.url}/public-zeta/private.txt`)).status).toBe(403);
    expect((await fetch(`${srv.url}/${A}/a.txt`)).status).toBe(403);
    expect((await fetch(`${srv.url}/public-zeta/new.txt`, { method: 'PUT', body: 'x' })).status).toBe(403);
    // A key without a grant on the public bucket is still denied: grants, not the ACL, bind keys.
    const { s3 } = keyClient([{ bucket: A, permission: 'read' }]);
    await denied(s3.send(new GetObjectCommand({ Bucket: 'public-zeta', Key: 'z.txt' })));
    await root.send(new DeleteObjectCommand({ Bucket: 'public-zeta', Key: 'z.txt' }));
    await root.send(new DeleteObjectCommand({ Bucket: 'public-zeta', Key: 'private.txt' }));
    await root.send(new DeleteBucketCommand({ Bucket: 'public-zeta' }));
  });
});
