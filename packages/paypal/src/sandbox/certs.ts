/**
 * The sandbox's certificates, made at start: a private CA, the webhook signing certificate
 * (`CN=messageverificationcerts.sandbox.paypal.com`, as PayPal's) and, for clients that can only talk to
 * PayPal's own hosts (the official SDK), a TLS server certificate for `api-m.sandbox.paypal.com`.
 * Keys come from `node:crypto`; `node-forge` only assembles and signs the X.509 structures.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, PEM. */
export interface SandboxKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

/** Everything the sandbox signs or serves with. */
export interface SandboxCertificates {
  /** The sandbox CA: give it to the gateway as `certTrust.caCertificatesPem`. */
  ca: SandboxKeyPair;
  /** The webhook signing certificate, served at the sandbox's cert URL. */
  signing: SandboxKeyPair;
  /** TLS certificate for `api-m.sandbox.paypal.com` / `api.sandbox.paypal.com` (and 127.0.0.1). */
  tls: SandboxKeyPair;
}

function rsaKeys(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    privateKey: forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey,
    privateKeyPem,
  };
}

function certificate(
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  publicKey: forge.pki.PublicKey,
  signer: forge.pki.rsa.PrivateKey,
  extensions: object[],
  validFrom: Date,
  validTo: Date,
): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: a leading zero nibble is avoided by forcing the first hex digit.
  cert.serialNumber = `1${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = validFrom;
  cert.validity.notAfter = validTo;
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  cert.sign(signer, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Options of {@link createSandboxCertificates}. */
export interface SandboxCertificateOptions {
  /** Start of validity (default one day ago). */
  validFrom?: Date;
  /** End of validity of the signing and TLS certificates (default one year from now). */
  validTo?: Date;
}

/** Makes a CA, a signing certificate and a TLS certificate (about 0.2 s). */
export function createSandboxCertificates(options: SandboxCertificateOptions = {}): SandboxCertificates {
  const from = options.validFrom ?? new Date(Date.now() - 24 * 3600_000);
  const to = options.validTo ?? new Date(Date.now() + 365 * 24 * 3600_000);
  const caKeys = rsaKeys();
  const caName = [
    { name: 'commonName', value: 'Tender PayPal Sandbox CA' },
    { name: 'organizationName', value: 'Tender sandbox (not PayPal)' },
  ];
  const caPem = certificate(
    caName,
    caName,
    caKeys.publicKey,
    caKeys.privateKey,
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
    from,
    new Date(Math.max(to.getTime(), Date.now() + 2 * 365 * 24 * 3600_000)),
  );
  const signingKeys = rsaKeys();
  const signingPem = certificate(
    [
      { name: 'commonName', value: 'messageverificationcerts.sandbox.paypal.com' },
      { name: 'organizationName', value: 'Tender sandbox (not PayPal)' },
    ],
    caName,
    signingKeys.publicKey,
    caKeys.privateKey,
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
    from,
    to,
  );
  const tlsKeys = rsaKeys();
  const tlsPem = certificate(
    [{ name: 'commonName', value: 'api-m.sandbox.paypal.com' }],
    caName,
    tlsKeys.publicKey,
    caKeys.privateKey,
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'api-m.sandbox.paypal.com' },
          { type: 2, value: 'api.sandbox.paypal.com' },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
    from,
    to,
  );
  return {
    ca: { certificatePem: caPem, privateKeyPem: caKeys.privateKeyPem },
    signing: { certificatePem: signingPem, privateKeyPem: signingKeys.privateKeyPem },
    tls: { certificatePem: tlsPem, privateKeyPem: tlsKeys.privateKeyPem },
  };
}
