// `fluxcast certs init`, run as the user runs it: bad arguments get coded errors; it makes a CA
// and certificates with the right names and 0600 keys, keeps them on a second run, refuses to
// replace them unless --force; and the lines it prints, pasted into a planet, run that planet
// with TLS on every hop (`fluxcast up`), verified by the CLI, Node's https client and curl.
import { execFileSync, spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { runCli, runCliAsync } from '../helpers/cli';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, freePort, run, writePlanet } from '../helpers/planet';

jest.setTimeout(60000);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-certs-'));
}

/** The planet of these tests, with a place for each pasted line. */
function planetText(managerPort: number, httpPort: number, paste: { manager: string; feeds: string; streamer: string[] } | null): string {
  return [
    'name: seed',
    'manager:',
    '  host: 127.0.0.1',
    `  port: ${managerPort}`,
    `  secret: ${SECRET}`,
    `  admin-secret: ${ADMIN_SECRET}`,
    ...(paste ? [paste.manager] : []),
    ...(paste ? [paste.feeds] : []),
    'workers:',
    '  - name: worker1',
    '    feed-port: 0',
    '  - name: worker2',
    '    feed-port: 0',
    'flows:',
    '  - name: default',
    '    components:',
    '      - { name: source, type: test-audio, worker: worker1 }',
    '      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [source] } }',
    '      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }',
    '      - name: streamer',
    '        type: http-streamer',
    '        worker: worker1',
    '        eaters: { default: [muxer] }',
    '        properties:',
    `          port: ${httpPort}`,
    '          mount-point: /live.wav',
    '          write-interval: 50',
    ...(paste ? paste.streamer : []),
    '',
  ].join('\n');
}

/** The line(s) printed right after the comment that starts with `header`. */
function after(out: string, header: string, n = 1): string[] {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.startsWith(header));
  if (i < 0) throw new Error(`no '${header}' in:\n${out}`);
  return lines.slice(i + 1, i + 1 + n);
}

