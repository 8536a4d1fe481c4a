/**
 * Every kind of credential a hostile client might send, for one running key
 * service: none, the app's client and server keys, another app's key, a real
 * device JWT, JWTs that are forged (another secret), expired (the right
 * secret, exp in the past) or `alg: none`, and two credentials at once.
 * Each kind carries the secret strings it contains, so the sweep can check
 * that none of them reaches the log.
 */
import { signDeviceJwt } from '../../server/auth/jwt.js';

export interface Credential {
  kind: string;
  headers: Record<string, string>;
  /** Strings from the credential that must never appear in the log. */
  secrets: string[];
}

export interface CredentialSources {
  jwtSecret: string;
  app: { appId: string; clientKey: string; serverKey: string };
  otherApp: { clientKey: string; serverKey: string };
  device: { deviceId: string; userid: string; jwt: string };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function credentialKinds(s: CredentialSources): Credential[] {
  const claims = { appId: s.app.appId, deviceId: s.device.deviceId, userId: s.device.userid };
  const forged = signDeviceJwt({ ...claims, ttlSeconds: 600 }, Buffer.from('not-the-server-secret-0123456789abcdef', 'utf8')).jwt;
  const expired = signDeviceJwt({ ...claims, ttlSeconds: 60, now: Date.now() - 3_600_000 }, Buffer.from(s.jwtSecret, 'utf8')).jwt;
  const now = Math.floor(Date.now() / 1000);
  const algNone = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: 'sealpost-keyservice', aud: s.app.appId, sub: s.device.deviceId, uid: s.device.userid, iat: now, exp: now + 600, jti: 'x' })}.`;
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
  return [
    { kind: 'none', headers: {}, secrets: [] },
    { kind: 'client key', headers: { 'x-client-key': s.app.clientKey }, secrets: [s.app.clientKey] },
    { kind: 'server key', headers: { 'x-server-key': s.app.serverKey }, secrets: [s.app.serverKey] },
    { kind: "another app's keys", headers: { 'x-client-key': s.otherApp.clientKey, 'x-server-key': s.otherApp.serverKey }, secrets: [s.otherApp.clientKey, s.otherApp.serverKey] },
    { kind: 'device JWT', headers: bearer(s.device.jwt), secrets: [s.device.jwt] },
    { kind: 'forged JWT', headers: bearer(forged), secrets: [forged] },
    { kind: 'expired JWT', headers: bearer(expired), secrets: [expired] },
    { kind: 'alg:none JWT', headers: bearer(algNone), secrets: [algNone] },
    { kind: 'JWT and client key', headers: { ...bearer(s.device.jwt), 'x-client-key': s.app.clientKey }, secrets: [s.device.jwt, s.app.clientKey] },
  ];
}
