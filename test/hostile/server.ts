/**
 * The key service the sweep attacks: a real server on 127.0.0.1 with its log
 * captured line by line, small body and file limits (so "just over the limit"
 * is cheap to send), a known JWT secret (to make expired tokens), an app, a
 * second app, a registered device and a real key token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteEntry } from '../../server/http/route-table.js';
import type { ServerOptions } from '../../server/index.js';
import { startKeyService, type KeyService, type RegisteredDevice } from '../helpers/key-service.js';
import { credentialKinds, type Credential } from './credentials.js';

export const LIMITS = { bodyLimitBytes: 256 * 1024, fileLimitBytes: 64 * 1024, maxFiles: 3 };
const JWT_SECRET = 'hostile-sweep-jwt-secret-0123456789abcdef';

export interface Target {
  ks: KeyService;
  log: string[];
  credentials: Credential[];
  device: RegisteredDevice;
  realToken: string;
  /** The SQLite file, when the store is SQLite. */
  sqliteFile: string | null;
  close(): Promise<void>;
}

export async function startTarget(store: ServerOptions): Promise<Target> {
  const log: string[] = [];
  const dir = store.databaseUrl ? null : mkdtempSync(join(tmpdir(), 'sealpost-hostile-'));
  const sqliteFile = dir ? join(dir, 'hostile.db') : null;
  const ks = await startKeyService({
    ...store,
    ...(sqliteFile ? { db: sqliteFile } : {}),
    ...LIMITS,
    jwtSecret: JWT_SECRET,
    logger: { level: 'info', stream: { write: (line: string) => void log.push(line) } },
  });
  const other = await ks.server.admin.createApp({ name: 'another app' });
  const device = await ks.registerDevice('hostile-alice');
  const key = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: device.jwt, body: { publickey: device.rsaPublicPem, privatekeyhash: device.privateKeyHash } });
  if (key.status !== 200) throw new Error(`key: ${key.status} ${key.text}`);
  const credentials = credentialKinds({ jwtSecret: JWT_SECRET, app: ks.app, otherApp: other, device });
  return {
    ks,
    log,
    credentials,
    device,
    realToken: key.json.token,
    sqliteFile,
    close: async () => {
      await ks.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The route table of a server built the usual way (buildApp), read once when the test file is collected. */
export async function routeTable(): Promise<RouteEntry[]> {
  const ks = await startKeyService();
  try {
    return [...ks.server.app.routeTable];
  } finally {
    await ks.close();
  }
}
