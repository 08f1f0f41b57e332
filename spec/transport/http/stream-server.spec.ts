import { GdpDecoder, GdpFrame } from '../../../protocol/gdp';
import { MultiClientSender } from '../../../transport/sender/multi-client-sender';
import { RawPayloadInput } from '../../../transport/sender/gdp-inputs';
import { StreamServer, StreamServerOptions } from '../../../transport/http/stream-server';
import { get, rawRequest } from '../../helpers/http';
import { waitFor } from '../../helpers/net';
import { readVector } from '../../helpers/vectors';

function frames(name: string): GdpFrame[] {
  const out: GdpFrame[] = [];
  new GdpDecoder({ onFrame: (f) => out.push(f) }).push(readVector(name).bytes);
  return out;
}

describe('StreamServer (http-streamer)', () => {
  let sender: MultiClientSender;
  let input: RawPayloadInput;
  let server: StreamServer;
  let port: number;
  let log: string[];
  const ogg = frames('audio-vorbis-ogg');
  const oggCaps = ogg.find((f) => f.kind === 'caps') as GdpFrame;
  const oggBuffers = ogg.filter((f) => f.kind === 'buffer');

  async function start(options: Partial<StreamServerOptions> = {}, withCaps = true): Promise<void> {
    log = [];
    sender = new MultiClientSender();
    input = new RawPayloadInput(sender);
    server = new StreamServer(sender, { port: 0, mountPoint: '/live.ogg', accessLog: (l) => log.push(l), ...options });
    input.onCaps((c) => server.setCaps(c));
    port = await server.listen();
    if (withCaps) input.frame(oggCaps);
  }

  afterEach(async () => {
    await server.close();
    sender.close();
  });

  it('answers GET with 200, the Content-Type from the caps and no caching, then streamheaders and data', async () => {
    await start();
    const r = await rawRequest(port, get('/live.ogg'));
    await waitFor(() => r.head().includes('\r\n') && sender.clientCount === 1);
    for (const f of oggBuffers) input.frame(f);
    const headers = input.caps!.streamheader();
    const headerBytes = headers.reduce((n, h) => n + h.length, 0);
    await waitFor(() => r.body().length > headerBytes, 5000, 'data after headers');
    expect(r.status()).toBe(200);
    expect(r.head()).toMatch(/\r\nContent-Type: application\/ogg\r\n/);
    expect(r.head()).toMatch(/Cache-Control: no-cache/);
    expect(r.body().subarray(0, headerBytes).equals(Buffer.concat(headers))).toBe(true);
    expect(r.body().subarray(0, 4).toString()).toBe('OggS');
    r.socket.destroy();
    await waitFor(() => log.length === 1, 5000, 'access log');
    expect(log[0]).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/live\.ogg HTTP\/1\.1" 200 \d+ "-" "-" \d+\.\d{3}$/);
  });

  it('answers HEAD with the headers only', async () => {
    await start();
    const r = await rawRequest(port, get('/live.ogg', {}, 'HEAD'));
    await r.closed;
    expect(r.status()).toBe(200);
    expect(r.body().length).toBe(0);
  });

  it.each([
    ['an unknown mount point', 404, get('/other')],
    ['a POST', 405, 'POST /live.ogg HTTP/1.1\r\nContent-Length: 0\r\n\r\n'],
    ['a malformed request line', 400, 'HELLO\r\n\r\n'],
    ['a malformed header', 400, 'GET /live.ogg HTTP/1.1\r\nno colon here\r\n\r\n'],
    ['a very long URL', 414, `GET /${'a'.repeat(5000)} HTTP/1.1\r\n\r\n`],
    ['oversized headers', 431, `GET /live.ogg HTTP/1.1\r\nX-Big: ${'b'.repeat(9000)}\r\n\r\n`],
    ['HTTP/2.0', 505, 'GET /live.ogg HTTP/2.0\r\n\r\n'],
  ])('refuses %s with %i while a listener keeps receiving', async (_what, status, request) => {
    await start();
    const good = await rawRequest(port, get('/live.ogg'));
    await waitFor(() => sender.clientCount === 1);
    const bad = await rawRequest(port, request);
    await bad.closed;
    expect(bad.status()).toBe(status);
    for (const f of oggBuffers) input.frame(f);
    await waitFor(() => good.body().length > 4000, 5000, 'good listener data');
    expect(sender.clientCount).toBe(1);
    good.socket.destroy();
  });

  it('drops a client that does not finish its request within the header timeout', async () => {
    await start({ headerTimeoutMs: 200 });
    const slow = await rawRequest(port, 'GET /live.ogg HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    await slow.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(slow.data().length).toBe(0);
    expect(server.stats().refused['header-timeout']).toBe(1);
  });

  it('answers 503 past the client limit, or 302 to the overflow URL', async () => {
    await start({ clientLimit: 1 });
    const first = await rawRequest(port, get('/live.ogg'));
    await waitFor(() => sender.clientCount === 1);
    const second = await rawRequest(port, get('/live.ogg'));
    await second.closed;
    expect(second.status()).toBe(503);
    await server.close();
    first.socket.destroy();
    await start({ clientLimit: 1, redirectOnOverflow: 'http://127.0.0.1:9999/backup.ogg' });
    const a = await rawRequest(port, get('/live.ogg'));
    await waitFor(() => sender.clientCount === 1);
    const b = await rawRequest(port, get('/live.ogg'));
    await b.closed;
    expect(b.status()).toBe(302);
    expect(b.head()).toMatch(/\r\nLocation: http:\/\/127\.0\.0\.1:9999\/backup\.ogg/);
    a.socket.destroy();
  });

  it('answers 503 when the bandwidth limit would be exceeded', async () => {
    await start({ bandwidthLimit: 1 });
    for (const f of oggBuffers) input.frame(f);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await rawRequest(port, get('/live.ogg'));
    await r.closed;
    expect(r.status()).toBe(503);
    expect(server.stats().refused['bandwidth-limit']).toBe(1);
  });

  it('requires a valid token when token authentication is on', async () => {
    await start({ auth: { type: 'token', tokens: ['s3cret'] } });
    const no = await rawRequest(port, get('/live.ogg'));
    await no.closed;
    expect(no.status()).toBe(401);
    const bad = await rawRequest(port, get('/live.ogg?token=wrong'));
    await bad.closed;
    expect(bad.status()).toBe(401);
    const ok = await rawRequest(port, get('/live.ogg?token=s3cret'));
    await waitFor(() => ok.status() === 200);
    ok.socket.destroy();
  });

  it('requires Basic credentials when basic authentication is on', async () => {
    await start({ auth: { type: 'basic', users: { ann: 'pw' }, realm: 'radio' } });
    const no = await rawRequest(port, get('/live.ogg'));
    await no.closed;
    expect(no.status()).toBe(401);
    expect(no.head()).toMatch(/WWW-Authenticate: Basic realm="radio"/);
    const ok = await rawRequest(port, get('/live.ogg', { Authorization: 'Basic ' + Buffer.from('ann:pw').toString('base64') }));
    await waitFor(() => ok.status() === 200);
    ok.socket.destroy();
    await waitFor(() => log.some((l) => / - ann \[/.test(l)), 5000, 'log with user');
  });

  it('holds requests that arrive before the stream has caps, then answers them', async () => {
    await start({}, false);
    const r = await rawRequest(port, get('/live.ogg'));
    await new Promise((res) => setTimeout(res, 100));
    expect(r.data().length).toBe(0);
    input.frame(oggCaps);
    await waitFor(() => r.status() === 200, 5000, 'answer after caps');
    r.socket.destroy();
  });

  it('refuses a listener with 503 when the stream does not start within the caps timeout', async () => {
    await start({ capsTimeoutMs: 300 }, false);
    const r = await rawRequest(port, get('/live.ogg'));
    await r.closed;
    expect(r.status()).toBe(503);
    expect(r.body().toString()).toMatch(/the stream did not start within 0\.3 s/);
    expect(server.stats().refused['caps-timeout']).toBe(1);
  });

  it('counts current and peak clients and bytes served', async () => {
    await start();
    const rs = await Promise.all([1, 2, 3].map(() => rawRequest(port, get('/live.ogg'))));
    await waitFor(() => sender.clientCount === 3);
    for (const f of oggBuffers) input.frame(f);
    await waitFor(() => rs.every((r) => r.body().length > 4000));
    rs[0].socket.destroy();
    await waitFor(() => server.stats().currentClients === 2);
    const s = server.stats();
    expect(s.peakClients).toBe(3);
    expect(s.totalClients).toBe(3);
    expect(s.bytesServed).toBeGreaterThan(12000);
    for (const r of rs) r.socket.destroy();
  });
});
