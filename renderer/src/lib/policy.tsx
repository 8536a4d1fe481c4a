/**
 * The managed policy in the UI (docs/deploy.md): App reads `policy:get` once at
 * start and provides it here; settings ask whether a key is locked and what value
 * the organisation set. The engine enforces the same rules itself (a locked value
 * sent anyway is refused with PolicyForbidden), so this is only what the user sees.
 *
 * The same context carries the last sealpost://enroll link the OS opened (the
 * `enroll-link` engine event), so Connect can prefill from it wherever it shows.
 */
import { createContext, useContext } from 'react';
import type { EventOf } from './events';
import type { PolicyKey, PolicyValue } from '../../../shared/policy';

export type EnrollLinkEvent = EventOf<'enroll-link'>;

export interface ManagedState {
  /** null until policy:get answered (or when it could not be read: nothing is locked then, the engine still enforces). */
  policy: PolicyValue | null;
  enrollLink: EnrollLinkEvent | null;
  /** Reads policy:get again (after a recovery backup, the reminder goes). */
  reload: () => void;
}

export const ManagedContext = createContext<ManagedState>({ policy: null, enrollLink: null, reload: () => undefined });

export function useManaged(): ManagedState {
  return useContext(ManagedContext);
}

/** One policy setting: `locked` when the organisation set it; `value` is then its value (else undefined). */
export function usePolicySetting<T = unknown>(key: PolicyKey): { locked: boolean; value: T | undefined } {
  const { policy } = useManaged();
  const setting = policy?.settings[key];
  return setting?.locked ? { locked: true, value: setting.value as T } : { locked: false, value: undefined };
}
