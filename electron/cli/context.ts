/**
 * What every CLI command gets: the opened profile's service, a contract call
 * validated as IPC calls are, its own arguments and the output mode. Its own
 * module, so main.ts (which builds it) and the commands (which use it) do not
 * import each other.
 */
import type { Result } from '../../shared/codes.js';
import type { Channel, Input, Output } from '../../shared/contract.js';
import type { Service } from '../engine/service/index.js';

/** Calls one contract channel, validated exactly as IPC calls are. */
export type Call = <C extends Channel>(channel: C, input: Input<C>) => Promise<Result<Output<C>>>;

export interface CliContext {
  service: Service;
  call: Call;
  json: boolean;
  args: string[];
  /** Writes a line (or JSON value) to stdout. */
  out(text: string): void;
}
