import type { AclGrant, OwnerRef } from '../api.js';
import { ApiError } from '../lib/errors.js';
import { granteeText, PERMISSION_WORDS } from '../lib/grants.js';
import { ErrorBox, Loading, useLoad, useSession } from '../ui.js';

// Who owns a bucket or an object and who else may use it: the owner, object ownership, the ACL's
// grants and the bucket policy, as the admin API reads them (GetBucketAcl, GetObjectAcl and
// GetBucketPolicy's rules). Read only: ACLs and policies change over S3.

const OWNERSHIP: Record<string, string> = {
  ObjectWriter: 'ObjectWriter: an account that writes an object owns it; ACLs apply',
  BucketOwnerPreferred: 'BucketOwnerPreferred: objects written with bucket-owner-full-control become the bucket owner\'s; ACLs apply',
  BucketOwnerEnforced: 'BucketOwnerEnforced: the bucket owner owns every object; ACLs are off',
};

export function ownerText(o: OwnerRef): string {
  return o.name ?? `unknown account ${o.id.slice(0, 12)}…`;
}

export function GrantsTable({ grants, label }: { grants: AclGrant[]; label: string }) {
  if (grants.length === 0) return <p class="muted">No grants: the ACL gives nobody anything; the owner keeps what ownership gives it.</p>;
  return (
    <div class="table-wrap">
      <table class="grants" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Grantee</th>
            <th scope="col">Permission</th>
          </tr>
        </thead>
        <tbody>
          {grants.map((g, i) => (
            <tr key={i}>
              <td data-label="Grantee">{granteeText(g.grantee)}</td>
              <td data-label="Permission" title={PERMISSION_WORDS[g.permission]}>
                {g.permission}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A refusal to read a part of it is said in place; other errors as errors. */
function Refused({ error, what }: { error: unknown; what: string }) {
  if (error instanceof ApiError && error.status === 403) return <p class="muted">This key may not read {what}.</p>;
  return <ErrorBox error={error} />;
}

/** The bucket page's access section: owner, ownership, public or not, the ACL and the policy. */
export function BucketAccess({ bucket }: { bucket: string }) {
  const { api } = useSession();
  const acl = useLoad(() => api.bucketAcl(bucket), [bucket]);
  const policy = useLoad(() => api.bucketPolicy(bucket), [bucket]);
  const a = acl.data;
  return (
    <section aria-labelledby="access-title" class="access">
      <h2 id="access-title">Owner and access</h2>
      {acl.loading && !a && <Loading />}
      {acl.error !== undefined && <Refused error={acl.error} what="this bucket's ACL" />}
      {a && (
        <>
          <dl class="props" data-testid="bucket-access">
            <dt>Owner</dt>
            <dd>
              {ownerText(a.owner)} <code class="muted small">{a.owner.id}</code>
            </dd>
            <dt>Object ownership</dt>
            <dd>{OWNERSHIP[a.ownership] ?? a.ownership}</dd>
            <dt>Access</dt>
            <dd>{a.public ? <span class="tag warn">public</span> : <span class="tag">private</span>}</dd>
          </dl>
          <h3>ACL</h3>
          <GrantsTable grants={a.grants} label={`ACL of bucket ${bucket}`} />
        </>
      )}
      <h3>Bucket policy</h3>
      {policy.error !== undefined && <Refused error={policy.error} what="this bucket's policy (only its owner's keys may)" />}
      {policy.data &&
        (policy.data.policy === null ? (
          <p class="muted">No bucket policy.</p>
        ) : (
          <>
            <p class="small">{policy.data.isPublic ? 'It lets everyone in (public).' : 'It gives nothing to everyone.'}</p>
            <pre class="policy" data-testid="bucket-policy">
              {JSON.stringify(policy.data.policy, null, 2)}
            </pre>
          </>
        ))}
    </section>
  );
}

/** The object page's access section: the version's ACL (its owner is in the record). */
export function ObjectAccess({ bucket, objectKey, versionId }: { bucket: string; objectKey: string; versionId: string }) {
  const { api } = useSession();
  const acl = useLoad(() => api.objectAcl(bucket, objectKey, versionId), [bucket, objectKey, versionId]);
  return (
    <>
      <h2>Access (ACL)</h2>
      {acl.loading && !acl.data && <Loading />}
      {acl.error !== undefined && <Refused error={acl.error} what="this object's ACL" />}
      {acl.data && <GrantsTable grants={acl.data.grants} label={`ACL of ${objectKey}`} />}
    </>
  );
}
