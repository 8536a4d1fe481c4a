/**
 * `npm run server -- admin connected-app add|list|remove` (server/cli.ts hands
 * the parsed flags here):
 *   add --name "Acme CRM" --mode api|login|always --key-bits 128|192|256
 *       [--public-key app.pem] [--app APP] [--json]   the id and the back end's secret (shown once)
 *   list [--app APP] [--json]
 *   remove --id ca_...                                its secret stops working at once
 * @module
 */
import { AdminError } from '../admin.js';
import { readAdminFile } from '../admin-file.js';
import type { Store } from '../store/types.js';
import { ConnectedAdmin } from './admin.js';

export interface ConnectedAppFlags {
  app?: string | undefined;
  id?: string | undefined;
  name?: string | undefined;
  mode?: string | undefined;
  keyBits?: string | undefined;
  publicKey?: string | undefined;
  json?: boolean | undefined;
}

export interface ConnectedAppIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** @throws {AdminError} bad flags or key, no such app */
export async function connectedAppCommand(store: Store, sub: string | undefined, f: ConnectedAppFlags, io: ConnectedAppIo): Promise<number> {
  const admin = await ConnectedAdmin.open(store);
  switch (sub) {
    case 'add': {
      if (!f.name) throw new AdminError('--name is required');
      if (!f.mode) throw new AdminError('--mode is required (api, login or always)');
      if (!f.keyBits || !/^\d+$/.test(f.keyBits)) throw new AdminError('--key-bits is required (128, 192 or 256)');
      const created = await admin.add({
        appId: f.app,
        name: f.name,
        mode: f.mode,
        keyBits: Number(f.keyBits),
        publicKeyPem: f.publicKey === undefined ? undefined : await readAdminFile(f.publicKey),
      });
      if (f.json) io.stdout(`${JSON.stringify(created)}\n`);
      else {
        io.stdout(
          `Connected app registered: ${created.name}\n` +
            `  id        ${created.id}\n` +
            `  secret    ${created.secret}\n` +
            `            (its back end sends it as X-Connected-App-Key; keep it secret)\n` +
            `  app       ${created.appId}  mode ${created.mode}  key ${created.keyBits} bits\n` +
            `  transit   ${created.transitKeyFingerprint ?? 'none: each key request must carry its own public key'}\n` +
            `The secret is shown only now: the service keeps only its hash.\n`,
        );
      }
      return 0;
    }
    case 'list': {
      const apps = await admin.list(f.app);
      if (f.json) io.stdout(`${JSON.stringify(apps)}\n`);
      else if (apps.length === 0) io.stdout('no connected apps\n');
      else {
        for (const a of apps) {
          io.stdout(`${a.id}  ${a.name}  app ${a.appId}  mode ${a.mode}  ${a.keyBits} bits  transit ${a.transitKeyFingerprint?.slice(0, 16) ?? '-'}  ${a.removedAt ? `removed ${a.removedAt}` : `added ${a.createdAt}`}\n`);
        }
      }
      return 0;
    }
    case 'remove': {
      if (!f.id) throw new AdminError('--id is required');
      await admin.remove(f.id);
      io.stdout(`connected app ${f.id} removed: its secret is refused from now on\n`);
      return 0;
    }
    default:
      throw new AdminError('connected-app takes add, list or remove');
  }
}
