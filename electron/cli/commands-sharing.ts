/**
 * The CLI's item and sharing commands (docs/sharing.md): vault items from
 * files or text, sharing with roles, revoking, and the identity file for a
 * second desktop. Commands that read or change shared state sync items with
 * the key service first when the profile is registered; offline they work on
 * the local vault and the next sync carries the change (--offline skips it).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ResultCode, type Result } from '../../shared/codes.js';
import type { Output } from '../../shared/contract.js';
import { ok } from '../engine/service/results.js';
import type { CliContext } from './context.js';
import { type Command, fsFailure, MAX_PIPED_BYTES, parse, unlock, writeOutput } from './command-kit.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

type SyncOutcome = { synced: Output<'items:sync'> } | { syncError: string } | Record<string, never>;

/** Syncs items when registered; an unreachable key service is reported, not fatal (offline first). */
async function trySync(ctx: CliContext, offline: boolean | undefined): Promise<SyncOutcome> {
  if (offline) return {};
  const status = await ctx.call('engine:status', {});
  if (status.code !== 0 || !status.value.registered) return {};
  const r = await ctx.call('items:sync', {});
  if (r.code === 0) return { synced: r.value };
  if (!ctx.json) process.stderr.write(`Items not synced: ${r.message}\n`);
  return { syncError: r.message };
}

/** Standard MIME types for the few extensions worth naming; the rest is octet-stream. */
const MIME: Record<string, string> = { txt: 'text/plain', md: 'text/markdown', pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', json: 'application/json' };

const item: Command = {
  synopsis: 'item add --name N (--text T | --file F) | item get ID [-o OUT]',
  summary: 'store a note or a file as a vault item; print or save one (text to stdout, a file to -o or its own name)',
  async run(ctx) {
    const { values, positionals } = parse(
      ctx,
      { name: { type: 'string' }, text: { type: 'string' }, file: { type: 'string' }, output: { type: 'string', short: 'o' }, offline: { type: 'boolean' } },
      2,
    );
    const [sub, id] = positionals;
    if (sub === 'add' && id === undefined) {
      if (!values.name) throw new UsageError('item add needs --name N');
      if ((values.text === undefined) === (values.file === undefined)) throw new UsageError('item add needs exactly one of --text T or --file F');
      let content: { kind: 'note'; title: string; text: string } | { kind: 'file'; title: string; fileName: string; mime: string; data: string };
      if (values.text !== undefined) content = { kind: 'note', title: values.name, text: values.text };
      else {
        let data: Buffer;
        try {
          data = await readFile(values.file!);
        } catch (e) {
          return fsFailure(e, values.file!);
        }
        if (data.length > MAX_PIPED_BYTES) return { code: ResultCode.InvalidParameter, message: 'an item holds at most 48 MiB' };
        const fileName = basename(values.file!).slice(0, 255) || 'file';
        const ext = fileName.includes('.') ? fileName.split('.').pop()!.toLowerCase() : '';
        content = { kind: 'file', title: values.name, fileName, mime: MIME[ext] ?? 'application/octet-stream', data: data.toString('base64') };
      }
      const unlocked = await unlock(ctx);
      if (unlocked.code !== 0) return unlocked;
      const result = await ctx.call('items:create', { content });
      if (result.code !== 0) return result;
      const synced = await trySync(ctx, values.offline);
      if (!ctx.json) ctx.out(result.value.identifier);
      return ok({ ...result.value, ...synced });
    }
    if (sub === 'get' && id !== undefined) {
      const unlocked = await unlock(ctx);
      if (unlocked.code !== 0) return unlocked;
      await trySync(ctx, values.offline);
      const result = await ctx.call('items:open', { identifier: id });
      if (result.code !== 0) return result;
      const c = result.value.content;
      if (ctx.json) return result;
      const bytes = c.kind === 'note' ? Buffer.from(c.text, 'utf8') : Buffer.from(c.data, 'base64');
      // A file goes to -o, else to its own name when stdout is a terminal (bytes would garble it), else to stdout.
      const out = values.output ?? (c.kind === 'file' && process.stdout.isTTY ? c.fileName : undefined);
      try {
        await writeOutput(out, bytes);
      } catch (e) {
        return fsFailure(e, out ?? 'stdout');
      }
      const s = result.value.item;
      process.stderr.write(`${s.title} (v${s.version}${s.mine ? '' : `, shared by ${s.sharedBy ?? s.owner}, ${s.role}${s.revoked ? ', ACCESS REVOKED' : ''}`})${out ? ` -> ${out}` : ''}\n`);
      return result;
    }
    throw new UsageError('item takes "add --name N (--text T | --file F)" or "get ID [-o OUT]"');
  },
};

const items: Command = {
  synopsis: 'items [--json] [--offline]',
  summary: 'your items and the items shared with you, with ids, roles and who shared them',
  async run(ctx) {
    const { values } = parse(ctx, { offline: { type: 'boolean' } }, 0);
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    await trySync(ctx, values.offline);
    const result = await ctx.call('items:list', {});
    if (result.code === 0 && !ctx.json) {
      for (const i of result.value) {
        const whose = i.mine ? `mine${i.sharedWith ? `, shared with ${i.sharedWith}` : ''}` : `shared by ${i.sharedBy ?? i.owner}${i.sharedAt ? ` on ${i.sharedAt.slice(0, 10)}` : ''} (${i.role}${i.revoked ? ', revoked' : ''})`;
        ctx.out(`${i.identifier}\t${i.kind}\t${i.title}\tv${i.version}\t${whose}${i.conflicts ? `\t${i.conflicts} CONFLICT(S)` : ''}${i.dirty ? '\tnot synced' : ''}`);
      }
    }
    return result;
  },
};

const share: Command = {
  synopsis: 'share ID --to USER [--to USER...] [--role read|edit] [--unverified]',
  summary: 'give contacts access to an item (an unverified key needs --unverified); synced at once when online',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { to: { type: 'string', multiple: true }, role: { type: 'string' }, unverified: { type: 'boolean' }, offline: { type: 'boolean' } }, 1);
    const [id] = positionals;
    if (!id || !values.to?.length) throw new UsageError('share needs ID and at least one --to USER');
    const role = values.role ?? 'read';
    if (role !== 'read' && role !== 'edit') throw new UsageError('--role must be read or edit');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('items:share', { identifier: id, to: values.to, role, confirmUnverified: values.unverified ?? false });
    if (result.code !== 0) {
      if (result.code === ResultCode.InvalidState && !ctx.json && result.details?.unverified) {
        process.stderr.write('Compare safety numbers with "sealpost contacts verify NAME FINGERPRINT", or add --unverified to share anyway.\n');
      }
      return result;
    }
    const synced = await trySync(ctx, values.offline);
    if (!ctx.json) for (const g of result.value.granted) ctx.out(`Shared ${id} with ${g.label} (${g.role}${g.verified ? '' : ', key NOT verified'}).`);
    return ok({ ...result.value, ...synced });
  },
};

