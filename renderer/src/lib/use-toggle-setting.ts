/**
 * An on/off setting the engine keeps (a checkbox in Settings): read once,
 * shown changed at once when the user flips it, put back if the engine says
 * no, and a note saying what the new value means.
 */
import { useEffect, useState } from 'react';
import type { Result } from '../../../shared/codes';
import type { UiError } from '../errors';
import { call } from './call';

export interface ToggleSetting {
  /** null until read. */
  value: boolean | null;
  error: UiError | null;
  note: string | null;
  set(value: boolean): Promise<void>;
}

/** `read`/`write` are the engine's get and set calls; `pick` finds the flag in what they answer. */
export function useToggleSetting<T>(
  read: () => Promise<Result<T>>,
  write: (value: boolean) => Promise<Result<T>>,
  pick: (value: T) => boolean,
  notes: { on: string; off: string },
): ToggleSetting {
  const [value, setValue] = useState<boolean | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    // Read once, as the screen opens.
    void call(read()).then((r) => (r.ok ? setValue(pick(r.value)) : setError(r.error)));
  }, []);

  async function set(next: boolean) {
    setValue(next);
    const r = await call(write(next));
    if (!r.ok) {
      setValue(!next);
      return setError(r.error);
    }
    setError(null);
    const now = pick(r.value);
    setValue(now);
    setNote(now ? notes.on : notes.off);
  }

  return { value, error, note, set };
}
