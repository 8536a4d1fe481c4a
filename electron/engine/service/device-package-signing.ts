/**
 * The device package (shared/device-package.ts): what registration and linking send
 * the key service about this device, signed with the unlocked identity key over its
 * canonical JSON so the key service can check it came from the identity's holder.
 * @module
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import type { DevicePackage } from '../../../shared/device-package.js';
import { sign } from '../crypto/identity.js';
import type { EngineCore } from './engine-core.js';

/** The device package signed with the unlocked identity key. @throws NoIdentity, Locked */
export function signDevicePackage(core: EngineCore): DevicePackage {
  const identity = core.identity();
  const keys = core.unlocked();
  const fields: Omit<DevicePackage, 'signature'> = {
    version: 1,
    deviceId: identity.deviceId,
    did: identity.did,
    signingPublicKey: identity.signingPublicKey,
    encryptionPublicKey: identity.rsaPublicPem,
    fingerprint: identity.fingerprint,
    createdAt: new Date(core.now()).toISOString(),
  };
  const signature = sign(new TextEncoder().encode(canonicalJson(fields)), keys.identity.secretKey);
  return { ...fields, signature: Buffer.from(signature).toString('base64url') };
}
