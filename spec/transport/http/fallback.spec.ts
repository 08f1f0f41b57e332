// Fallback mounts with real GStreamer streams, real sockets and real decoders: http-streamers
// fed by live gst-launch producers; a listener of mount A whose source stops keeps its TCP
// connection and goes on with the fallback's stream (Ogg: a new chain link; MP3: at a frame),
// and is back on A when A's stream returns; everything it received decodes without an error
// in GStreamer and in ffmpeg. Also: a porter's mounts, ICY listeners, new listeners while on
// the fallback, fallback-override off, and a fallback of another format (refused, they wait).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { HttpStreamer, httpStreamerType } from '../../../actors/components/http-streamer';
import { PorterComponent, porterType } from '../../../actors/components/porter';
import { Component } from '../../../actors/component/component';
import { readOggPage } from '../../../protocol/media/ogg-pages';
import { titleTagFrame } from '../../../actors/components/ingest/stream-parser';
import { describeGst, spawnGdpProducer } from '../../helpers/gst';
import { RawResponse, get, rawRequest } from '../../helpers/http';
import { waitFor } from '../../helpers/net';
import { decodeCleanly, mp3Runs, oggLinks } from '../../helpers/media';

jest.setTimeout(90000);

const FEED = '/test/source:default';
// A sine in Vorbis is some 20 kbit/s: about 2.6 KB a second, header pages (4 KB) apart.
const ogg = (freq: number) => `audiotestsrc is-live=true freq=${freq} volume=0.3 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! vorbisenc ! oggmux`;
const mp3 = (freq: number, kbps: number) => `audiotestsrc is-live=true freq=${freq} volume=0.3 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! lamemp3enc target=bitrate cbr=true bitrate=${kbps} ! mpegaudioparse`;

