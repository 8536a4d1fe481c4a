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

const parser = new XMLParser({
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
    if (Array.isArray(v) && k !== 'item') throw new XmlBodyError(`XML element <${k}> appears more than once`);
    out[k] = normalise(v, depth + 1);
  }
  return out;
}

/**
 * Parses an XML request body into the same shape a JSON body would have.
 * @throws {XmlBodyError} malformed XML, a DTD, several roots, or mixed content
 */
export function parseXmlBody(text: string): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlBodyError('XML bodies must not contain a DTD or entity declarations');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlBodyError(`XML body is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const doc = parser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(doc);
  if (roots.length !== 1) throw new XmlBodyError('XML body must have exactly one root element');
  const root = doc[roots[0]!];
  if (root === '' || root === undefined) return {};
  if (typeof root !== 'object' || root === null) throw new XmlBodyError('the XML root element must contain one element per field');
  return normalise(root, 0);
}
