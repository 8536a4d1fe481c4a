/**
 * A private certificate authority for TLS tests: a CA certificate and server
 * certificates it issues (for 127.0.0.1 and localhost by default), made in the
 * test run. Keys come from node:crypto (fast, native); node-forge only builds
 * and signs the X.509 structures, which node:crypto cannot.
 *
 *   const ca = makeTestCa();
 *   const ks = await startKeyService({ tls: ca.issue() });      // https://127.0.0.1:<port>
 *   setTrustedCertificates([ca.certPem]);
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface IssueOptions {
  /** DNS names and IP addresses the certificate is for (default 127.0.0.1, localhost). */
  hosts?: string[];
  /** Already expired (valid from two days ago until yesterday). */
  expired?: boolean;
}

export interface TestCa {
  /** The CA's certificate, PEM: what trustedCertificates carries. */
  certPem: string;
  /** The same certificate's DER in base64 on one line (the Windows form). */
  certBase64Der: string;
  /** A server certificate (PEM) and its key (PKCS#8 PEM), signed by this CA. */
  issue(options?: IssueOptions): { cert: string; key: string };
}

const DAY = 24 * 60 * 60_000;

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pkcs8: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const serial = (): string => `01${randomBytes(15).toString('hex')}`; // positive, unique

export function makeTestCa(name = 'Sealpost Test Root CA'): TestCa {
  const caKeys = rsaKeys();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = new Date(Date.now() - DAY);
  ca.validity.notAfter = new Date(Date.now() + 30 * DAY);
  const caName = [{ name: 'commonName', value: name }, { name: 'organizationName', value: 'Sealpost tests' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(ca);
  const certBase64Der = forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(ca)).getBytes());

  return {
    certPem,
    certBase64Der,
    issue: ({ hosts = ['127.0.0.1', 'localhost'], expired = false } = {}) => {
      const keys = rsaKeys();
      const cert = forge.pki.createCertificate();
      cert.publicKey = keys.publicKey;
      cert.serialNumber = serial();
      cert.validity.notBefore = new Date(Date.now() - (expired ? 2 : 1) * DAY);
      cert.validity.notAfter = new Date(Date.now() + (expired ? -DAY : 7 * DAY));
      cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
      cert.setIssuer(ca.subject.attributes);
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        // type 7 = IP address, 2 = DNS name (RFC 5280 GeneralName)
        { name: 'subjectAltName', altNames: hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
        { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
      ]);
      cert.sign(caKeys.privateKey, forge.md.sha256.create());
      return { cert: forge.pki.certificateToPem(cert), key: keys.pkcs8 };
    },
  };
}
