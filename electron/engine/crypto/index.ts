/**
 * Sealpost crypto engine: the only place in the app that touches ciphers.
 * Formats: docs/format.md. Errors: every deliberate failure is a CryptoError with a
 * stable `kind` (errors.ts). Native node:crypto / node:zlib throughout; the
 * pure-JS card libraries (forge, noble, pako) are used only by interop tests.
 * @module
 */
export * from './errors.js';
export { newSeed, deriveNamedKey, KEY_NAMES, SEED_LENGTH, SEED_HKDF_SALT } from './seed.js';
export {
  identityFromSeed,
  publicKeyOf,
  didFromPublicKey,
  publicKeyFromDid,
  sign,
  verify,
  type Identity,
} from './identity.js';
export {
  generateEncryptionKeyPair,
  importPublicKey,
  exportPublicKeyPem,
  publicKeySpkiDer,
  importPrivateKey,
  publicKeyFromPrivate,
  keyId,
  keyIdBytes,
  privateKeyHash,
  wrapKey,
  unwrapKey,
  exportEncryptedPrivateKeyPem,
  importEncryptedPrivateKeyPem,
  DEFAULT_RSA_BITS,
  PKCS8_PBKDF2_ITERATIONS,
  type RsaBits,
  type EncryptionKeyPair,
  type PublicKeyInput,
  type PrivateKeyInput,
} from './rsa.js';
export { fingerprint, fingerprintOf, safetyNumber, safetyNumberForOne, checkFingerprint } from './fingerprint.js';
export { seal as aeadSeal, open as aeadOpen, newKey, newNonce } from './aead.js';
export { pad, unpad, padme, paddedLength } from './pad.js';
export {
  sealEnvelope,
  openEnvelope,
  envelopeRecipients,
  toWire,
  fromWire,
  DEFAULT_MAX_MESSAGE_BYTES,
  type Sender,
  type SealEnvelopeOptions,
  type OpenEnvelopeOptions,
  type OpenedEnvelope,
  type WireMessage,
} from './envelope.js';
export {
  sealFile,
  openFile,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_FILE_BYTES,
  type SealFileOptions,
  type OpenFileOptions,
  type SealedFileInfo,
  type OpenedFile,
  type ProgressCallback,
} from './file-envelope.js';
export { OpenPool, createOpenPool, type OpenPoolOptions, type OpenOutcome } from './open-pool.js';
export {
  sealWithPin,
  openWithPin,
  measureKdf,
  checkKdfParams,
  DEFAULT_KDF_PARAMS,
  TEST_KDF_PARAMS,
  type KdfParams,
} from './pin-kdf.js';
export {
  sealItem,
  openItem,
  openItemWithDek,
  unwrapDek,
  wrapDekFor,
  rotateItem,
  DEFAULT_MAX_ITEM_BYTES,
  type SealItemInput,
  type SealedItem,
  type WrappedKey,
} from './item-crypto.js';
export { sealIdentityBackup, openIdentityBackup } from './backup.js';
export { prepareOpenKey, type OpenKey, type OpenKeyInput } from './_recipients.js';
export { encodeItemContainer, decodeItemContainer, type ItemContainer } from './item-container.js';
export { seedToWords, wordsToSeed, RECOVERY_WORD_COUNT } from './recovery-words.js';
export {
  escrowKeyOf,
  splitEscrowKey,
  combineShares,
  derivePinShare,
  sealFullBackup,
  openFullBackup,
  ESCROW_KEY_NAME,
  type SplitKey,
  type PinShareParams,
} from './key-shares.js';
export { newDeviceKey, deviceKeyFromSecret, signDelegation, verifyDelegation, makeAgentToken, type DeviceKey } from './delegation.js';