const revoke: Command = {
  synopsis: 'revoke ID --from USER [--from USER...]',
  summary: 'take access away: the item key is rotated; they keep what they already opened',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { from: { type: 'string', multiple: true }, offline: { type: 'boolean' } }, 1);
    const [id] = positionals;
    if (!id || !values.from?.length) throw new UsageError('revoke needs ID and at least one --from USER');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const contacts = await ctx.call('contacts:list', {});
    if (contacts.code !== 0) return contacts;
    const userIds = values.from.map((u) => contacts.value.find((c) => c.username === u || c.userId === u)?.userId ?? u);
    const result = await ctx.call('items:revoke', { identifier: id, userIds });
    if (result.code !== 0) return result;
    const synced = await trySync(ctx, values.offline);
    if (!ctx.json) {
      ctx.out(`Revoked ${values.from.join(', ')} from ${id}; re-encrypted as version ${result.value.version}.`);
      process.stderr.write('They can no longer open new versions, but may keep what they already opened.\n');
    }
    return ok({ ...result.value, ...synced });
  },
};

/** The identity-file passphrase: SEALPOST_PASSPHRASE, else a hidden prompt. */
async function passphrase(question: string): Promise<string> {
  return process.env.SEALPOST_PASSPHRASE ?? readPin(question, { ignoreEnv: true });
}

const exportIdentity: Command = {
  synopsis: 'export-identity -o FILE',
  summary: 'your identity (seed + encryption key) sealed under a passphrase (SEALPOST_PASSPHRASE or a prompt), for a second desktop',
  async run(ctx) {
    const { values } = parse(ctx, { output: { type: 'string', short: 'o' } }, 0);
    if (!values.output) throw new UsageError('export-identity needs -o FILE');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const pass = await passphrase('Passphrase for the identity file (10+ characters): ');
    const result = await ctx.call('identity:export', { passphrase: pass });
    if (result.code !== 0) return result;
    try {
      await writeOutput(values.output, Buffer.from(result.value.file, 'base64'));
    } catch (e) {
      return fsFailure(e, values.output);
    }
    if (!ctx.json) process.stderr.write(`Identity written to ${values.output}. Anyone with this file and the passphrase is you: keep both safe.\n`);
    return ok({ did: result.value.did, fingerprint: result.value.fingerprint, file: values.output });
  },
};

const importIdentity: Command = {
  synopsis: 'import-identity FILE',
  summary: 'restore an exported identity on this (empty) profile; new PIN from SEALPOST_PIN or a prompt',
  async run(ctx) {
    const { positionals } = parse(ctx, {}, 1);
    const [file] = positionals;
    if (!file) throw new UsageError('import-identity needs FILE');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      return fsFailure(e, file);
    }
    if (bytes.length > 64 * 1024) return { code: ResultCode.InvalidParameter, message: `${file}: too large for an identity file` };
    const pass = await passphrase('Passphrase of the identity file: ');
    const pin = await readPin('Choose a PIN for this desktop (4-12 digits; 0 for none): ');
    const result: Result<unknown> = await ctx.call('identity:import', { file: bytes.toString('base64'), passphrase: pass, pin });
    if (result.code === 0 && !ctx.json) {
      const v = result.value as Output<'identity:import'>;
      ctx.out(`Identity restored.\n  DID:         ${v.did}\n  Fingerprint: ${v.fingerprint}\nRegister with the same username to see your items and grants.`);
    }
    return result;
  },
};

export const sharingCommands: Record<string, Command> = {
  item,
  items,
  share,
  revoke,
  'export-identity': exportIdentity,
  'import-identity': importIdentity,
};
