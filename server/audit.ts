/**
 * The audit log: every request for keys or data, with who (app, user,
 * device, credential kind, address), what (action, target), when and the
 * result. One hash chain per app (chain "-" for requests no app could be
 * identified for):
 *
 *   hash_n = SHA-256(hash_{n-1} || canonicalJson(entry_n)),  hash_0 = 32 zero bytes
 *
 * where entry_n is {chain, ts, userId, deviceId, actor, action, target,
 * result, status, ip} (ts in ms). Editing, removing or reordering any entry
 * breaks every later hash; verify() finds the first bad one.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalJson } from '../shared/canonical-json.js';
import type { Caller } from './auth/caller.js';
import { AUDIT_GENESIS, type AuditAppend, type AuditRow, type NewAuditEntry, type Store } from './store/types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Audit action name; routes without one are not audited (only /health). */
    audit?: string;
  }
  interface FastifyRequest {
    /** What the request acted on (set by the handler), e.g. "key:12", "item:notes". */
    auditTarget: string | null;
    /** The handler's write already appended this request's entry (AuditLog.withWrite): onSend adds none. */
    auditWritten: boolean;
    /**
     * A successful poll that handed out nothing new (a link session still waiting):
     * not written, so polling does not bury the entries a user reads. Failures of
     * the same request are written as usual.
     */
    auditQuietSuccess: boolean;
  }
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/**
 * canonicalJson(entry) (keys sorted, no whitespace), written out by hand for
 * the hot path; a test checks it equals canonicalJson for every field shape.
 */
export function canonicalAuditEntry(e: NewAuditEntry): Buffer {
  if (!Number.isSafeInteger(e.ts) || !Number.isSafeInteger(e.status)) throw new RangeError('audit ts and status must be integers');
  return Buffer.from(
    `{"action":${str(e.action)},"actor":${str(e.actor)},"chain":${str(e.chain)},"deviceId":${str(e.deviceId)},"ip":${str(e.ip)},` +
      `"result":${str(e.result)},"status":${e.status},"target":${str(e.target)},"ts":${e.ts},"userId":${str(e.userId)}}`,
  );
}

/** The same bytes through the generic canonicalJson (tests compare the two). */
export function canonicalAuditEntrySlow(e: NewAuditEntry): Buffer {
  return Buffer.from(
    canonicalJson({ chain: e.chain, ts: e.ts, userId: e.userId, deviceId: e.deviceId, actor: e.actor, action: e.action, target: e.target, result: e.result, status: e.status, ip: e.ip }),
  );
}

export function resultOf(status: number): string {
  if (status < 400) return 'ok';
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'denied';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'too_large';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'error' : 'invalid';
  }
}

function actorOf(caller: Caller): string {
  switch (caller.kind) {
    case 'device':
      return `device:${caller.deviceId}`;
    case 'client':
      return 'client-key';
    case 'server':
      return 'server-key';
    default:
      return 'anonymous';
  }
}

export interface VerifyResult {
  ok: boolean;
  count: number;
  firstBadSeq: number | null;
}

export class AuditLog {
  constructor(private readonly store: Store) {}

  append(entry: NewAuditEntry): Promise<number> {
    return this.store.appendAudit(entry, canonicalAuditEntry(entry));
  }

  entryFor(request: FastifyRequest, reply: FastifyReply, action: string): NewAuditEntry {
    // A request refused by an earlier onRequest hook (unsupported ?v or ?format)
    // never reached authentication: no caller yet, so it is audited as anonymous.
    const caller: Caller = (request.caller as Caller | null) ?? { kind: 'none' };
    return {
      chain: caller.kind === 'none' ? '-' : caller.appId,
      ts: Date.now(),
      userId: caller.kind === 'device' ? caller.userId : null,
      deviceId: caller.kind === 'device' ? caller.deviceId : null,
      actor: actorOf(caller),
      action,
      target: request.auditTarget,
      result: resultOf(reply.statusCode),
      status: reply.statusCode,
      ip: request.ip,
    };
  }

  /**
   * The entry for a request that is about to succeed, for the store to append
   * in the same transaction as the handler's write (a send and its audit entry
   * then cost one commit, not two). The handler sets request.auditWritten
   * once the write has appended it; if the request fails instead, onSend
   * writes the failure as usual.
   */
  withWrite(request: FastifyRequest, reply: FastifyReply, action: string): AuditAppend {
    const entry = this.entryFor(request, reply, action);
    if (entry.status !== 200) throw new RangeError('withWrite is for a request that is about to succeed');
    return { entry, canonical: canonicalAuditEntry(entry) };
  }

  /** Recomputes a chain from its first entry; stops at the first mismatch or gap. */
  async verify(chain: string): Promise<VerifyResult> {
    let prev = AUDIT_GENESIS;
    let expectedSeq = 1;
    let count = 0;
    for (;;) {
      const rows: AuditRow[] = await this.store.listAudit(chain, null, expectedSeq - 1, 1000);
      if (rows.length === 0) return { ok: true, count, firstBadSeq: null };
      for (const row of rows) {
        const hash = createHash('sha256').update(prev).update(canonicalAuditEntry(row)).digest();
        if (row.seq !== expectedSeq || !hash.equals(row.hash)) return { ok: false, count, firstBadSeq: expectedSeq };
        prev = hash;
        expectedSeq += 1;
        count += 1;
      }
    }
  }

  /**
   * onSend hook: writes the entry before the response leaves, for every
   * audited route (unless the handler's own write already appended it, see
   * withWrite). 429s are not written (the limit exists to protect the
   * database). If the entry cannot be written the failure is logged at error
   * level; the response is not changed, since the action already happened.
   */
  register(app: FastifyInstance): void {
    app.decorateRequest('auditTarget', null);
    app.decorateRequest('auditWritten', false);
    app.decorateRequest('auditQuietSuccess', false);
    // Callback style: most requests need no wait here (not audited, or already written with the handler's write).
    app.addHook('onSend', (request, reply, payload, done) => {
      const action = request.routeOptions.config.audit;
      if (!action || reply.statusCode === 429 || request.auditWritten || (request.auditQuietSuccess && reply.statusCode === 200)) {
        done(null, payload);
        return;
      }
      let pending: Promise<number>;
      try {
        pending = this.append(this.entryFor(request, reply, action));
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        () => done(null, payload),
        (err: unknown) => {
          request.log.error({ err, action }, 'audit entry could not be written');
          done(null, payload);
        },
      );
    });
  }
}
