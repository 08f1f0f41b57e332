import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUFFER_FLAG, GdpDecoder, GdpFrame, encodePacket } from '../../../protocol/gdp';
import { httpStreamerType, HttpStreamer } from '../../../actors/components/http-streamer';
import { diskConsumerType, DiskConsumer } from '../../../actors/components/disk-consumer';
import { get, rawRequest } from '../../helpers/http';
import { waitFor } from '../../helpers/net';

function frame(bytes: Buffer): GdpFrame {
  let out: GdpFrame | undefined;
  new GdpDecoder({ onFrame: (f) => (out = f), requireCaps: false }).push(bytes);
  return out as GdpFrame;
}
const CAPS = frame(encodePacket({ kind: 'caps', caps: 'audio/x-wav, streamheader=(buffer)< 52494646 >' }));
const data = (i: number, size = 1000) =>
  frame(encodePacket({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: i % 4 ? BUFFER_FLAG.DELTA_UNIT : 0, data: Buffer.alloc(size, i) }));
const FEED = '/default/muxer:default';

describe('http-streamer component', () => {
  it('declares its properties with defaults and refuses unknown ones', () => {
    const p = httpStreamerType.properties.parse({});
    expect(p).toMatchObject({ port: 8800, host: '127.0.0.1', 'mount-point': '/', 'burst-on-connect': true });
    const bad = httpStreamerType.properties.safeParse({ prot: 8800 });
    expect(bad.success).toBe(false);
    expect(httpStreamerType.properties.safeParse({ port: 70000 }).success).toBe(false);
  });

  it('serves while happy, keeps listeners through a hungry spell, and serves again', async () => {
    const c = httpStreamerType.create('streamer', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/live.wav', 'write-interval': 0 })) as HttpStreamer;
    c.addFeed('default', FEED);
    await c.start();
    expect(c.mood).toBe('hungry');
    c.feedConnected('default', FEED);
    expect(c.mood).toBe('happy');
    c.eat('default', FEED, CAPS);
    const port = Number(new URL(c.url).port);
    const r = await rawRequest(port, get('/live.wav'));
    await waitFor(() => r.status() === 200);
    expect(r.head()).toMatch(/Content-Type: audio\/x-wav/);
    for (let i = 0; i < 8; i++) c.eat('default', FEED, data(i));
    await waitFor(() => r.body().length >= 4 + 8 * 1000);
    c.feedDisconnected('default', FEED);
    expect(c.mood).toBe('hungry');
    await new Promise((res) => setTimeout(res, 100));
    c.feedConnected('default', FEED);
    for (let i = 8; i < 12; i++) c.eat('default', FEED, data(i));
    await waitFor(() => r.body().length >= 4 + 12 * 1000);
    expect(r.socket.destroyed).toBe(false);
    expect(c.stats()?.currentClients).toBe(1);
    r.socket.destroy();
    await c.stop();
    expect(c.mood).toBe('sleeping');
  });

  it('sends CORS headers (configurable) and answers a browser\'s preflight', async () => {
    const c = httpStreamerType.create('streamer', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/live.wav', 'cors-origin': 'https://player.example' })) as HttpStreamer;
    c.addFeed('default', FEED);
    await c.start();
    c.feedConnected('default', FEED);
    c.eat('default', FEED, CAPS);
    const port = Number(new URL(c.url).port);
    const r = await rawRequest(port, get('/live.wav'));
    await waitFor(() => r.status() === 200);
    expect(r.head()).toMatch(/\r\nAccess-Control-Allow-Origin: https:\/\/player\.example\r\n/);
    r.socket.destroy();
    const pre = await rawRequest(port, get('/live.wav', { Origin: 'https://player.example', 'Access-Control-Request-Headers': 'icy-metadata' }, 'OPTIONS'));
    await pre.closed;
    expect(pre.status()).toBe(204);
    expect(pre.head()).toMatch(/Access-Control-Allow-Headers: Icy-MetaData, Range, Authorization/);
    await c.stop();
    const none = httpStreamerType.create('s2', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/x', 'cors-origin': '' })) as HttpStreamer;
    none.addFeed('default', FEED);
    await none.start();
    none.eat('default', FEED, CAPS);
    const r2 = await rawRequest(Number(new URL(none.url).port), get('/x'));
    await waitFor(() => r2.status() === 200);
    expect(r2.head()).not.toMatch(/Access-Control/);
    r2.socket.destroy();
    await none.stop();
    expect(httpStreamerType.properties.safeParse({ 'cors-origin': 'not an origin' }).success).toBe(false);
  });

  it('goes sad with a message when its port is taken', async () => {
    const a = httpStreamerType.create('a', httpStreamerType.properties.parse({ port: 0 })) as HttpStreamer;
    await a.start();
    const port = Number(new URL(a.url).port);
    const b = httpStreamerType.create('b', httpStreamerType.properties.parse({ port }));
    await b.start();
    expect(b.mood).toBe('sad');
    expect(b.messages.at(-1)?.text).toMatch(/FLUX_HTTP_ADDRESS_IN_USE: 127\.0\.0\.1:\d+ is in use/);
    await a.stop();
    await b.stop();
  });
});

describe('disk-consumer component', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-dc-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('records files named after the template with the stream extension', async () => {
    const c = diskConsumerType.create('rec', diskConsumerType.properties.parse({ directory: dir, 'filename-template': 'take-%s.{ext}' })) as DiskConsumer;
    await c.start();
    c.eat('default', FEED, CAPS);
    for (let i = 0; i < 9; i++) c.eat('default', FEED, data(i));
    await c.stop();
    const files = fs.readdirSync(dir);
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^take-\d+\.wav$/);
    expect(fs.readFileSync(path.join(dir, files[0])).subarray(0, 4).toString()).toBe('RIFF');
  });

  (process.getuid?.() === 0 || process.env.CI ? it : it.skip)('goes sad with FLUX_DISK_FULL on a full disk', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', dir]);
    try {
      const c = diskConsumerType.create('rec', diskConsumerType.properties.parse({ directory: dir, 'rotate-size': 10000 })) as DiskConsumer;
      await c.start();
      c.eat('default', FEED, CAPS);
      for (let i = 0; i < 80 && c.mood !== 'sad'; i++) {
        c.eat('default', FEED, data(i));
        await new Promise((r) => setTimeout(r, 1));
      }
      await waitFor(() => c.mood === 'sad', 5000, 'sad');
      expect(c.messages.at(-1)?.text).toMatch(/^FLUX_DISK_FULL: /);
      expect(c.files.length).toBeGreaterThanOrEqual(1);
      await c.stop();
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});
