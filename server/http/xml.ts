/**
 * XML for the seed's `Accept: application/xml` / `?format=xml` and for XML
 * request bodies. The mapping mirrors JSON (docs/api.md):
 *   - an object is an element per field (in order); null is an empty element;
 *   - an array is a sequence of <item> elements;
 *   - a field name that is not an XML name (e.g. "@context") loses its leading
 *     "@" and has other invalid characters replaced with "_";
 *   - characters XML 1.0 cannot carry are replaced with U+FFFD.
 * Requests: the root element's children are the fields; attributes are
 * ignored; DTDs are refused (no entity expansion, no external entities).
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false, processEntities: true, ignoreAttributes: true });

// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function elementName(key: string): string {
  let name = key.replace(/^@+/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
  if (/^xml/i.test(name)) name = `_${name}`;
  return name;
}

function toNode(value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return { item: value.map(toNode) };
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[elementName(k)] = toNode(v);
    }
    return out;
  }
  if (typeof value === 'string') return value.replace(INVALID_XML_CHARS, '\uFFFD');
  return String(value);
}

/** A well-formed XML document with `root` around the value's fields. */
export function toXml(root: string, value: unknown): string {
  let inner = toNode(value);
  // An empty array must still produce <root/> children-free, not a stray text node.
  if (typeof inner === 'object' && inner !== null && 'item' in inner && Array.isArray((inner as { item: unknown[] }).item) && (inner as { item: unknown[] }).item.length === 0) {
    inner = '';
  }
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: inner }) as string}`;
}

export class XmlBodyError extends Error {
  override name = 'XmlBodyError';
}

/** Deeper than any request body needs (the normalised value is checked at 32 levels below). */
const MAX_XML_DEPTH = 64;

const parser = new XMLParser({
  maxNestedTags: MAX_XML_DEPTH,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === 'item',
});

function normalise(value: unknown, depth: number): unknown {
  if (depth > 32) throw new XmlBodyError('XML body is nested too deeply');
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => normalise(v, depth + 1));
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0]![0] === 'item') return normalise(entries[0]![1], depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (k === '#text') throw new XmlBodyError('XML elements must not mix text and child elements');
    if (k === '__proto__') throw new XmlBodyError('XML bodies must not contain a <__proto__> element');
    if (Array.isArray(v) && k !== 'item') throw new XmlBodyError(`XML element <${k}> appears more than once`);
    out[k] = normalise(v, depth + 1);
  }
  return out;
}

/**
 * Element depth by counting start and end tags (comments, CDATA and
 * processing instructions skipped), before the library parses anything: a
 * few thousand nested tags made the parser throw an error of its own, which
 * reached the client as a 500 (issue 18).
 */
function tooDeep(text: string): boolean {
  const tags = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<(\/?)[^>]*?(\/?)>/g;
  let depth = 0;
  for (let m = tags.exec(text); m; m = tags.exec(text)) {
    if (m[0].startsWith('<!') || m[0].startsWith('<?')) continue;
    if (m[1]) depth--;
    else if (!m[2] && ++depth > MAX_XML_DEPTH) return true;
  }
  return false;
}

function libraryParse(text: string): Record<string, unknown> {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlBodyError(`XML body is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  return parser.parse(text) as Record<string, unknown>;
}

/**
 * Parses an XML request body into the same shape a JSON body would have.
 * @throws {XmlBodyError} malformed XML, a DTD, an encoding other than UTF-8,
 *   nesting too deep, several roots, mixed content, or anything the library throws
 */
export function parseXmlBody(text: string): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlBodyError('XML bodies must not contain a DTD or entity declarations');
  const declared = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']/i.exec(text)?.[1]?.toLowerCase();
  if (declared !== undefined && declared !== 'utf-8' && declared !== 'utf8' && declared !== 'us-ascii') {
    throw new XmlBodyError('XML bodies must be UTF-8 (the declaration names another encoding)');
  }
  if (tooDeep(text)) throw new XmlBodyError(`XML body is nested more than ${MAX_XML_DEPTH} elements deep`);
  let doc: Record<string, unknown>;
  try {
    doc = libraryParse(text);
  } catch (error) {
    if (error instanceof XmlBodyError) throw error;
    throw new XmlBodyError('XML body could not be parsed');
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1) throw new XmlBodyError('XML body must have exactly one root element');
  const root = doc[roots[0]!];
  if (root === '' || root === undefined) return {};
  if (typeof root !== 'object' || root === null) throw new XmlBodyError('the XML root element must contain one element per field');
  return normalise(root, 0);
}