describe('fluxcast certs init', () => {
  const procs: Proc[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null) p.child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('refuses bad arguments with coded errors and writes nothing', () => {
    const dir = path.join(tmpDir(), 'certs');
    const planet = writePlanet(planetText(7531, 8800, null));
    const cases: Array<[string[], RegExp]> = [
      [['certs', 'init', dir], /^error FLUX_CLI_BAD_ARGUMENT: --planet PLANET is required/],
      [['certs', 'init', dir, '--planet', '/nonexistent/planet.yaml'], /^error FLUX_CLI_CANNOT_READ: cannot read '\/nonexistent\/planet.yaml': ENOENT/],
      [['certs', 'init', dir, '--planet', writePlanet('workers: []\n')], /^error FLUX_PLANET_INVALID: /],
      [['certs', 'init', dir, '--planet', planet, '--ip', '10.0.0.300'], /^error FLUX_CLI_BAD_ARGUMENT: --ip '10.0.0.300' is not an IPv4 or IPv6 address/],
      [['certs', 'init', dir, '--planet', planet, '--ip', '0.0.0.0'], /^error FLUX_CLI_BAD_ARGUMENT: --ip 0.0.0.0 is "every address"/],
      [['certs', 'init', dir, '--planet', planet, '--host', '10.0.0.1'], /^error FLUX_CLI_BAD_ARGUMENT: --host 10.0.0.1 is an IP address: give it with --ip 10.0.0.1/],
      [['certs', 'init', dir, '--planet', planet, '--host', 'bad_name.example'], /^error FLUX_CLI_BAD_ARGUMENT: --host 'bad_name.example' is not a DNS name/],
      [['certs', 'init', dir, '--planet', planet, '--days', 'ten'], /^error FLUX_CLI_BAD_ARGUMENT: --days must be a whole number of days from 1 to 3650, not 'ten'/],
      [['certs', 'init', dir, '--planet', planet, '--days', '4000'], /^error FLUX_CLI_BAD_ARGUMENT: --days must be/],
    ];
    for (const [args, expected] of cases) {
      const r = runCli(args);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr).toMatch(expected);
    }
    expect(fs.existsSync(dir)).toBe(false);
    const file = path.join(tmpDir(), 'not-a-dir');
    fs.writeFileSync(file, '');
    expect(runCli(['certs', 'init', file, '--planet', planet]).stderr).toMatch(/^error FLUX_CLI_BAD_ARGUMENT: .*not-a-dir exists and is not a directory/);
  });

  it('makes a CA and certificates with the planet\'s names, keeps them on a second run and replaces them only with --force', () => {
    const dir = path.join(tmpDir(), 'certs');
    const planet = writePlanet(planetText(7531, 8800, null).replace('host: 127.0.0.1', 'host: manager.example.org'));
    const first = runCli(['certs', 'init', dir, '--planet', planet, '--ip', '10.1.2.3', '--host', 'Edge.Example.org']);
    expect(first.stderr).toBe(`warning: ${dir}/ca.key signs certificates that every process of this planet trusts: keep it private (it is 0600) and off the other hosts; it is needed only to make more certificates\n`);
    expect(first.status).toBe(0);
    const files = fs.readdirSync(dir).sort();
    const stems = ['ca', 'feeds', 'https-streamer@default', 'manager', 'worker-worker1', 'worker-worker2'];
    expect(files).toEqual(stems.flatMap((s) => [`${s}.key`, `${s}.pem`]).sort());
    for (const f of files.filter((f) => f.endsWith('.key'))) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem')));
    expect(ca.ca).toBe(true);
    const cert = (stem: string) => new X509Certificate(fs.readFileSync(path.join(dir, `${stem}.pem`)));
    expect(cert('manager').subjectAltName).toBe('DNS:localhost, DNS:edge.example.org, DNS:manager.example.org, IP Address:127.0.0.1, IP Address:10.1.2.3');
    expect(cert('worker-worker2').subjectAltName).toBe('DNS:localhost, DNS:edge.example.org, IP Address:127.0.0.1, IP Address:10.1.2.3');
    for (const s of stems.slice(1)) {
      expect(cert(s).verify(ca.publicKey)).toBe(true);
      expect(cert(s).ca).toBe(false);
      expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'sslserver', path.join(dir, `${s}.pem`)]).toString()).toMatch(/: OK/);
      expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'sslclient', path.join(dir, `${s}.pem`)]).toString()).toMatch(/: OK/);
    }
    expect(first.stdout).toContain(`  tls: { cert-file: ${dir}/manager.pem, key-file: ${dir}/manager.key, ca-file: ${dir}/ca.pem }\n`);
    expect(first.stdout).toContain(`npx fluxcast worker --name worker2 --manager wss://manager.example.org:7531 --ca-file ${dir}/ca.pem --feed-cert ${dir}/worker-worker2.pem --feed-key ${dir}/worker-worker2.key --feed-ca ${dir}/ca.pem\n`);
    const snapshot = () => Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'latin1')]));
    const before = snapshot();

    // Again, the same: everything is kept, the same lines are printed.
    const again = runCli(['certs', 'init', dir, '--planet', planet, '--ip', '10.1.2.3', '--host', 'edge.example.org']);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/ made /);
    expect(again.stdout.split('\n').filter((l) => / kept /.test(l))).toHaveLength(6);
    expect(again.stdout.slice(again.stdout.indexOf('\n#'))).toBe(first.stdout.slice(first.stdout.indexOf('\n#')));
    expect(snapshot()).toEqual(before);

    // Other names: refused, every conflict named, nothing written.
    const other = runCli(['certs', 'init', dir, '--planet', planet, '--ip', '10.9.9.9']);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/^error FLUX_CLI_CERTS_EXIST: .* already holds files that would be replaced:\n {2}manager.pem\/manager.key: its names are DNS:edge.example.org, DNS:localhost, DNS:manager.example.org, IP:10.1.2.3, IP:127.0.0.1, not DNS:localhost, DNS:manager.example.org, IP:10.9.9.9, IP:127.0.0.1\n/);
    expect(other.stderr).toMatch(/--force replaces them/);
    expect(snapshot()).toEqual(before);

    // A worker added to the planet later: only its certificate is made, by the same CA.
    const bigger = writePlanet(fs.readFileSync(planet, 'utf8').replace('workers:\n', 'workers:\n  - name: worker3\n'));
    const added = runCli(['certs', 'init', dir, '--planet', bigger, '--ip', '10.1.2.3', '--host', 'edge.example.org']);
    expect(added.status).toBe(0);
    expect(added.stdout.split('\n').filter((l) => / made /.test(l))).toEqual([expect.stringMatching(/^ {2}made {2}worker-worker3.pem, worker-worker3.key: /)]);
    expect(cert('worker-worker3').verify(ca.publicKey)).toBe(true);

    // --force: the certificates in the way are replaced; the usable CA is kept.
    const forced = runCli(['certs', 'init', dir, '--planet', planet, '--ip', '10.9.9.9', '--force']);
    expect(forced.status).toBe(0);
    const now = snapshot();
    expect(now['ca.pem']).toBe(before['ca.pem']);
    expect(now['ca.key']).toBe(before['ca.key']);
    expect(now['manager.pem']).not.toBe(before['manager.pem']);
    expect(cert('manager').subjectAltName).toBe('DNS:localhost, DNS:manager.example.org, IP Address:127.0.0.1, IP Address:10.9.9.9');
    expect(cert('manager').verify(ca.publicKey)).toBe(true);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.key'))) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);

    // A CA key that is not the CA's: refused, even before any certificate is looked at.
    fs.copyFileSync(path.join(dir, 'manager.key'), path.join(dir, 'ca.key'));
    const broken = runCli(['certs', 'init', dir, '--planet', planet, '--ip', '10.9.9.9']);
    expect(broken.stderr).toMatch(/^error FLUX_CLI_CERTS_EXIST: [^\n]*\n {2}ca.pem\/ca.key: ca.key is not the key of ca.pem\n/);
  });

  it('prints the planet lines that, pasted in, run the planet with TLS on every hop', async () => {
    const dir = path.join(tmpDir(), 'certs');
    const managerPort = await freePort();
    const httpPort = await freePort();
    const bare = writePlanet(planetText(managerPort, httpPort, null));
    const made = runCli(['certs', 'init', dir, '--planet', bare]);
    expect(made.status).toBe(0);
    const out = made.stdout;
    const paste = {
      manager: after(out, '# In the planet, under manager:')[0],
      feeds: after(out, '# In the planet, at the top level')[0],
      streamer: after(out, '# In the properties of /default/streamer (http-streamer):', 2),
    };
    expect(paste.manager).toMatch(/^ {2}tls: \{ cert-file: \//);
    expect(paste.feeds).toMatch(/^feeds: \{ tls: true, /);
    expect(paste.streamer).toEqual([`          tls-cert-file: ${dir}/https-streamer@default.pem`, `          tls-key-file: ${dir}/https-streamer@default.key`]);
    // The README shows these very lines (for /etc/fluxcast/certs).
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const shown = (/\*\*Certificates in one command\.\*\*[\s\S]*?```text\n([\s\S]*?)```/.exec(readme) as RegExpExecArray)[1];
    expect(shown.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(6);
    for (const line of shown.split('\n').filter(Boolean)) expect(out.split('\n')).toContain(line.split('/etc/fluxcast/certs').join(dir));
    const planet = writePlanet(planetText(managerPort, httpPort, paste));
    expect(runCli(['check', planet]).status).toBe(0);

    const up = run(['up', planet]);
    procs.push(up);
    // The status line certs init printed, as printed (npx fluxcast is this CLI).
    const statusLine = after(out, '# Admin commands')[0];
    expect(statusLine).toBe(`npx fluxcast status --manager wss://127.0.0.1:${managerPort} --ca-file ${dir}/ca.pem`);
    const statusArgs = [...statusLine.split(' ').slice(2), '--secret', ADMIN_SECRET];
    let last: { workers: Array<{ connected: boolean }>; components: Array<{ mood: string }> } | null = null;
    await waitFor(() => !!last && last.workers.every((w) => w.connected) && last.components.every((c) => c.mood === 'happy'), 30000, 'all happy over TLS', async () => {
      const r = await runCliAsync([...statusArgs, '--json']);
      last = r.status === 0 ? JSON.parse(r.stdout) : null;
    });
    // All happy means the feeds work over mutual TLS with the pasted feed certificate, and the manager on wss:// with its own.
    expect((await runCliAsync(statusArgs)).stdout).toMatch(/^planet seed\n/);
    await waitFor(() => up.log.join('').includes(`/default/streamer: listen at https://127.0.0.1:${httpPort}/live.wav`), 10000, "up's https URL");

    // Node's https client verifies the streamer's certificate against the CA, by address and by name.
    for (const host of ['127.0.0.1', 'localhost']) {
      const bytes = await new Promise<number>((resolve, reject) => {
        const req = https.get({ host, port: httpPort, path: '/live.wav', ca: fs.readFileSync(`${dir}/ca.pem`), agent: false }, (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => {
            n += d.length;
            if (n > 4000) {
              req.destroy();
              resolve(n);
            }
          });
        });
        req.on('error', reject);
      });
      expect(bytes).toBeGreaterThan(4000);
    }
    // And curl: with the CA it gets the stream (cut by --max-time, exit 28); without it, a refused certificate (exit 60).
    const got = path.join(tmpDir(), 'live.wav');
    const curl = spawnSync('curl', ['-sS', '--cacert', `${dir}/ca.pem`, '--max-time', '2', '-o', got, `https://localhost:${httpPort}/live.wav`], { encoding: 'utf8' });
    expect(curl.status).toBe(28);
    expect(fs.readFileSync(got).subarray(0, 4).toString()).toBe('RIFF');
    const untrusted = spawnSync('curl', ['-sS', '--max-time', '2', '-o', '/dev/null', `https://localhost:${httpPort}/live.wav`], { encoding: 'utf8' });
    expect(untrusted.status).toBe(60);
  });
});
