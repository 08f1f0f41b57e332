// Intro files with real GStreamer streams, sockets and decoders: a new listener gets the intro's
// bytes first (an Ogg file as its own chain link, MP3 frames), then the live stream, and the
// whole capture decodes without an error; ICY metadata counts through the intro; with sender
// processes too. An intro of another format is not played (and says so); a file that cannot be
// used makes the streamer sad with its code; SIGHUP reads it again, keeping it if the new one is bad.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { HttpStreamer, httpStreamerType } from '../../../actors/components/http-streamer';
import { Component } from '../../../actors/component/component';
import { readOggPage } from '../../../protocol/media/ogg-pages';
import { readMediaFile } from '../../../protocol/media/stream-format';
import { titleTagFrame } from '../../../actors/components/ingest/stream-parser';
import { describeGst, gstLaunch, spawnGdpProducer } from '../../helpers/gst';
import { RawResponse, get, rawRequest } from '../../helpers/http';
import { waitFor } from '../../helpers/net';
import { decodeCleanly, mp3Runs, oggLinks } from '../../helpers/media';

jest.setTimeout(60000);

const FEED = '/test/source:default';
const RAW = 'audio/x-raw,rate=44100,channels=2 ! audioconvert';
const LIVE_OGG = `audiotestsrc is-live=true freq=440 volume=0.3 ! ${RAW} ! vorbisenc ! oggmux`;
const LIVE_MP3 = `audiotestsrc is-live=true freq=440 volume=0.3 ! ${RAW} ! lamemp3enc target=bitrate cbr=true bitrate=128 ! mpegaudioparse`;

