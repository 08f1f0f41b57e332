// TLS on every hop, with real certificates made by openssl and real processes: the manager
// speaks only wss:// and https:// and is verified by workers and the CLI against a private CA
// (a wrong CA and an expired certificate are refused with a clear error); feeds between workers
// run over mutual TLS (a peer without the planet CA's certificate gets nothing); an
// http-streamer serves HTTPS and reloads its certificate without dropping its listener; a client
// or worker given the wrong scheme (ws:// for a TLS manager, wss:// for a plain one) is told which.
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { HttpStreamer, httpStreamerType } from '../../actors/components/http-streamer';
import { toFrame } from '../../protocol/gdp';
import { openFeed } from '../../transport/feed/feed-client';
import { readTls } from '../../transport/tls';
import { makePki } from '../helpers/certs';
import { runCliAsync } from '../helpers/cli';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, run, seedPlanet, status, writePlanet } from '../helpers/planet';
import { adminRequest } from '../../transport/admin-client';

jest.setTimeout(60000);

const pki = makePki('good');
const other = makePki('other');
const server = pki.issue('manager');
const expired = pki.issue('expired', { expired: true });
const workerCert = pki.issue('worker');
const strangerCert = other.issue('stranger');

async function tlsStatus(port: number, ca: string): Promise<boolean> {
  const r = await adminRequest(`wss://127.0.0.1:${port}`, ADMIN_SECRET, (requestId) => ({ type: 'status-request', requestId }), 3000, fs.readFileSync(ca)).catch(() => null);
  return r?.type === 'status' && allHappy(r.status as Parameters<typeof allHappy>[0]);
}

