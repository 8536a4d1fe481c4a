import { z } from 'zod';

/**
 * The managed policy (docs/deploy.md): what an organisation's IT presets and locks on
 * every desktop, read by the engine at start from the OS's managed place (Linux
 * /etc/sealpost/policy.json, Windows HKLM/HKCU\SOFTWARE\Policies\Sealpost, macOS
 * /Library/Managed Preferences/app.sealpost.desktop.plist). One schema for all three:
 * strict, so a misspelt or unknown setting makes the policy invalid (fail closed)
 * rather than silently not applied. Every key is optional; a key that is present is
 * locked (the UI shows "Managed by your organization"). The ADMX template
 * (resources/policy/sealpost.admx) lists exactly these keys (a test checks it).
 */

const HttpUrl = z
  .string()
  .max(500)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');
const Id = z.string().min(3).max(64);
const Key = z.string().min(8).max(256);

export const EscrowPolicy = z.object({ url: HttpUrl, appId: Id, clientKey: Key }).strict();

/**
 * One CA certificate: PEM, or its DER in base64 on one line (a Windows REG_MULTI_SZ item
 * cannot hold a newline). Only the shape is checked here (this file also runs in the
 * renderer); the engine parses each one as X.509 when it loads the policy
 * (electron/engine/policy/certificates.ts) and fails closed on one that does not parse.
 */
export const TrustedCertificate = z
  .string()
  .max(16_384)
  .refine(
    (s) => /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(s) || /^\s*[A-Za-z0-9+/]{32,}={0,2}\s*$/.test(s),
    'must be a PEM certificate (-----BEGIN CERTIFICATE-----) or its base64 DER on one line',
  );

export const PolicySchema = z
  .object({
    /** The key service the desktop registers with (prefilled on first run). */
    keyServiceUrl: HttpUrl,
    /** The app id on that key service. */
    appId: Id,
    /** The app's client key (not a secret of the user; sent with every request). */
    clientKey: Key,
    /** Key services (URLs or origins) registration, linking and restoring may use; nothing else. */
    allowedKeyServices: z.array(HttpUrl).min(1).max(50),
    /** Where recovery shares go: the escrow service (URL, app id, client key). */
    escrow: EscrowPolicy,
    /** CA certificates trusted for the key service and escrow besides the public ones (an organisation's own CA). */
    trustedCertificates: z.array(TrustedCertificate).min(1).max(20),
    /** A PIN is required: "0" (no PIN) is refused. */
    requirePin: z.boolean(),
    /** Shortest PIN (digits); 4 is the engine's own minimum. */
    pinMinLength: z.number().int().min(4).max(12),
    /** Longest idle time before the keys lock; "never" (0) is then refused. */
    autoLockMaxMs: z.number().int().min(60_000).max(24 * 60 * 60_000),
    /** May the user export an identity file (identity:export)? */
    allowIdentityExport: z.boolean(),
    /** A recovery backup must exist within this many days of the identity's creation (a reminder that cannot be dismissed). */
    recoveryBackupRequiredDays: z.number().int().min(1).max(365),
    /** Smallest RSA key made here (new identities and rotations). */
    minRsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]),
    /** Message text in desktop notifications: 'allowed' (the user chooses) or 'off' (forced off). */
    notificationPreviews: z.enum(['allowed', 'off']),
    /** Read receipts: false forces them off (none sent, none shown); true leaves the choice to the user. */
    readReceipts: z.boolean(),
    /** Update checks on or off. */
    updates: z.boolean(),
    /** Two-step verification (TOTP) must be on for the account. */
    requireTotp: z.boolean(),
  })
  .partial()
  .strict();
export type Policy = z.infer<typeof PolicySchema>;
export type PolicyKey = keyof Policy;

/** Every policy key, in the order docs/deploy.md and the templates list them. */
export const POLICY_KEYS = Object.keys(PolicySchema.shape) as PolicyKey[];

/** How each key is stored where the OS has types (registry values, plist elements). */
export const POLICY_KINDS: Record<PolicyKey, 'string' | 'strings' | 'boolean' | 'integer' | 'escrow'> = {
  keyServiceUrl: 'string',
  appId: 'string',
  clientKey: 'string',
  allowedKeyServices: 'strings',
  escrow: 'escrow',
  trustedCertificates: 'strings',
  requirePin: 'boolean',
  pinMinLength: 'integer',
  autoLockMaxMs: 'integer',
  allowIdentityExport: 'boolean',
  recoveryBackupRequiredDays: 'integer',
  minRsaBits: 'integer',
  notificationPreviews: 'string',
  readReceipts: 'boolean',
  updates: 'boolean',
  requireTotp: 'boolean',
};

/** What applies without a policy (the engine's own defaults); null = not set, the user chooses. */
export const POLICY_DEFAULTS: { [K in PolicyKey]-?: Policy[K] | null } = {
  keyServiceUrl: null,
  appId: null,
  clientKey: null,
  allowedKeyServices: null,
  escrow: null,
  trustedCertificates: null,
  requirePin: false,
  pinMinLength: 4,
  autoLockMaxMs: null,
  allowIdentityExport: true,
  recoveryBackupRequiredDays: null,
  minRsaBits: 2048,
  notificationPreviews: 'allowed',
  readReceipts: true,
  updates: true,
  requireTotp: false,
};

const Setting = z.object({
  /** The effective value (the policy's, else the default); secrets (clientKey) are shown only as "set". */
  value: z.unknown(),
  /** 'policy' = set and locked by the organisation; 'default' = the user's choice / the engine's default. */
  source: z.enum(['policy', 'default']),
  /** Where the value came from: a file path, a registry key, a plist; null for a default. */
  where: z.string().nullable(),
  locked: z.boolean(),
});

/** policy:get: the effective policy, per key where it came from, and the reminders it imposes. */
export const PolicyValue = z.object({
  /** none: no policy on this machine; managed: applied; invalid: unreadable or invalid, the engine refuses changes. */
  state: z.enum(['none', 'managed', 'invalid']),
  /** The places read, in order (e.g. HKLM then HKCU); empty when none exists. */
  sources: z.array(z.string()),
  /** For 'invalid': the file or key and the problem. */
  error: z.string().nullable(),
  settings: z.record(z.string(), Setting),
  /** recoveryBackupRequiredDays: a reminder the UI shows until a backup exists; it cannot be dismissed. */
  recoveryBackup: z
    .object({ requiredWithinDays: z.number().int(), dueAt: z.number().int().nullable(), done: z.boolean(), overdue: z.boolean() })
    .nullable(),
});
export type PolicyValue = z.infer<typeof PolicyValue>;
