/** A round badge with a person's initials, in a colour that stays the same for the same name. */

/** Dark enough for white initials at 4.5:1 in both schemes. */
const COLOURS = ['#4a5a78', '#7a4b8c', '#2f6b5a', '#8a4b2a', '#3d5f99', '#8c3f5d', '#59631f', '#455a64'];

function initials(name: string): string {
  const parts = name.replace(/[^\p{L}\p{N} ._-]/gu, '').split(/[ ._-]+/).filter(Boolean);
  const [first = '?', second] = parts;
  return second ? first.slice(0, 1) + second.slice(0, 1) : first.slice(0, 2);
}

function colourFor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return COLOURS[h % COLOURS.length] ?? '#4a5a78';
}

export function Avatar({ name, size }: { name: string; size?: 'sm' | 'lg' }) {
  return (
    <span className={`avatar${size ? ` ${size}` : ''}`} style={{ ['--avatar-bg' as string]: colourFor(name) }} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
