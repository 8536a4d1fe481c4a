const { startPostgres } = await import('/work/main/dist/test/helpers/postgres.js');
import pg from 'pg';
const s = await startPostgres();
const pool = new pg.Pool({ connectionString: s.url, max: 10 });
await pool.query('CREATE TABLE t (k text primary key, n int)');
await pool.query("INSERT INTO t VALUES ('a', 1)");
for (const [label, conc, sql, params] of [['select 1', 10, 'SELECT 1', []], ['select param', 10, 'SELECT n FROM t WHERE k = $1', ['a']], ['select param, 1 at a time', 1, 'SELECT n FROM t WHERE k = $1', ['a']], ['big insert-ish 2KB param', 10, 'SELECT length($1::bytea)', [Buffer.alloc(2048)]]]) {
  const N = 4000;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (i++ < N) await pool.query(sql, params); }));
  const c = process.cpuUsage(c0); const dt = performance.now() - t0;
  console.log(`${label}: ${(dt * 1000 / N).toFixed(0)} µs wall, ${((c.user + c.system) / N).toFixed(0)} µs node cpu (user ${(c.user / N).toFixed(0)} sys ${(c.system / N).toFixed(0)}) per query`);
}
await pool.end(); await s.stop();
