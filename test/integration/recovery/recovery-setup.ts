/**
 * What the recovery tests share: a key service and an escrow service (two real
 * servers, each with its own SQLite file), and alice's first device, with an
 * identity under PIN and registered on the key service. Call it inside a
 * describe: it starts everything in beforeAll and stops it in afterAll.
 */
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';

/** alice's PIN on her first device. */
export const PIN = '482913';

export interface RecoveryServers {
  /** The temporary folder with both databases and every profile. */
  readonly root: string;
  readonly ks: KeyService;
  readonly escrow: KeyService;
  /** alice's first device. */
  readonly alice: Profile;
  /** alice's identity. */
  readonly did: string;
  /** recovery:backup's escrow input for the escrow service. */
  escrowInput(): { url: string; appId: string; clientKey: string };
  /** recovery:restore's input for alice on the key service with PIN, changed or completed by `extra`. */
  restoreInput(extra: Record<string, string>): { server: string; appId: string; clientKey: string; username: string; pin: string } & Record<string, string>;
  /** A new, empty profile under root (a new device); the caller closes it. */
  openDevice(name: string): Promise<Profile>;
}

/** Registers the beforeAll/afterAll hooks of the calling describe; `prefix` names its temporary folder. */
export function useRecoveryServers(prefix: string): RecoveryServers {
  const root = tmp(prefix);
  let ks: KeyService | undefined;
  let escrow: KeyService | undefined;
  let alice: Profile | undefined;
  let did = '';

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    escrow = await startKeyService({ db: path.join(root, 'escrow.db') });
    alice = await openProfile(path.join(root, 'alice'));
    did = (await alice.ok('identity:create', { pin: PIN, rsaBits: 2048 })).did;
    await alice.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
  });

  afterAll(async () => {
    alice?.close();
    await ks?.close();
    await escrow?.close();
    cleanup(root);
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started: use it inside a test, after beforeAll`);
    return value;
  };

  return {
    root,
    get ks() {
      return started(ks, 'the key service');
    },
    get escrow() {
      return started(escrow, 'the escrow service');
    },
    get alice() {
      return started(alice, "alice's profile");
    },
    get did() {
      return did;
    },
    escrowInput() {
      const service = started(escrow, 'the escrow service');
      return { url: service.url, appId: service.app.appId, clientKey: service.app.clientKey };
    },
    restoreInput(extra) {
      const service = started(ks, 'the key service');
      return { server: service.url, appId: service.app.appId, clientKey: service.app.clientKey, username: 'alice', pin: PIN, ...extra };
    },
    openDevice: (name) => openProfile(path.join(root, name)),
  };
}
