// Real certificates for TLS tests, made by the same code as `fluxcast certs init` (cli/pki.ts,
// Debian's openssl): a CA, certificates it signs for 127.0.0.1/localhost (server and client
// use), an expired one, and another CA to be refused.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { issueCert, makeCaCert, writeKey } from '../../cli/pki';

export interface Pki {
  dir: string;
  ca: string;
  /** Writes a key and a certificate signed by the CA; returns their paths. */
  issue(name: string, opts?: { expired?: boolean }): { key: string; cert: string };
}

export function makePki(label = 'ca'): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fluxcast-pki-${label}-`));
  const ca = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') };
  writeKey(ca.key);
  makeCaCert(ca, `fluxcast test ${label}`, 30);
  return {
    dir,
    ca: ca.cert,
    issue(name, opts = {}) {
      const pair = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
      fs.rmSync(pair.key, { force: true });
      writeKey(pair.key);
      const validity = opts.expired ? { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') } : { days: 30 };
      issueCert(ca, pair, name, { dns: ['localhost'], ips: ['127.0.0.1'] }, validity);
      return pair;
    },
  };
}
