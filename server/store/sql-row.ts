/**
 * What the SQL modules share: a result row as the drivers return it, the
 * statements interface the store hands to each per-domain module, and the
 * coercions from driver values (numbers may come back as strings, bytes as
 * Uint8Array) to the row types in types.ts.
 * @module
 */

/** One result row, keyed by column name. */
export type Row = Record<string, unknown>;

/**
 * The store's statements, for the per-domain modules (sql-apps.ts, …).
 * Statements use PostgreSQL's `$n` placeholders; the SQLite adapter rewrites them.
 */
export interface SqlQueries {
  get(sql: string, params?: unknown[]): Promise<Row | undefined>;
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  /** The number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** Whether the error is the database refusing a duplicate unique key. */
  isUniqueViolation(error: unknown): boolean;
}

export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));
export const bufOrNull = (v: unknown): Buffer | null => (v === null || v === undefined ? null : buf(v));
