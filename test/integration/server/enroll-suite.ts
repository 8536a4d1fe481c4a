/**
 * Enrollment codes against the real key service (SQLite: enroll-sqlite.test.ts,
 * PostgreSQL: enroll-postgres.test.ts), over HTTP: issue -> register -> the
 * device's JWT works; reuse, expiry, another user's or app's code refused with
 * the one answer; guessing locked per user name and limited per address;
 * two registrations racing for one code (one wins); a code is not burned by a
 * bad package; the audit entries; the bulk CSV issuing.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnrollResponse, parseEnrollLink } from '../../../shared/enroll-wire.js';
import { ErrorBody } from '../../../shared/wire.js';
import { EnrollmentIssuer } from '../../../server/enrollment/codes.js';
import { enrollCommand } from '../../../server/enrollment/enroll-command.js';
import { AdminError, type ServerOptions } from '../../../server/index.js';
import { makeDevice, makeIdentity, startKeyService, type KeyService, type TestDevice } from '../../helpers/key-service.js';
import { rawSql } from './api-shared.js';

export interface EnrollSuiteEnv {
  store(): ServerOptions;
  freshStore(): Promise<ServerOptions>;
}

function expectError(res: { status: number; json: unknown; text: string }, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  const body = ErrorBody.parse(res.json);
  expect(body.code).toBe(code);
  expect(body.message.length).toBeGreaterThan(20);
}

export function defineEnrollSuite(label: string, env: () => EnrollSuiteEnv): void {
  describe(`enrollment codes (${label})`, () => {
    let ks: KeyService;
    let issuer: EnrollmentIssuer;
    const enroll = (body: Record<string, unknown>, headers?: Record<string, string>) => ks.request('POST', '/v1/enroll', { body, ...(headers && { headers }) });
    const enrollWith = (code: string, username: string, device: TestDevice = makeDevice(), appid = ks.app.appId) => enroll({ appid, username, code, devicePackage: device.pkg });

    beforeAll(async () => {
      ks = await startKeyService(await env().freshStore());
      issuer = await EnrollmentIssuer.open(ks.server.store, ks.url);
    });
    afterAll(() => ks.close());

    it('issues a code that registers a device once; its JWT works; the code is stored only as a hash', async () => {
      const issued = await issuer.issue({ appId: ks.app.appId, username: 'alice' });
      expect(issued.code).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
      expect(parseEnrollLink(issued.link)).toEqual({ server: ks.url, appId: ks.app.appId, username: 'alice', code: issued.code });
      const device = makeDevice();
      const res = await enrollWith(issued.code.toLowerCase().replace(/-/g, ' '), 'alice', device);
      expect(res.status, res.text).toBe(200);
      const body = EnrollResponse.parse(res.json);
      const me = await ks.request('GET', '/v1/users/alice', { jwt: body.jwt });
      expect(me.status).toBe(200);
      expect((me.json as { devices: Array<{ deviceId: string }> }).devices.map((d) => d.deviceId)).toContain(device.deviceId);
      const inbox = await ks.request('POST', '/v1/keys', { jwt: body.jwt, body: { publickey: device.rsaPublicPem, privatekeyhash: device.privateKeyHash, publish: true } });
      expect(inbox.status, inbox.text).toBe(200);

      const rows = await ks.server.store.sql().all('SELECT * FROM enrollment_codes WHERE username = $1', ['alice']);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(issued.code.replace(/-/g, ''));
      expect(rows[0]!.used_at).not.toBeNull();

      // Both sides audited: the app's chain names the new device and user.
      const audit = await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000);
      expect(audit.some((e) => e.action === 'users.enroll' && e.status === 200 && e.deviceId === device.deviceId && e.target === `user:${body.userid}`)).toBe(true);

      // Used: the same answer as any wrong code.
      expectError(await enrollWith(issued.code, 'alice'), 401, 'invalid_enrollment_code');
    });

    it('refuses an expired code, another user\'s code and another app\'s code with the same answer', async () => {
      const expired = await issuer.issue({ appId: ks.app.appId, username: 'carol', ttlMs: 60_000, now: Date.now() - 120_000 });
      expectError(await enrollWith(expired.code, 'carol'), 401, 'invalid_enrollment_code');

      const dave = await issuer.issue({ appId: ks.app.appId, username: 'dave' });
      expectError(await enrollWith(dave.code, 'erin'), 401, 'invalid_enrollment_code');

      const other = await ks.server.admin.createApp({ name: 'other app' });
      expectError(await enrollWith(dave.code, 'dave', makeDevice(), other.appId), 401, 'invalid_enrollment_code');
      const messages = new Set(
        await Promise.all([enrollWith(expired.code, 'carol'), enrollWith('AAAAA-AAAAA-AAAAA-AAAAA', 'dave')].map(async (r) => ErrorBody.parse((await r).json).message)),
      );
      expect(messages.size).toBe(1);
      // Still good for dave in the right app.
      expect((await enrollWith(dave.code, 'DAVE')).status).toBe(200);
    });

    it('locks a user name after 5 wrong codes (even the right code waits), and counts per app', async () => {
      const right = await issuer.issue({ appId: ks.app.appId, username: 'frank' });
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push((await enrollWith(`ZZZZZ-ZZZZZ-ZZZZZ-ZZZ${String.fromCharCode(65 + i)}${i % 2 ? 'A' : 'B'}`, 'frank')).status);
      expect(answers.slice(0, 4)).toEqual([401, 401, 401, 401]);
      expect(answers.slice(4).every((s) => s === 429)).toBe(true);
      const locked = await enrollWith(right.code, 'frank');
      expectError(locked, 429, 'rate_limited');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
      // The lock ends (an admin could clear it the same way); then the right code works.
      await rawSql(ks.server, "UPDATE enrollment_lockouts SET locked_until = 0 WHERE username_key = 'frank'");
      expect((await enrollWith(right.code, 'frank')).status).toBe(200);
    });

    it('limits wrong codes per client address', async () => {
      const limited = await startKeyService({ ...(await env().freshStore()), rateLimit: { windowSeconds: 3600, perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 6 } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) {
          const r = await limited.request('POST', '/v1/enroll', { body: { appid: limited.app.appId, username: `u${i}`, code: 'AAAAA-AAAAA-AAAAA-AAAAA', devicePackage: makeDevice().pkg } });
          statuses.push(r.status);
        }
        expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
        expect(statuses.slice(6)).toEqual([429, 429]);
      } finally {
        await limited.close();
      }
    });

    it('of two registrations racing with one code, exactly one wins', async () => {
      const issued = await issuer.issue({ appId: ks.app.appId, username: 'gina' });
      const identity = makeIdentity();
      const results = await Promise.all([enrollWith(issued.code, 'gina', makeDevice(identity)), enrollWith(issued.code, 'gina', makeDevice(identity))]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      const devices = await ks.server.store.sql().all("SELECT d.device_id FROM devices d JOIN users u ON u.id = d.user_id WHERE u.username_key = 'gina'");
      expect(devices).toHaveLength(1);
    });

    it('does not burn a code on a package that cannot be bound', async () => {
      const issued = await issuer.issue({ appId: ks.app.appId, username: 'hank' });
      const device = makeDevice();
      const forged = { ...device.pkg, fingerprint: 'f'.repeat(64) };
      expectError(await enroll({ appid: ks.app.appId, username: 'hank', code: issued.code, devicePackage: forged }), 400, 'invalid_device_package');
      expect((await enrollWith(issued.code, 'hank', device)).status).toBe(200);
    });

    it('keeps the server-key path for the organisation\'s own back end', async () => {
      const viaServerKey = await ks.registerDevice('ivan');
      expect((await ks.request('GET', '/v1/users/ivan', { jwt: viaServerKey.jwt })).status).toBe(200);
    });

    it('issues codes in bulk from a CSV file, and names a bad line', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sealpost-enroll-csv-'));
      try {
        const input = join(dir, 'users.csv');
        writeFileSync(input, 'username,ttl\n# staff\nkim\n"lee",2d\n\nmo,90m\n');
        const out: string[] = [];
        const err: string[] = [];
        const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
        expect(await enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, publicUrl: ks.url }, io)).toBe(0);
        const lines = out.join('').trim().split('\n');
        expect(lines[0]).toBe('username,code,link,expiresAt');
        expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['kim', 'lee', 'mo']);
        const [, leeCode, leeLink, leeExpiry] = lines[2]!.split(',');
        expect(parseEnrollLink(leeLink!).code).toBe(leeCode);
        const ttl = Date.parse(leeExpiry!) - Date.now();
        expect(ttl).toBeGreaterThan(47 * 3600_000);
        expect(ttl).toBeLessThanOrEqual(48 * 3600_000);
        expect((await enrollWith(leeCode!, 'lee')).status).toBe(200);

        const file = join(dir, 'codes.csv');
        expect(await enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, out: file, publicUrl: ks.url }, io)).toBe(0);
        expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('username,code,link,expiresAt');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        await expect(enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, out: file, publicUrl: ks.url }, io)).rejects.toThrow(/exists/);

        const before = (await ks.server.store.sql().all('SELECT COUNT(*) AS n FROM enrollment_codes'))[0]!.n;
        writeFileSync(input, 'nina\nbad name!\noscar\n');
        await expect(enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, publicUrl: ks.url }, io)).rejects.toThrow(/^line 2: "bad name!" is not a valid user name/);
        writeFileSync(input, 'nina,7x\n');
        await expect(enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, publicUrl: ks.url }, io)).rejects.toThrow(/^line 1: "7x" is not a lifetime/);
        writeFileSync(input, 'nina\nNINA\n');
        await expect(enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, publicUrl: ks.url }, io)).rejects.toThrow(/^line 2: NINA is already on line 1/);
        writeFileSync(input, 'nina,7d,extra\n');
        await expect(enrollCommand(ks.server.store, { app: ks.app.appId, csv: input, publicUrl: ks.url }, io)).rejects.toBeInstanceOf(AdminError);
        await expect(enrollCommand(ks.server.store, { app: 'no-such-app', csv: input.replace('users', 'none'), publicUrl: ks.url }, io)).rejects.toThrow(/no such file/);
        // Nothing was issued by a refused file.
        expect((await ks.server.store.sql().all('SELECT COUNT(*) AS n FROM enrollment_codes'))[0]!.n).toEqual(before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
