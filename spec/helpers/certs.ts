// Real certificates for TLS tests, made with Debian's openssl: a CA, certificates it signs for
// 127.0.0.1/localhost (server and client use), an expired one, and another CA to be refused.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Pki {
  dir: string;
  ca: string;
  /** Writes a key and a certificate signed by the CA; returns their paths. */
  issue(name: string, opts?: { expired?: boolean }): { key: string; cert: string };
}

function ssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

export function makePki(label = 'ca'): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fluxcast-pki-${label}-`));
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', `/CN=fluxcast test ${label}`], dir);
  // A minimal `openssl ca` setup, for certificates with chosen (past) validity dates.
  fs.mkdirSync(path.join(dir, 'newcerts'));
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca = test\n[test]\ndir = .\ndatabase = index.txt\nnew_certs_dir = newcerts\nserial = serial\ncertificate = ca.pem\nprivate_key = ca.key\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n[any]\ncommonName = supplied\n`,
  );
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    issue(name, opts = {}) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.pem`);
      ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth,clientAuth'], dir);
      const dates = opts.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '30'];
      ssl(['ca', '-batch', '-config', 'ca.cnf', '-in', csr, '-out', cert, '-notext', ...dates], dir);
      return { key, cert };
    },
  };
}
