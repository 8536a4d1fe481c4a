/** A PIN input: digits only on the keyboard hint, hidden, with a visible label. */
export function PinField(props: { label: string; value: string; onChange: (v: string) => void; autoFocus?: boolean; autoComplete: 'new-password' | 'current-password'; describedBy?: string }) {
  return (
    <label>
      {props.label}
      <input
        type="password"
        inputMode="numeric"
        pattern="[0-9]*"
        maxLength={12}
        autoComplete={props.autoComplete}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value.replace(/[^0-9]/g, ''))}
        autoFocus={props.autoFocus}
        aria-describedby={props.describedBy}
      />
    </label>
  );
}
