/**
 * What the API suite's parts (api-*.ts, assembled by api-suite.ts) share: the
 * store environment, the suite's running service and users, and small assertions.
 * Imports none of the parts, so every part (and other suites) can import it.
 */
import { expect } from 'vitest';
import { ErrorBody } from '../../../shared/wire.js';
import type { RunningServer, ServerOptions } from '../../../server/index.js';
import type { KeyService, RegisteredDevice } from '../../helpers/key-service.js';

export interface SuiteEnv {
  /** Store options for a server (a database every server of the suite may share). */
  store(): ServerOptions;
  /** Store options for an empty database of its own (e.g. rate-limit counters nobody else touches). */
  freshStore(): Promise<ServerOptions>;
}

/** The service and users every part of the API suite works with, set up once by defineApiSuite. */
export interface ApiState {
  ks: KeyService;
  alice: RegisteredDevice;
  bob: RegisteredDevice;
  /** Alice's published offline inbox. */
  inbox: string;
}

export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';

/** Runs raw SQL on a running server's store (tamper tests only). */
export async function rawSql(server: RunningServer, sql: string): Promise<void> {
  const store = server.store as unknown as { db?: { exec(s: string): void }; pool?: { query(s: string): Promise<unknown> } };
  if (store.db) store.db.exec(sql);
  else if (store.pool) await store.pool.query(sql);
  else throw new Error('unknown store');
}

export function expectError(res: { status: number; json: unknown; text: string }, status: number, code?: string) {
  expect(res.status, res.text).toBe(status);
  const body = ErrorBody.parse(res.json);
  expect(body.message.length).toBeGreaterThan(0);
  if (code) expect(body.code).toBe(code);
}
