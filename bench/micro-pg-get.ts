// Diagnostic: the CPU (the client process's and its PostgreSQL backend's) of the GET path's
// statements, run one after another on one connection, on a database seeded by prof-pg-get.ts.
import fs from 'node:fs';
import pg from 'pg';
import { READ_STATEMENTS } from '../src/db/pg/read-path.js';
import { objectColumnList } from '../src/db/pg/commit.js';
import { pgPool } from '../src/db/pg/client.js';

const OLD = {
  bucket: { name: 'old_bucket', text: `select id, name, region, created_at as "createdAt", owner_id as "ownerId", acl, ownership, policy, versioning,
    object_lock as "objectLock", lock_default_mode as "lockDefaultMode", lock_default_days as "lockDefaultDays",
    lock_default_years as "lockDefaultYears", default_encryption as "defaultEncryption", tags, lifecycle from buckets where name = $1` },
  forRead: { name: 'old_forread', text: `select ${objectColumnList('o')}, ch.seq as c_seq, ch."offset" as c_offset, ch.size as c_size, ch.chunk_hash as c_hash,
      ch.stored_size as c_stored, ch.crc32c as c_crc, ch.data as c_data
    from objects o left join lateral (select oc.seq, oc."offset", oc.size, oc.chunk_hash, c.size as stored_size, c.crc32c, c.data
      from object_chunks oc join chunks c on c.hash = oc.chunk_hash where oc.object_id = o.id order by oc."offset" limit 9) ch on true
    where o.bucket_id = $1 and o.key = $2 and o.is_current order by ch."offset"` },
};

function cpu(pid: number): number {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function micro(url: string, n = 4000): Promise<void> {
  const pool = pgPool(url, 1);
  const c = await pool.connect();
  const backend = (await c.query('select pg_backend_pid() as p')).rows[0].p as number;
  const bucketId = (await c.query(`select id from buckets where name = 'bench'`)).rows[0].id as number;
  const hash = (await c.query(`select hash from chunks where data is not null limit 1`)).rows[0].hash as string;
  console.log((await c.query(`select length(data) as len, pg_column_size(data) as stored, (select count(*) from pg_class where relname like 'pg_toast_%' and reltuples > 0) as toasts from chunks where hash = $1`, [hash])).rows[0]);
  for (const mode of ['auto', 'force_custom_plan', 'force_generic_plan']) {
    await c.query(`set plan_cache_mode = ${mode}`);
    await c.query(`deallocate all`);
    await c.query(`prepare p_${mode}(text, text) as ${READ_STATEMENTS.both.text}`);
    for (let i = 0; i < 10; i++) await c.query(`execute p_${mode}('bench', 'seeded/' || ${i})`);
    const plan = (await c.query(`explain (analyze, summary) execute p_${mode}('bench', 'seeded/7')`)).rows.map((r) => r['QUERY PLAN']);
    console.log(mode, plan.filter((l: string) => /Planning|Execution|Index|Seq Scan/.test(l)).join('\n  '));
  }
  await c.query(`set plan_cache_mode = auto`);
  await c.query(`deallocate all`);
  c.release();
  const variants: Record<string, (i: number) => Promise<unknown>> = {
    'old: bucket, then row + chunks (2 statements)': async (i) => {
      await pool.query({ ...OLD.bucket, values: ['bench'] });
      await pool.query({ ...OLD.forRead, values: [bucketId, `seeded/${i % 1000}`] });
    },
    'new: bucket + row + chunks as json (1 statement)': (i) => pool.query({ ...READ_STATEMENTS.both, values: ['bench', `seeded/${i % 1000}`] }),
    'new without the bytes': (i) => pool.query({ name: 'nodata', text: READ_STATEMENTS.both.text.replace(`encode(c.data, 'base64')`, 'null::text'), values: ['bench', `seeded/${i % 1000}`] }),
    'chunk bytes alone (bytea, hex)': () => pool.query({ name: 'bytes', text: 'select data from chunks where hash = $1', values: [hash] }),
    'chunk length alone': () => pool.query({ name: 'len', text: 'select length(data) from chunks where hash = $1', values: [hash] }),
    'bucket json alone': () => pool.query({ ...READ_STATEMENTS.bucket, values: ['bench'] }),
    'bucket columns alone': () => pool.query({ ...OLD.bucket, values: ['bench'] }),
    'select 1': () => pool.query({ name: 'one', text: 'select 1' }),
    'new, generic plan forced': async (i) => {
      if (i === 0) await pool.query('set plan_cache_mode = force_generic_plan');
      return pool.query({ name: 'both_generic', text: READ_STATEMENTS.both.text, values: ['bench', `seeded/${i % 1000}`] });
    },
  };
  for (let round = 0; round < 1; round++) {
    for (const [label, fn] of Object.entries(variants)) {
      for (let i = 0; i < 300; i++) await fn(i);
      const u0 = process.cpuUsage();
      const b0 = cpu(backend);
      for (let i = 0; i < n; i++) await fn(i);
      const u = process.cpuUsage(u0);
      const b = cpu(backend) - b0;
      console.log(`${label}: node ${((u.user + u.system) / n).toFixed(0)} µs, backend ${((b / n) * 1e6).toFixed(0)} µs per GET`);
    }
  }
  await pool.end();
}
