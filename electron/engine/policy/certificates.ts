/**
 * The `trustedCertificates` policy items (docs/deploy.md "Private CAs"): each one a CA
 * certificate as PEM, or its DER in base64 on one line (what a Windows REG_MULTI_SZ
 * item can hold). The schema (shared/policy.ts) checks only the shape; here each item
 * is parsed as X.509, so a policy with one that does not parse fails closed when it is
 * loaded (load.ts) instead of silently trusting less than IT meant.
 * @module
 */
import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * One item as an X.509 certificate.
 * @throws {Error} saying why it is not one certificate (never quoting the item)
 */
export function parseCertificate(item: string): X509Certificate {
  const text = item.trim();
  let der: Buffer;
  if (text.startsWith('-----BEGIN')) {
    const blocks = [...text.matchAll(PEM_BLOCK)];
    if (blocks.length !== 1 || blocks[0]![0].length !== text.length) {
      throw new Error(blocks.length > 1 ? 'holds more than one certificate: give each its own item' : 'is not one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)');
    }
    const body = blocks[0]![1]!.replace(/\s+/g, '');
    if (!BASE64_LINE.test(body)) throw new Error('has a PEM body that is not base64');
    der = Buffer.from(body, 'base64');
  } else {
    if (!BASE64_LINE.test(text) || text.length % 4 !== 0) throw new Error('is neither a PEM certificate nor base64 DER on one line');
    der = Buffer.from(text, 'base64');
  }
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new Error(`does not parse as an X.509 certificate (${(e as Error).message.slice(0, 120)})`, { cause: e });
  }
}

/** The problems of a list of items, each naming the item as the schema's messages do ("trustedCertificates.1 (item 2): ..."). */
export function certificateProblems(items: readonly string[]): string[] {
  const problems: string[] = [];
  items.forEach((item, i) => {
    try {
      parseCertificate(item);
    } catch (e) {
      problems.push(`trustedCertificates.${i} (item ${i + 1}): ${(e as Error).message}`);
    }
  });
  return problems;
}

/** An item as PEM, which TLS's `ca` option takes. @throws {Error} as parseCertificate */
export const certificatePem = (item: string): string => parseCertificate(item).toString();

/** What `policy:get` / `sealpost policy` show for one item: who it is and its SHA-256 fingerprint, not the whole certificate. */
export function describeCertificate(item: string): string {
  try {
    const x = parseCertificate(item);
    const subject = x.subject.split('\n').join(', ');
    const until = new Date(x.validTo);
    return `${subject} (SHA-256 ${x.fingerprint256}, valid until ${Number.isNaN(until.getTime()) ? x.validTo : until.toISOString().slice(0, 10)})`;
  } catch (e) {
    return `not a certificate: ${(e as Error).message}`;
  }
}
