import { z } from 'zod';
import { call } from './contract-fields.js';
import { PolicyValue } from './policy.js';

/**
 * Contract channel for the managed policy (spread into shared/contract.ts;
 * docs/deploy.md): what the organisation presets and locks, where each value came
 * from, and the recovery-backup reminder. Answers even when the policy is invalid
 * (state 'invalid' with the error), so the UI can say why nothing else works.
 */
export const policyChannels = {
  'policy:get': call(z.object({}).strict(), PolicyValue),
} as const;
