import { z } from 'zod';

/**
 * The field schemas the contract files (shared/contract*.ts) share, defined once
 * so that a PIN or a user name is the same thing on every channel.
 */

/** A channel: the schema of its input and of its value. */
export const call = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });

/** A PIN as typed ("0" = no PIN); the PIN vault checks the rest. */
export const Pin = z.string().min(1).max(64);
export const Username = z.string().min(1).max(128).regex(/^[\p{L}\p{N}._@+-]+$/u, 'letters, digits and . _ @ + - only');
export const Url = z.string().url().max(500);
export const AppId = z.string().min(3).max(64);
/** A key service's client or server key. */
export const ApiKey = z.string().min(8).max(256);
/** An identity fingerprint: SHA-256, lowercase hex. */
export const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