describeGst('fallback mounts with real streams, sockets and decoders', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-fallback-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const running: Component[] = [];
  const producers: ChildProcess[] = [];
  const listeners: RawResponse[] = [];

  afterEach(async () => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of producers.splice(0)) p.kill('SIGKILL');
    for (const c of running.splice(0).reverse()) await c.stop();
  });

  async function streamer(name: string, props: Record<string, unknown>): Promise<HttpStreamer> {
    const s = httpStreamerType.create(name, httpStreamerType.properties.parse({ 'write-interval': 50, port: 0, ...props })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    await s.start();
    running.push(s);
    return s;
  }

  async function porter(): Promise<PorterComponent> {
    const p = porterType.create('front', porterType.properties.parse({ port: 0 })) as PorterComponent;
    p.flow = 'test';
    await p.start();
    running.unshift(p);
    return p;
  }

  /** Feeds a streamer from a live gst-launch pipeline (its source); stop() is its source going away. */
  function source(s: HttpStreamer, pipeline: string): { stop(): void; proc: ChildProcess } {
    let up = false;
    const proc = spawnGdpProducer(pipeline, (f) => {
      if (!up) {
        up = true;
        s.feedConnected('default', FEED); // the eater flows from the first frame on
      }
      s.eat('default', FEED, f);
    });
    producers.push(proc);
    return {
      proc,
      stop: () => {
        proc.kill('SIGKILL');
        s.feedDisconnected('default', FEED);
      },
    };
  }

  const port = (s: HttpStreamer | PorterComponent) => Number(new URL(s.url).port);
  const serialOf = (s: HttpStreamer) => readOggPage(s.caps!.streamheader()[0]).serial;

  async function listen(p: number, mount: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const r = await rawRequest(p, get(mount, headers));
    listeners.push(r);
    return r;
  }

  /** Waits until `r` got `bytes` more than it has now. */
  async function more(r: RawResponse, bytes: number, what: string): Promise<void> {
    const now = r.body().length;
    await waitFor(() => r.body().length >= now + bytes, 20000, what);
  }

  it('moves an Ogg/Vorbis listener to the fallback when its source stops, and back when it returns, on one TCP connection', async () => {
    const logs = { a: path.join(dir, 'a.log'), b: path.join(dir, 'b.log') };
    const b = await streamer('b', { 'mount-point': '/b.ogg', 'access-log': logs.b });
    const a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg', 'access-log': logs.a });
    source(b, ogg(880));
    const srcA = source(a, ogg(440));
    await waitFor(() => !!a.caps && !!b.caps && a.details()?.fallback?.state === 'own', 15000, 'both streams');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 8000, 'A');
    const id = (await a.listenerControl()!.list()).listeners[0].id;
    const serialA1 = serialOf(a);

    srcA.stop();
    await waitFor(() => b.stats()!.currentClients === 1 && a.stats()!.currentClients === 0, 10000, 'the listener on B');
    expect(a.mood).toBe('hungry');
    await more(r, 12000, 'B, after the move');
    expect(a.details()!.fallback).toMatchObject({ mount: '/b.ogg', state: 'fallback', servedBy: '/b.ogg', listeners: 1, moved: 1, returned: 0 });
    expect((await b.listenerControl()!.list()).listeners.map((l) => l.id)).toEqual([id]); // one listener, same id
    expect(a.messages.map((m) => m.text).join('\n')).toMatch(/1 listener\(s\) moving to \/b\.ogg/);

    source(a, ogg(440)); // A's source is back: a new stream
    await waitFor(() => a.stats()!.currentClients === 1 && b.stats()!.currentClients === 0, 15000, 'the listener back on A');
    await more(r, 10000, 'A again');
    expect(a.details()!.fallback).toMatchObject({ state: 'own', listeners: 0, moved: 1, returned: 1 });
    expect((await a.listenerControl()!.list()).listeners.map((l) => l.id)).toEqual([id]);
    const serialA2 = serialOf(a);

    expect(r.socket.destroyed).toBe(false); // never dropped
    r.socket.destroy();
    // What it heard: A's chain, B's, then A's new one, each a whole link a decoder can start.
    const body = r.body();
    expect(r.head()).toMatch(/Content-Type: application\/ogg/);
    expect(oggLinks(body)).toEqual([serialA1, serialOf(b), serialA2]);
    expect(decodeCleanly(body, 'ogg')).toBeGreaterThan(2);
    // One access log line, at its end, in A's log (it asked A), with every byte it was sent.
    await waitFor(() => fs.existsSync(logs.a) && fs.readFileSync(logs.a, 'utf8').includes('GET /a.ogg'), 5000, 'the log line');
    const line = fs.readFileSync(logs.a, 'utf8').trim().split('\n');
    expect(line).toHaveLength(1);
    const bytes = Number(/"GET \/a\.ogg HTTP\/1\.1" 200 (\d+) /.exec(line[0])?.[1]);
    expect(bytes).toBeGreaterThanOrEqual(body.length);
    expect(bytes).toBeLessThan(body.length + 70000);
    expect(fs.existsSync(logs.b) ? fs.readFileSync(logs.b, 'utf8') : '').toBe('');
    expect(a.details()!.removed).toMatchObject({ moved: 1 });
    expect(b.details()!.removed).toMatchObject({ moved: 1 });
  });

  it('switches MP3 listeners at a frame behind a porter, ICY metadata counted on across the moves', async () => {
    await porter();
    const front = running[0] as PorterComponent;
    const b = await streamer('b', { porter: 'front', 'mount-point': '/b.mp3', 'icy-metaint': 8192 });
    const a = await streamer('a', { porter: 'front', 'mount-point': '/a.mp3', 'fallback-mount': '/b.mp3', 'icy-metaint': 8192 });
    source(b, mp3(880, 160));
    const srcA = source(a, mp3(440, 128));
    await waitFor(() => !!a.caps && !!b.caps && a.details()?.fallback?.state === 'own', 15000, 'both streams');
    const plain = await listen(port(front), '/a.mp3');
    const icy = await listen(port(front), '/a.mp3', { 'Icy-MetaData': '1' });
    a.eat('default', FEED, titleTagFrame('On A'));
    await more(icy, 40000, 'A, with its title');
    srcA.stop();
    await waitFor(() => b.stats()!.currentClients === 2, 10000, 'both on B');
    b.eat('default', FEED, titleTagFrame('On B'));
    await more(icy, 40000, 'B');
    source(a, mp3(440, 128));
    await waitFor(() => a.stats()!.currentClients === 2, 15000, 'both back on A');
    await more(icy, 40000, 'A again');
    for (const r of [plain, icy]) r.socket.destroy();

    expect(mp3Runs(plain.body())).toEqual([128, 160, 128]);
    // The ICY listener: a block after every 8192 bytes of audio, all the way through.
    expect(icy.head()).toMatch(/icy-metaint: 8192/);
    const raw = icy.body();
    const audio: Buffer[] = [];
    const titles: string[] = [];
    let at = 0;
    while (at + 8192 < raw.length) {
      audio.push(raw.subarray(at, at + 8192));
      const n = raw[at + 8192] * 16;
      const text = raw.toString('utf8', at + 8193, at + 8193 + n).replace(/\0+$/, '');
      expect(text).toMatch(/^(|StreamTitle='.*';)$/);
      if (text && titles[titles.length - 1] !== text) titles.push(text);
      at += 8193 + n;
    }
    expect(titles).toEqual(expect.arrayContaining(["StreamTitle='On A';", "StreamTitle='On B';"]));
    const stripped = Buffer.concat(audio);
    expect(mp3Runs(stripped.subarray(0, stripped.length - 2000)).slice(0, 3)).toEqual([128, 160, 128]);
    for (const body of [plain.body(), stripped]) expect(decodeCleanly(body, 'mp3')).toBeGreaterThan(4);
  });

  it('serves new listeners of a mount on its fallback there, as its own: they come to it when its stream starts', async () => {
    const b = await streamer('b', { 'mount-point': '/b.ogg' });
    const a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg' });
    source(b, ogg(880));
    await waitFor(() => a.details()?.fallback?.state === 'fallback', 15000, 'A (no stream yet) on its fallback');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 8000, 'B for a listener of A');
    expect(r.status()).toBe(200);
    expect(b.stats()!.currentClients).toBe(1);
    expect(a.details()!.fallback!.listeners).toBe(1);
    source(a, ogg(440));
    await waitFor(() => a.stats()!.currentClients === 1, 15000, 'on A once it streams');
    await more(r, 8000, 'A');
    expect(oggLinks(r.body())).toEqual([serialOf(b), serialOf(a)]);
  });

  it('leaves the listeners on the fallback with fallback-override off', async () => {
    const b = await streamer('b', { 'mount-point': '/b.ogg' });
    const a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg', 'fallback-override': false });
    source(b, ogg(880));
    const srcA = source(a, ogg(440));
    await waitFor(() => a.details()?.fallback?.state === 'own', 15000, 'A streams');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 5000, 'A');
    srcA.stop();
    await waitFor(() => b.stats()!.currentClients === 1, 10000, 'on B');
    source(a, ogg(440));
    await waitFor(() => a.details()?.fallback?.state === 'own', 15000, 'A streams again');
    await more(r, 6000, 'still B');
    expect(b.stats()!.currentClients).toBe(1);
    expect(a.stats()!.currentClients).toBe(0);
    expect(a.details()!.fallback).toMatchObject({ override: false, listeners: 0, returned: 0 });
    expect(a.messages.map((m) => m.text).join('\n')).toMatch(/fallback-override off: listeners stay on the fallback/);
  });

  it('hands the listeners it serves for another mount back there when the fallback itself stops', async () => {
    const b = await streamer('b', { 'mount-point': '/b.ogg' });
    const a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg' });
    source(b, ogg(880));
    const srcA = source(a, ogg(440));
    await waitFor(() => a.details()?.fallback?.state === 'own' && !!b.caps, 15000, 'both streams');
    const mine = await listen(port(b), '/b.ogg');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 5000, 'A');
    srcA.stop();
    await waitFor(() => b.stats()!.currentClients === 2, 10000, 'on B');
    running.splice(running.indexOf(b), 1);
    await b.stop();
    await mine.closed; // B's own listener goes with it
    await waitFor(() => a.stats()!.currentClients === 1, 5000, 'back on A, waiting');
    expect(a.details()!.fallback).toMatchObject({ state: 'waiting', listeners: 0 });
    source(a, ogg(440));
    await more(r, 6000, 'A again');
    expect(r.socket.destroyed).toBe(false);
  });

  it('hands its listeners to the fallback when the streamer itself stops, and takes them back when it streams again', async () => {
    const b = await streamer('b', { 'mount-point': '/b.ogg' });
    let a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg' });
    source(b, ogg(880));
    source(a, ogg(440));
    await waitFor(() => a.details()?.fallback?.state === 'own' && !!b.caps, 15000, 'both streams');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 5000, 'A');
    const aPort = port(a);
    running.splice(running.indexOf(a), 1);
    await a.stop();
    await waitFor(() => b.stats()!.currentClients === 1, 5000, 'on B');
    await more(r, 6000, 'B');
    a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.ogg', port: aPort });
    source(a, ogg(440));
    await waitFor(() => a.stats()!.currentClients === 1 && b.stats()!.currentClients === 0, 15000, 'back on the restarted A');
    await more(r, 6000, 'A again');
    expect(r.socket.destroyed).toBe(false);
  });

  it('lets two own-port streamers share a mount point unless one of them has a fallback', async () => {
    const one = await streamer('one', { 'mount-point': '/' });
    const two = await streamer('two', { 'mount-point': '/' });
    const three = await streamer('three', { 'mount-point': '/', 'fallback-mount': '/z.ogg' });
    await new Promise((resolve) => setImmediate(resolve));
    for (const s of [one, two]) expect(s.messages.map((m) => m.text).join('\n')).not.toMatch(/FLUX_FALLBACK/);
    expect(three.messages.map((m) => m.text).join('\n')).toMatch(/FLUX_FALLBACK_UNAVAILABLE: another streamer of this worker has \/: this one has no fallback and is none/);
  });

  it('refuses a fallback of another format with a message, and its listeners wait for their own stream', async () => {
    const b = await streamer('b', { 'mount-point': '/b.mp3' });
    const a = await streamer('a', { 'mount-point': '/a.ogg', 'fallback-mount': '/b.mp3' });
    source(b, mp3(880, 160));
    const srcA = source(a, ogg(440));
    await waitFor(() => !!b.caps && a.details()?.fallback?.state === 'own', 15000, 'both streams');
    const r = await listen(port(a), '/a.ogg');
    await more(r, 5000, 'A');
    srcA.stop();
    await waitFor(() => a.details()?.fallback?.state === 'waiting', 10000, 'the refusal');
    expect(a.details()!.fallback).toMatchObject({ state: 'waiting', moved: 0, error: 'FLUX_FALLBACK_FORMAT_MISMATCH: mp3 44100 Hz 2 ch is not Ogg/vorbis 44100 Hz 2 ch' });
    expect(a.messages.map((m) => m.text).join('\n')).toMatch(/FLUX_FALLBACK_FORMAT_MISMATCH: mp3 44100 Hz 2 ch is not Ogg\/vorbis 44100 Hz 2 ch: listeners wait here/);
    expect(b.stats()!.currentClients).toBe(0);
    expect(a.stats()!.currentClients).toBe(1);
    const before = r.body().length;
    source(a, ogg(440));
    await waitFor(() => r.body().length > before + 6000, 15000, 'A again');
    expect(r.socket.destroyed).toBe(false);
  });
});
