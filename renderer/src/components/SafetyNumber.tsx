/** A safety number in groups of five digits, as people read it out to each other. */
export function SafetyNumber({ value, testId }: { value: string; testId?: string }) {
  const digits = value.replace(/\s+/g, '');
  const groups = digits.match(/.{1,5}/g) ?? [];
  return (
    <p className="safety mono" data-testid={testId} aria-label={`Safety number ${groups.join(' ')}`}>
      {groups.map((g, i) => (
        <span key={i}>{g}</span>
      ))}
    </p>
  );
}