describeGst('intro files with real streams, sockets and decoders', () => {
  const running: Component[] = [];
  const producers: ChildProcess[] = [];
  const listeners: RawResponse[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-intro-'));

  /** An intro file of `seconds` of a tone, written by GStreamer. */
  function introFile(name: string, chain: string, seconds = 1, freq = 660): string {
    const file = path.join(dir, name);
    const buffers = Math.round((seconds * 44100) / 1024);
    const r = gstLaunch(['-q', ...`audiotestsrc num-buffers=${buffers} samplesperbuffer=1024 freq=${freq} volume=0.3 ! ${RAW} ! ${chain} ! filesink location=${file}`.split(' ')]);
    expect(r.status).toBe(0);
    return file;
  }
  const OGG_INTRO = 'vorbisenc ! oggmux';
  const MP3_INTRO = 'lamemp3enc target=bitrate cbr=true bitrate=128 ! xingmux ! id3v2mux';

  afterEach(async () => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of producers.splice(0)) p.kill('SIGKILL');
    for (const c of running.splice(0).reverse()) await c.stop();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function streamer(props: Record<string, unknown>, pipeline: string | null): Promise<HttpStreamer> {
    const s = httpStreamerType.create('radio', httpStreamerType.properties.parse({ 'write-interval': 50, port: 0, ...props })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    await s.start();
    running.push(s);
    if (pipeline) {
      s.feedConnected('default', FEED);
      producers.push(spawnGdpProducer(pipeline, (f) => s.eat('default', FEED, f)));
      await waitFor(() => !!s.caps, 15000, 'the stream');
    }
    return s;
  }

  async function listen(s: HttpStreamer, mount: string, bytes: number, headers: Record<string, string> = {}): Promise<RawResponse> {
    const r = await rawRequest(Number(new URL(s.url).port), get(mount, headers));
    listeners.push(r);
    await waitFor(() => r.body().length >= bytes, 20000, `${bytes} bytes`);
    r.socket.destroy();
    return r;
  }

  it('plays an Ogg/Vorbis intro to each new listener as its own chain link, then the live stream', async () => {
    const file = introFile('intro.ogg', OGG_INTRO, 2);
    const intro = fs.readFileSync(file);
    const s = await streamer({ 'mount-point': '/live.ogg', 'intro-file': file }, LIVE_OGG);
    const r = await listen(s, '/live.ogg', intro.length + 12000);
    const body = r.body();
    expect(body.subarray(0, intro.length).equals(intro)).toBe(true);
    expect(oggLinks(body)).toEqual([readOggPage(intro).serial, readOggPage(s.caps!.streamheader()[0]).serial]);
    expect(decodeCleanly(body, 'ogg')).toBeGreaterThan(2);
    await listen(s, '/live.ogg', intro.length + 100);
    expect(s.details()!.intro).toMatchObject({ file, bytes: intro.length, format: 'Ogg/vorbis 44100 Hz 2 ch', playing: true, plays: 2 });
  });

  it('plays an MP3 intro as raw frames (no ID3 tag, no Xing frame), ICY metadata counted through it', async () => {
    const file = introFile('intro.mp3', MP3_INTRO, 2);
    const frames = readMediaFile(fs.readFileSync(file)).bytes;
    const s = await streamer({ 'mount-point': '/live.mp3', 'intro-file': file, 'icy-metaint': 4096 }, LIVE_MP3);
    s.eat('default', FEED, titleTagFrame('Live now'));
    const plain = await listen(s, '/live.mp3', frames.length + 40000);
    expect(plain.body().subarray(0, frames.length).equals(frames)).toBe(true);
    expect(mp3Runs(plain.body().subarray(0, plain.body().length - 1000))).toEqual([128]);
    expect(decodeCleanly(plain.body(), 'mp3')).toBeGreaterThan(3);
    const icy = await listen(s, '/live.mp3', frames.length + 40000, { 'Icy-MetaData': '1' });
    expect(icy.head()).toMatch(/icy-metaint: 4096/);
    const raw = icy.body();
    const audio: Buffer[] = [];
    let blocks = 0;
    for (let at = 0; at + 4096 < raw.length; blocks++) {
      audio.push(raw.subarray(at, at + 4096));
      const n = raw[at + 4096] * 16;
      expect(raw.toString('utf8', at + 4097, at + 4097 + n).replace(/\0+$/, '')).toMatch(/^(|StreamTitle='Live now';)$/);
      at += 4097 + n;
    }
    expect(blocks).toBeGreaterThan(frames.length / 4096);
    const stripped = Buffer.concat(audio);
    expect(stripped.subarray(0, frames.length).equals(frames)).toBe(true);
    expect(decodeCleanly(stripped, 'mp3')).toBeGreaterThan(3);
  });

  it('plays the intro from sender processes too, and they read it again on SIGHUP', async () => {
    const file = introFile('intro2.mp3', MP3_INTRO, 1);
    const first = readMediaFile(fs.readFileSync(file)).bytes;
    const s = await streamer({ 'mount-point': '/live.mp3', 'intro-file': file, processes: 2 }, LIVE_MP3);
    await waitFor(() => s.senderPids().length === 2, 10000, 'two sender processes');
    const r = await listen(s, '/live.mp3', first.length + 8000);
    expect(r.body().subarray(0, first.length).equals(first)).toBe(true);
    introFile('intro2.mp3', MP3_INTRO, 2, 880); // a new intro in the same file
    const second = readMediaFile(fs.readFileSync(file)).bytes;
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => s.details()?.intro?.bytes === second.length, 5000, 'the streamer reads it again');
    // Its sender processes were told too: new listeners soon get the new one from both (two at
    // once: the second goes to the other process).
    let plays = 1;
    let both = false;
    await waitFor(() => both, 10000, 'two listeners at once with the new intro', async () => {
      const port = Number(new URL(s.url).port);
      const two = [await rawRequest(port, get('/live.mp3')), await rawRequest(port, get('/live.mp3'))];
      listeners.push(...two);
      await waitFor(() => two.every((x) => x.body().length >= second.length + 2000), 20000, 'both');
      await waitFor(() => s.stats()!.processes!.every((p) => p.clients === 1), 5000, 'one on each process');
      plays += 2;
      both = two.every((x) => x.body().subarray(0, second.length).equals(second));
      for (const x of two) x.socket.destroy();
    });
    await waitFor(() => s.details()?.intro?.plays === plays, 5000, 'plays reported by the processes');
  });

  it('does not play an intro of another format, and says why', async () => {
    const file = introFile('other.mp3', MP3_INTRO);
    const s = await streamer({ 'mount-point': '/live.ogg', 'intro-file': file }, LIVE_OGG);
    const r = await listen(s, '/live.ogg', 6000);
    expect(r.body().toString('latin1', 0, 4)).toBe('OggS');
    expect(oggLinks(r.body())).toEqual([readOggPage(s.caps!.streamheader()[0]).serial]);
    expect(s.details()!.intro).toMatchObject({ playing: false, plays: 0, error: `FLUX_INTRO_FORMAT_MISMATCH: intro-file ${file} is not played: mp3 44100 Hz 2 ch is not Ogg/vorbis 44100 Hz 2 ch` });
    expect(s.messages.some((m) => m.level === 'warning' && /FLUX_INTRO_FORMAT_MISMATCH/.test(m.text))).toBe(true);
  });

  it('refuses a file it cannot use: the streamer is sad with the code', async () => {
    const big = path.join(dir, 'big.mp3');
    fs.writeFileSync(big, Buffer.alloc(0));
    fs.truncateSync(big, 16 * 1024 * 1024 + 1);
    const garbage = path.join(dir, 'garbage.ogg');
    fs.writeFileSync(garbage, Buffer.from('OggS this is not a page'));
    for (const [file, code] of [[big, 'FLUX_INTRO_TOO_LARGE'], [path.join(dir, 'missing.ogg'), 'FLUX_INTRO_CANNOT_READ'], [garbage, 'FLUX_INTRO_BAD_FILE']]) {
      const s = await streamer({ 'mount-point': '/live.ogg', 'intro-file': file }, null);
      expect(s.mood).toBe('sad');
      expect(s.failedPermanently).toBe(true);
      expect(s.messages[s.messages.length - 1].text).toMatch(new RegExp(`setup failed: ${code}: intro-file ${file}`));
    }
  });

  it('reads the file again on SIGHUP, keeping the one it has when the new one is bad', async () => {
    const file = introFile('hup.ogg', OGG_INTRO, 1);
    const first = fs.readFileSync(file);
    const s = await streamer({ 'mount-point': '/live.ogg', 'intro-file': file }, LIVE_OGG);
    fs.writeFileSync(file, first.subarray(0, 100)); // cut short
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => s.messages.some((m) => /intro-file not reloaded \(SIGHUP\), the previous one stays: FLUX_INTRO_BAD_FILE/.test(m.text)), 5000, 'the refusal');
    const r = await listen(s, '/live.ogg', first.length + 100);
    expect(r.body().subarray(0, first.length).equals(first)).toBe(true);
    introFile('hup.ogg', OGG_INTRO, 2, 880);
    const second = fs.readFileSync(file);
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(() => s.details()?.intro?.bytes === second.length, 5000, 'the new intro');
    const r2 = await listen(s, '/live.ogg', second.length + 100);
    expect(r2.body().subarray(0, second.length).equals(second)).toBe(true);
  });
});
