/**
 * macOS: the policy as an MDM profile delivers it (resources/policy/sealpost.mobileconfig):
 * the managed preferences of the app id, /Library/Managed Preferences/app.sealpost.desktop.plist.
 * That file is usually a binary plist; on macOS `plutil -convert xml1 -o - FILE` turns it
 * into XML, which is what is parsed here (tested on recorded plists, test/fixtures/policy/).
 *
 * Supported plist elements: dict, array, string, integer, true, false. real, date and
 * data never appear in a valid policy and are refused by name.
 * @module
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { PolicyError } from './errors.js';

export const MANAGED_PLIST = '/Library/Managed Preferences/app.sealpost.desktop.plist';

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true, // a dict is a sequence of key, value, key, value...
  ignoreAttributes: true,
  parseTagValue: false, // "0012" stays a string; integers are converted below
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/**
 * Parses an XML plist whose root is a dict into a plain object (not yet validated).
 * @throws {PolicyError} for malformed XML, a root that is not a dict, or unsupported elements
 */
export function parsePlist(xml: string, where: string): Record<string, unknown> {
  if (/<!ENTITY/i.test(xml)) throw new PolicyError(where, 'the plist declares XML entities, which a policy never needs');
  let doc: Node[];
  try {
    doc = parser.parse(xml) as Node[];
  } catch (e) {
    throw new PolicyError(where, `not a readable XML plist (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const plist = doc.find((n) => 'plist' in n);
  if (!plist) throw new PolicyError(where, 'not a plist (no <plist> element)');
  const items = elements(plist.plist);
  if (items.length !== 1 || tag(items[0]!) !== 'dict') throw new PolicyError(where, 'the plist root must be a <dict>');
  const value = toValue(items[0]!, where);
  return value as Record<string, unknown>;
}

/** Child elements (text between elements, whitespace, is ignored). */
const elements = (children: unknown): Node[] => (Array.isArray(children) ? (children as Node[]).filter((c) => !('#text' in c)) : []);
const tag = (n: Node): string => Object.keys(n).find((k) => k !== ':@') ?? '';
const text = (n: Node): string => {
  const parts = n[tag(n)];
  return Array.isArray(parts) ? (parts as Node[]).map((p) => (typeof p['#text'] === 'string' ? p['#text'] : String(p['#text'] ?? ''))).join('') : '';
};

function toValue(n: Node, where: string): unknown {
  const t = tag(n);
  switch (t) {
    case 'dict': {
      const out: Record<string, unknown> = {};
      const kids = elements(n.dict);
      for (let i = 0; i < kids.length; i += 2) {
        const k = kids[i]!;
        const v = kids[i + 1];
        if (tag(k) !== 'key' || !v) throw new PolicyError(where, 'a <dict> must alternate <key> and a value');
        const name = text(k);
        if (name === '__proto__' || Object.prototype.hasOwnProperty.call(out, name)) throw new PolicyError(where, `key "${name.slice(0, 40)}" repeated or not allowed`);
        out[name] = toValue(v, `${where} ${name}`);
      }
      return out;
    }
    case 'array':
      return elements(n.array).map((c) => toValue(c, where));
    case 'string':
      return text(n);
    case 'integer': {
      const s = text(n).trim();
      if (!/^-?\d{1,15}$/.test(s)) throw new PolicyError(where, `<integer> "${s.slice(0, 20)}" is not an integer`);
      return Number(s);
    }
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      throw new PolicyError(where, `<${t}> is not used by any policy setting`);
  }
}

/**
 * Reads the managed plist: null when there is none; a binary plist is converted with
 * plutil (macOS only).
 * @throws {PolicyError} unreadable, binary without plutil, or malformed
 */
export async function readPlistPolicy(file: string, platform: NodeJS.Platform = process.platform): Promise<Record<string, unknown> | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PolicyError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  let xml: string;
  if (bytes.subarray(0, 6).toString('latin1') === 'bplist') {
    if (platform !== 'darwin') throw new PolicyError(file, 'a binary plist: convert it with plutil -convert xml1');
    xml = await plutilToXml(file);
  } else {
    xml = bytes.toString('utf8');
  }
  return parsePlist(xml, file);
}

function plutilToXml(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('plutil', ['-convert', 'xml1', '-o', '-', file], { encoding: 'utf8', timeout: 10_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new PolicyError(file, `plutil could not convert it: ${String(stderr).trim().split('\n')[0] ?? error.message}`, { cause: error }));
      else resolve(String(stdout));
    });
  });
}
