// Optional TLS for the API: reads the certificate and key files named in the config (API_TLS_CERT /
// API_TLS_KEY) and checks they belong together, so a bad file fails the start naming the file.
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { errorMessage } from '../../core/errors.ts';

export interface TlsFiles {
  /** PEM certificate (chain) file; empty = plain HTTP. */
  cert?: string;
  /** PEM private key file; empty = plain HTTP. */
  key?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** A PEM file is a few KB; anything larger is not a certificate or key and is not read whole. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * The cert and key for fastify's `https` option, or null when neither is configured. Throws an
 * error naming the file when one is missing, unreadable, not PEM, or the pair does not match.
 */
export function loadTls(files: TlsFiles | undefined): TlsMaterial | null {
  const certPath = files?.cert || '';
  const keyPath = files?.key || '';
  if (!certPath && !keyPath) return null;
  if (!certPath || !keyPath) {
    const [set, unset] = certPath ? ['tls.cert (API_TLS_CERT)', 'tls.key (API_TLS_KEY)'] : ['tls.key (API_TLS_KEY)', 'tls.cert (API_TLS_CERT)'];
    throw new Error(`http-api: ${set} is set but ${unset} is not; set both to serve HTTPS, or neither for plain HTTP`);
  }
  const cert = readPem(certPath, 'certificate', 'tls.cert (API_TLS_CERT)');
  const key = readPem(keyPath, 'private key', 'tls.key (API_TLS_KEY)');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`http-api: TLS certificate ${certPath} is not a PEM certificate: ${errorMessage(err)}`, { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`http-api: TLS key ${keyPath} is not a PEM private key (or is encrypted): ${errorMessage(err)}`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error(`http-api: TLS key ${keyPath} does not match certificate ${certPath} (${x509.subject.replace(/\n/g, ', ')}); use the key the certificate was issued for`);
  }
  return { cert, key };
}

function readPem(path: string, what: string, setting: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : errorMessage(err);
    throw new Error(`http-api: TLS ${what} ${path} (${setting}) ${why}`, { cause: err });
  }
  if (data.length > MAX_PEM_BYTES) throw new Error(`http-api: TLS ${what} ${path} (${setting}) is ${data.length} bytes, over the ${MAX_PEM_BYTES}-byte limit for a PEM file`);
  if (!data.includes('-----BEGIN')) throw new Error(`http-api: TLS ${what} ${path} (${setting}) is not PEM (no -----BEGIN line)`);
  return data;
}
