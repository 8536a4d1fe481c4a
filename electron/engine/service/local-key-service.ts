/**
 * The key service `npm start` runs on this computer (electron/launcher/start.ts),
 * offered for the first registration: the launcher owns that service, so it can
 * issue a one-time enrollment code for the user name typed on the first-run
 * screen, and registration goes the enrollment way (POST /v1/enroll). The page
 * never sees the app's server key, and nothing is copied out of a file.
 * @module
 */
import { ResultCode } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';

export interface LocalKeyService {
  /** Where the desktop reaches it, e.g. http://127.0.0.1:8787. */
  url: string;
  appId: string;
  clientKey: string;
  /** A one-time enrollment code for `username` on this app. @throws with a message for the user (a user name the service refuses) */
  issueEnrollmentCode(username: string): Promise<string>;
}

/** device:registerLocal: a code from the launcher, then the (policy-guarded) device:register. */
export function localRegistrationHandlers(local: LocalKeyService | undefined, register: Handlers['device:register']): Pick<Handlers, 'device:registerLocal'> {
  return {
    'device:registerLocal': async ({ username }) => {
      if (!local) return { code: ResultCode.InvalidState, message: 'No key service runs on this computer: give the key service’s address and app id instead.' };
      let enrollmentCode: string;
      try {
        enrollmentCode = await local.issueEnrollmentCode(username);
      } catch (e) {
        // The launcher's own words (e.g. a user name the service refuses): it is this app's code, not the network's.
        return { code: ResultCode.InvalidParameter, message: `The key service on this computer gave no code for that user name: ${e instanceof Error ? e.message : String(e)}.` };
      }
      return register({ server: local.url, appId: local.appId, clientKey: local.clientKey, enrollmentCode, username });
    },
  };
}
