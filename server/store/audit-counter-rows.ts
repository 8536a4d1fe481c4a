/**
 * The key service's audit chain and rate-limit counters: entries as written
 * and as stored, and the chain's genesis hash (types.ts has the Store).
 */

export interface NewAuditEntry {
  /** The app id, or "-" for requests no app could be identified for. */
  chain: string;
  ts: number;
  userId: string | null;
  deviceId: string | null;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  status: number;
  ip: string;
}

/** An audit entry and its canonical bytes (audit.ts), to append together with a write. */
export interface AuditAppend {
  entry: NewAuditEntry;
  canonical: Buffer;
}

export interface AuditRow extends NewAuditEntry {
  seq: number;
  hash: Buffer;
}

export interface CounterHit {
  key: string;
  windowStart: number;
  n: number;
}

/** 32 zero bytes: the "previous hash" of a chain's first entry. */
export const AUDIT_GENESIS = Buffer.alloc(32);
