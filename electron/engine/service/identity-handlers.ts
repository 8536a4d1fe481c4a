/**
 * The identity's channels: creating or importing it, showing it, exporting its
 * public key, rotating the encryption key and the signed device package. Every one
 * is a key request, audited with its outcome, except identity:get.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import { fromBase64 } from '../crypto/_bytes.js';
import { safetyNumberForOne } from '../crypto/fingerprint.js';
import { openIdentityFile } from '../crypto/identity-file.js';
import { DEFAULT_RSA_BITS } from '../crypto/rsa.js';
import { signDevicePackage } from './device-package-signing.js';
import type { EngineCore } from './engine-core.js';
import type { IdentitySetup } from './identity-setup.js';
import { decodeSecrets } from './profile.js';
import type { Rotation } from './rotation.js';

type IdentityChannels = 'identity:create' | 'identity:get' | 'identity:import' | 'keys:rotate' | 'keys:exportPublic' | 'device:package';

export function identityHandlers(core: EngineCore, setup: IdentitySetup, rotation: Rotation): Pick<Handlers, IdentityChannels> {
  return {
    'identity:create': (input) => core.audited('identity.create', null, () => setup.create(input.pin, input.rsaBits ?? DEFAULT_RSA_BITS)),
    'identity:get': () => core.plain(() => setup.value()),
    // A second desktop of the same user: same seed and RSA key, a new device id and PIN.
    'identity:import': (input) =>
      core.audited('identity.restore', null, async () => {
        const secrets = await openIdentityFile(input.passphrase, fromBase64(input.file));
        try {
          const { seed, rsaPrivateKeyDer, previousKeyDers } = decodeSecrets(secrets);
          await setup.restore(seed, rsaPrivateKeyDer, input.pin, previousKeyDers);
          return setup.value();
        } finally {
          secrets.fill(0);
        }
      }),
    'keys:rotate': (input) => core.audited('key.rotate', 'encryption-key', () => rotation.rotate(input.pin)),
    'keys:exportPublic': () =>
      core.audited('identity.export', null, () => {
        const id = core.identity();
        return { pem: id.rsaPublicPem, fingerprint: id.fingerprint, safetyNumber: safetyNumberForOne(id.fingerprint) };
      }),
    // IDENTOS devicePackage(pin): checks the PIN, then signs what registration sends.
    'device:package': (input) =>
      core.audited('device.package', null, async () => {
        core.identity();
        await core.session.unlock(input.pin);
        return signDevicePackage(core);
      }),
  };
}
