/**
 * Walks a route's zod 4 schema (shared/wire.ts, as the route table holds it)
 * into the facts the sweep needs to make wrong input for it: the fields of an
 * object, what each field is (string, number, boolean, enum, object, array)
 * and a string's length bounds. Wrappers (optional, nullable, default, pipe,
 * union) are looked through: a field is described by the first concrete
 * schema inside.
 */

export type FieldKind = 'string' | 'number' | 'boolean' | 'enum' | 'literal' | 'object' | 'array' | 'record' | 'other';

export interface FieldSpec {
  name: string;
  kinds: FieldKind[];
  /** Longest string the field accepts (the smallest max of its string branches), if bounded. */
  maxLength?: number;
  minLength?: number;
  /** Allowed values of an enum / literal field. */
  values?: unknown[];
  /** Fields of a nested object (a device package, a grant). */
  fields?: FieldSpec[];
}

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string } };
  minLength?: number | null;
  maxLength?: number | null;
}

const isZod = (v: unknown): v is ZodLike => typeof v === 'object' && v !== null && '_zod' in v;

function concrete(schema: ZodLike, out: ZodLike[] = [], depth = 0): ZodLike[] {
  if (depth > 20) return out;
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      if (isZod(def.innerType)) concrete(def.innerType, out, depth + 1);
      return out;
    case 'pipe':
      if (isZod(def.in)) concrete(def.in, out, depth + 1);
      return out;
    case 'union':
      for (const option of (def.options as unknown[]) ?? []) if (isZod(option)) concrete(option, out, depth + 1);
      return out;
    case 'lazy':
      return out;
    default:
      out.push(schema);
      return out;
  }
}

function kindOf(schema: ZodLike): FieldKind {
  const t = schema._zod.def.type;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'enum' || t === 'literal' || t === 'object' || t === 'array' || t === 'record') return t;
  if (t === 'int' || t === 'bigint') return 'number';
  return 'other';
}

/** The fields of an object schema (looking through wrappers); [] when it is not an object. */
export function fieldsOf(schema: unknown, depth = 0): FieldSpec[] {
  if (!isZod(schema) || depth > 3) return [];
  const object = concrete(schema).find((s) => s._zod.def.type === 'object');
  if (!object) return [];
  const shape = (object._zod.def.shape ?? {}) as Record<string, unknown>;
  return Object.entries(shape).flatMap(([name, field]) => {
    if (!isZod(field)) return [];
    const branches = concrete(field);
    const spec: FieldSpec = { name, kinds: [...new Set(branches.map(kindOf))] };
    const strings = branches.filter((b) => b._zod.def.type === 'string');
    const maxes = strings.map((s) => s.maxLength).filter((m): m is number => typeof m === 'number');
    const mins = strings.map((s) => s.minLength).filter((m): m is number => typeof m === 'number');
    if (maxes.length) spec.maxLength = Math.min(...maxes);
    if (mins.length) spec.minLength = Math.max(...mins);
    const values = branches.flatMap((b) => {
      const def = b._zod.def;
      if (def.type === 'enum') return Object.values(def.entries as Record<string, unknown>);
      if (def.type === 'literal') return def.values as unknown[];
      return [];
    });
    if (values.length) spec.values = values;
    const nested = branches.find((b) => b._zod.def.type === 'object');
    if (nested) spec.fields = fieldsOf(nested, depth + 1);
    return [spec];
  });
}
