import { S3Client } from '@aws-sdk/client-s3';
import type { TestServer } from './server.js';

/** A second account on a running test server, with one access key that may do anything for it. */
export interface TestAccount {
  id: string;
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  client(): S3Client;
  /** The server's client environment with this account's key instead of the root key. */
  env: NodeJS.ProcessEnv;
}

/** Made through the store, as the admin API and the CLI do (their own tests cover those). */
export async function addAccount(srv: TestServer, name: string): Promise<TestAccount> {
  const account = await srv.meta.accounts.create({ name, email: `${name}@example.com` });
  const key = await srv.meta.keys.create({ accountId: account.id, description: `${name}'s key`, grants: [{ bucket: '*', permission: 'write' }] });
  const credentials = { accessKeyId: key.id, secretAccessKey: key.secret };
  return {
    id: account.id,
    name,
    ...credentials,
    client: () => new S3Client({ endpoint: srv.url, region: 'us-east-1', forcePathStyle: true, credentials }),
    env: { ...srv.env, AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret },
  };
}

/** The root key's account id (canonical id, 64 hex). */
export async function rootAccountId(srv: TestServer): Promise<string> {
  return (await srv.meta.accounts.root()).id;
}
