/**
 * The property every hostile request must satisfy: a status below 500; an
 * error (4xx) in the service's shape, `{code, message}` in JSON or
 * `<error><code/><message/></error>` in XML, in the format the request asked
 * for when it asked unambiguously; a success body that parses in its format.
 * The log check (no secret from the request in any log line) is in sweep.ts,
 * which owns the captured log.
 */
import type { RequestCase } from './requests.js';

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

const XML_ERROR = /^<\?xml version="1\.0" encoding="UTF-8"\?><error><code>[a-z_]+<\/code><message>[^<]+<\/message>(<[A-Za-z_][\w.-]*>[^<]*<\/[A-Za-z_][\w.-]*>)*<\/error>$/;

/** What is wrong with an answer, or [] when it satisfies the property. */
export function problemsWith(c: RequestCase, a: Answer, websocket: boolean): string[] {
  const problems: string[] = [];
  if (a.status >= 500) problems.push(`status ${a.status}`);
  if (websocket && !(c.headers.upgrade && c.headers.connection) && (a.status < 400 || a.status >= 500)) problems.push(`a WebSocket route answered a plain ${c.method} with ${a.status}, not a 4xx`);
  if (c.method === 'HEAD' || a.status === 204 || (a.status < 400 && a.body === '')) return problems;
  const isXml = /^(application|text)\/xml/.test(a.contentType);
  const isJson = /^application\/json/.test(a.contentType);
  if (!isXml && !isJson) {
    problems.push(`Content-Type ${JSON.stringify(a.contentType)} is neither JSON nor XML`);
    return problems;
  }
  if (c.asked && (isXml ? 'xml' : 'json') !== c.asked) problems.push(`asked for ${c.asked}, answered ${isXml ? 'xml' : 'json'}`);
  if (a.status >= 400) {
    if (isXml && !XML_ERROR.test(a.body)) problems.push(`XML error not in the error shape: ${a.body.slice(0, 200)}`);
    if (isJson) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(a.body);
      } catch {
        parsed = undefined;
      }
      const p = parsed as { code?: unknown; message?: unknown } | undefined;
      if (!(typeof p?.code === 'string' && p.code && typeof p.message === 'string' && p.message)) problems.push(`JSON error not in the error shape: ${a.body.slice(0, 200)}`);
    }
  } else if (isJson) {
    try {
      JSON.parse(a.body);
    } catch {
      problems.push('a success body that is not JSON');
    }
  } else if (!a.body.startsWith('<?xml')) {
    problems.push('a success body that is not XML');
  }
  return problems;
}

/** Every secret of the request that appears in the captured log. */
export function leakedSecrets(secrets: readonly string[], log: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && log.some((line) => line.includes(s)));
}
