import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './process.js';

export interface CertificateAuthority {
  /** PEM certificate of the CA (give it to clients: curl --cacert, skopeo --cert-dir). */
  certFile: string;
  keyFile: string;
}

export interface CertificatePair {
  certFile: string;
  keyFile: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function serial(): string {
  return `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffffff).toString(16)}`;
}

/** A fresh self-signed CA (EC P-256, valid 2 days) written into dir as ca.crt/ca.key. */
export async function createCA(dir: string, commonName = 'oci-testkit CA'): Promise<CertificateAuthority> {
  const cnf = join(dir, 'ca.cnf');
  await writeFile(
    cnf,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = v3_ca',
      'prompt = no',
      '[dn]',
      `CN = ${commonName}`,
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', keyFile, '-out', certFile, '-days', '2', '-config', cnf, '-set_serial', serial()]);
  return { certFile, keyFile };
}

/**
 * A server certificate signed by `ca`, for the given IP addresses and DNS names
 * (subjectAltName), written into dir as NAME.crt/NAME.key.
 */
export async function createServerCert(
  dir: string,
  ca: CertificateAuthority,
  opts: { ips?: string[]; dnsNames?: string[]; name?: string } = {},
): Promise<CertificatePair> {
  const ips = opts.ips ?? ['127.0.0.1', '127.0.0.2'];
  const dnsNames = opts.dnsNames ?? ['localhost'];
  const name = opts.name ?? 'server';
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  const san = [...ips.map((i) => `IP:${i}`), ...dnsNames.map((d) => `DNS:${d}`)].join(',');
  await writeFile(
    ext,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${san}`,
      '',
    ].join('\n'),
  );
  await runOk('openssl', ['req', '-new', ...EC, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${ips[0] ?? dnsNames[0] ?? 'localhost'}`]);
  await runOk('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial(), '-out', certFile, '-days', '2', '-extfile', ext]);
  return { certFile, keyFile };
}

export interface SigningKey {
  /** PEM private key (EC P-256) used to sign JWTs with ES256. */
  keyPem: string;
  /** PEM self-signed certificate of that key (the registry's rootcertbundle). */
  certFile: string;
  /** The certificate as base64 DER, for the JWT x5c header. */
  certDerBase64: string;
}

/** A self-signed EC certificate for signing registry tokens, written into dir. */
export async function createSigningKey(dir: string): Promise<SigningKey> {
  const keyFile = join(dir, 'token-signer.key');
  const certFile = join(dir, 'token-signer.crt');
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=oci-testkit token signer', '-set_serial', serial()]);
  const pem = await readFile(certFile, 'utf8');
  const certDerBase64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { keyPem: await readFile(keyFile, 'utf8'), certFile, certDerBase64 };
}
