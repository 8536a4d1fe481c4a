/**
 * A keychain wrapper for tests of crash safety: it counts writes and throws on every
 * set after `failSetAfter` successful ones, as a process killed between two writes.
 */
import type { Keychain, KeychainAccount } from '../../electron/engine/keychain/index.js';

export class CrashingKeychain implements Keychain {
  /** Sets that reached the inner keychain. */
  sets = 0;
  constructor(
    readonly inner: Keychain,
    /** Successful sets before the "crash"; Infinity never crashes (only counts). */
    public failSetAfter = Infinity,
  ) {}
  get backend() {
    return this.inner.backend;
  }
  get(a: KeychainAccount) {
    return this.inner.get(a);
  }
  async set(a: KeychainAccount, v: Uint8Array) {
    if (this.sets >= this.failSetAfter) throw new Error('process killed');
    this.sets++;
    return this.inner.set(a, v);
  }
  delete(a: KeychainAccount) {
    return this.inner.delete(a);
  }
}