describe('TLS', () => {
  const procs: Proc[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  function tlsPlanet(managerPort: number, httpPort: number, cert: { cert: string; key: string }, feeds = false): string {
    return seedPlanet(managerPort, httpPort)
      .replace('heartbeat-timeout: 2500 }', `heartbeat-timeout: 2500, tls: { cert-file: ${cert.cert}, key-file: ${cert.key}, ca-file: ${pki.ca} } }`)
      .replace('workers: [', feeds ? `feeds: { tls: true, cert-file: ${workerCert.cert}, key-file: ${workerCert.key}, ca-file: ${pki.ca} }\nworkers: [` : 'workers: [');
  }

  it('runs the manager on wss:// only, verified against a private CA; feeds run over mutual TLS', async () => {
    const managerPort = await freePort();
    const httpPort = await freePort();
    const file = writePlanet(tlsPlanet(managerPort, httpPort, server, true));
    procs.push(run(['manager', '--planet', file]));
    const feedArgs = ['--feed-cert', workerCert.cert, '--feed-key', workerCert.key, '--feed-ca', pki.ca];
    for (const w of ['worker1', 'worker2']) procs.push(run(['worker', '--name', w, '--manager', `wss://127.0.0.1:${managerPort}`, '--ca-file', pki.ca, '--feed-port', '0', ...feedArgs]));
    let ok = false;
    await waitFor(() => ok, 20000, 'all happy over TLS', async () => {
      ok = await tlsStatus(managerPort, pki.ca);
    });
    // The CLI verifies too: with the CA it works; without it, or with another CA, a clear refusal.
    const good = await runCliAsync(['status', '--manager', `wss://127.0.0.1:${managerPort}`, '--ca-file', pki.ca, '--secret', ADMIN_SECRET]);
    expect(good.stdout).toMatch(/^planet seed/);
    const untrusted = await runCliAsync(['status', '--manager', `wss://127.0.0.1:${managerPort}`, '--secret', ADMIN_SECRET]);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toMatch(/^error FLUX_CLI_CANNOT_CONNECT: cannot reach the manager at wss:\/\/127\.0\.0\.1:\d+: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    const wrongCa = await runCliAsync(['status', '--manager', `wss://127.0.0.1:${managerPort}`, '--ca-file', other.ca, '--secret', ADMIN_SECRET]);
    expect(wrongCa.stderr).toMatch(/^error FLUX_CLI_CANNOT_CONNECT: cannot reach the manager at wss:\/\/127\.0\.0\.1:\d+: [A-Z_]+/);
    // Nothing in clear text on that port.
    expect(await status(managerPort)).toBeNull();
    // A feed server takes no peer without a certificate of the planet's CA, and no plain TCP.
    const st = await adminRequest(`wss://127.0.0.1:${managerPort}`, ADMIN_SECRET, (requestId) => ({ type: 'status-request', requestId }), 3000, fs.readFileSync(pki.ca));
    const feedPort = ((st as { status: { workers: Array<{ name: string; feedPort: number }> } }).status.workers.find((w) => w.name === 'worker2') as { feedPort: number }).feedPort;
    await expect(openFeed({ host: '127.0.0.1', port: feedPort, secret: SECRET, op: 'eat', feed: '/default/muxer:default', tls: readTls({ certFile: strangerCert.cert, keyFile: strangerCert.key, caFile: pki.ca }) })).rejects.toMatchObject({ code: expect.stringMatching(/^FLUX_FEED_(REFUSED|BAD_HANDSHAKE)$/) });
    await expect(openFeed({ host: '127.0.0.1', port: feedPort, secret: SECRET, op: 'eat', feed: '/default/muxer:default', timeoutMs: 2000 })).rejects.toMatchObject({ code: expect.stringMatching(/^FLUX_FEED_/) });
    const proper = await openFeed({ host: '127.0.0.1', port: feedPort, secret: SECRET, op: 'eat', feed: '/default/muxer:default', tls: readTls({ certFile: workerCert.cert, keyFile: workerCert.key, caFile: pki.ca }) });
    expect(proper.socket).toBeInstanceOf(tls.TLSSocket);
    proper.socket.destroy();
    // And the stream itself reaches its HTTP listener through the encrypted feeds.
    const got = await new Promise<number>((resolve) => {
      const s = net.connect(httpPort, '127.0.0.1', () => s.write('GET /live.wav HTTP/1.0\r\n\r\n'));
      let n = 0;
      s.on('data', (d) => (n += d.length));
      setTimeout(() => {
        s.destroy();
        resolve(n);
      }, 1500);
    });
    expect(got).toBeGreaterThan(5000);
  });

  it('refuses a manager with an expired certificate, with a clear error', async () => {
    const managerPort = await freePort();
    procs.push(run(['manager', '--planet', writePlanet(tlsPlanet(managerPort, await freePort(), expired))]));
    await waitFor(() => procs[0].log.join('').includes("manager: planet '"), 10000, 'manager up');
    const r = await runCliAsync(['status', '--manager', `wss://127.0.0.1:${managerPort}`, '--ca-file', pki.ca, '--secret', ADMIN_SECRET]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error FLUX_CLI_CANNOT_CONNECT: cannot reach the manager at wss:\/\/127\.0\.0\.1:\d+: CERT_HAS_EXPIRED/);
    const w = run(['worker', '--name', 'worker1', '--manager', `wss://127.0.0.1:${managerPort}`, '--ca-file', pki.ca, '--feed-port', '0']);
    procs.push(w);
    await waitFor(() => w.log.join('').includes('CERT_HAS_EXPIRED'), 10000, 'the worker says why');
  });

  it('tells a ws:// client of a TLS manager, and a wss:// client of a plain one, which scheme to use', async () => {
    const tlsPort = await freePort();
    const plainPort = await freePort();
    const tlsManager = run(['manager', '--planet', writePlanet(tlsPlanet(tlsPort, await freePort(), server))]);
    const plainManager = run(['manager', '--planet', writePlanet(seedPlanet(plainPort, await freePort()))]);
    procs.push(tlsManager, plainManager);
    await waitFor(() => [tlsManager, plainManager].every((m) => m.log.join('').includes("manager: planet '")), 10000, 'both managers up');
    const admin = ['--secret', ADMIN_SECRET];
    const speaksTls = `^error FLUX_CLI_MANAGER_SPEAKS_TLS: the manager at 127\\.0\\.0\\.1:${tlsPort} speaks TLS: use --manager wss://127\\.0\\.0\\.1:${tlsPort}`;
    for (const args of [['status'], ['component', 'restart', '/default/source'], ['reload']]) {
      const r = await runCliAsync([...args, '--manager', `ws://127.0.0.1:${tlsPort}`, ...admin]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(speaksTls));
    }
    const plain = await runCliAsync(['status', '--manager', `wss://localhost:${plainPort}`, '--ca-file', pki.ca, ...admin]);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(new RegExp(`^error FLUX_CLI_MANAGER_SPEAKS_PLAIN: the manager at localhost:${plainPort} does not speak TLS .*: use --manager ws://localhost:${plainPort}`));
    // Nobody listening is not a scheme problem: the plain reason stays.
    const nobody = await runCliAsync(['status', '--manager', `ws://127.0.0.1:${await freePort()}`, ...admin]);
    expect(nobody.stderr).toMatch(/^error FLUX_CLI_CANNOT_CONNECT: cannot reach the manager at ws:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    // A worker says it in its log (once), and keeps dialing.
    const w = run(['worker', '--name', 'worker1', '--manager', `ws://127.0.0.1:${tlsPort}`, '--feed-port', '0', '--log-format', 'json']);
    procs.push(w);
    await waitFor(() => /FLUX_CLI_MANAGER_SPEAKS_TLS: the manager at 127\.0\.0\.1:\d+ speaks TLS: use --manager wss:/.test(w.log.join('')), 10000, "the worker's hint");
    await new Promise((r) => setTimeout(r, 1000));
    expect(w.log.join('').match(/MANAGER_SPEAKS_TLS/g)).toHaveLength(1);
    expect(w.child.exitCode).toBeNull();
  });

  it('serves HTTPS from an http-streamer and reloads its certificate without dropping a listener', async () => {
    const dir = fs.mkdtempSync(`${pki.dir}/https-`);
    const cert = `${dir}/live.pem`;
    const key = `${dir}/live.key`;
    const first = pki.issue('https-one');
    fs.copyFileSync(first.cert, cert);
    fs.copyFileSync(first.key, key);
    const s = httpStreamerType.create('s', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/live.wav', 'write-interval': 50, 'tls-cert-file': cert, 'tls-key-file': key })) as HttpStreamer;
    s.addFeed('default', '/t/s:default');
    s.feedConnected('default', '/t/s:default');
    await s.start();
    s.eat('default', '/t/s:default', toFrame({ kind: 'caps', caps: 'audio/x-wav' }));
    let i = 0;
    const pump = setInterval(() => s.eat('default', '/t/s:default', toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(500, i++ & 0xff) })), 10);
    const port = Number(new URL(s.url).port);
    expect(s.url).toMatch(/^https:\/\//);
    const listen = () =>
      new Promise<{ serial: string; bytes: () => number; req: ReturnType<typeof https.get> }>((resolve, reject) => {
        let n = 0;
        const req = https.get({ host: '127.0.0.1', port, path: '/live.wav', ca: fs.readFileSync(pki.ca), agent: false }, (res) => {
          res.on('data', (d: Buffer) => (n += d.length));
          resolve({ serial: (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber, bytes: () => n, req });
        });
        req.on('error', reject);
      });
    try {
      const a = await listen();
      await waitFor(() => a.bytes() > 2000, 5000, 'HTTPS data');
      const second = pki.issue('https-two');
      fs.copyFileSync(second.cert, cert);
      fs.copyFileSync(second.key, key);
      let b = await listen();
      await waitFor(() => b.serial !== a.serial, 8000, 'the new certificate in use', async () => {
        if (b.serial === a.serial) {
          b.req.destroy();
          b = await listen();
        }
      });
      const seen = a.bytes();
      await waitFor(() => a.bytes() > seen + 2000, 5000, 'the first listener still fed');
      expect(a.req.destroyed).toBe(false);
      a.req.destroy();
      b.req.destroy();
    } finally {
      clearInterval(pump);
      await s.stop();
    }
  });
});
