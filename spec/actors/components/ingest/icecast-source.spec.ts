// icecast-source-producer with real source clients (ffmpeg's icecast://) and real listeners
// (GStreamer decoding through the http-streamer), the refusals Icecast gives, moods through a
// disconnect and a reconnect, and metadata updates reaching downstream as tag events.

import { GdpFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { GstStructure } from '../../../../protocol/gst/structure';
import { IcecastSourceProducer, icecastSourceProducerType } from '../../../../actors/components/icecast-source-producer';
import { HttpStreamer, httpStreamerType } from '../../../../actors/components/http-streamer';
import { describeFfmpeg, pushTone } from '../../../helpers/ffmpeg';
import { decodedSeconds, gstAvailable, runGstClient } from '../../../helpers/gst';
import { rawRequest } from '../../../helpers/http';
import { waitFor } from '../../../helpers/net';

const PASSWORD = 'hackme-but-longer';
const FEED = '/studio/dj:default';
const auth = (user = 'source', pw = PASSWORD) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

interface Rig {
  producer: IcecastSourceProducer;
  streamer: HttpStreamer;
  frames: GdpFrame[];
  stop(): Promise<void>;
}

async function rig(mount = '/live'): Promise<Rig> {
  const producer = icecastSourceProducerType.create('dj', icecastSourceProducerType.properties.parse({ port: 0, 'mount-point': mount, password: PASSWORD, 'source-timeout': 2 })) as IcecastSourceProducer;
  const streamer = httpStreamerType.create('streamer', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/radio' })) as HttpStreamer;
  streamer.addFeed('default', FEED);
  await streamer.start();
  streamer.feedConnected('default', FEED);
  const frames: GdpFrame[] = [];
  producer.connectOutput('default', (f) => {
    if (f.kind !== 'buffer') frames.push(f);
    streamer.eat('default', FEED, f);
  });
  await producer.start();
  return { producer, streamer, frames, stop: async () => { await producer.stop(); await streamer.stop(); } };
}

const sourceUrl = (r: Rig, mount = '/live', pw = PASSWORD) => `icecast://source:${pw}@127.0.0.1:${r.producer.port}${mount}`;

describeFfmpeg('icecast-source-producer with real source clients', () => {
  let r: Rig;
  afterEach(async () => r && (await r.stop()));

  it('takes an Ogg/Vorbis stream from ffmpeg, is happy while it sends, hungry when it leaves, happy again on its return', async () => {
    r = await rig('/live.ogg');
    expect(r.producer.mood).toBe('hungry');
    const dj = pushTone(sourceUrl(r, '/live.ogg'), 'ogg', 60, ['-content_type', 'audio/ogg', '-ice_name', 'Night Shift', '-ice_genre', 'ambient']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with a source');
    const d = r.producer.details();
    expect(d.source).toMatchObject({ connected: true, contentType: 'audio/ogg', name: 'Night Shift', genre: 'ambient' });
    const caps = r.frames.find((f) => f.kind === 'caps');
    expect(caps?.text).toMatch(/^application\/ogg, streamheader=\(buffer\)</);
    if (gstAvailable() || process.env.CI) {
      const out = await runGstClient(['souphttpsrc', `location=${r.streamer.url}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false'], 2500);
      expect(out).not.toMatch(/ERROR/);
      expect(decodedSeconds(out)).toBeGreaterThan(1);
    }
    const starts = () => r.frames.filter((f) => f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']).map((f) => f.text);
    expect(starts()).toHaveLength(1);
    await dj.stop();
    await waitFor(() => r.producer.mood === 'hungry', 5000, 'hungry once the DJ left');
    expect(r.producer.details().source?.connected).toBe(false);
    const dj2 = pushTone(sourceUrl(r, '/live.ogg'), 'ogg', 60, ['-content_type', 'audio/ogg']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy again');
    expect(starts()).toHaveLength(2);
    expect(new Set(starts()).size).toBe(2); // a new stream, not the old one resumed
    await dj2.stop();
  }, 40000);

  it('takes Ogg that ffmpeg labels audio/mpeg (its default) for what its bytes show', async () => {
    r = await rig('/live');
    const dj = pushTone(sourceUrl(r, '/live'), 'ogg', 60);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with the mislabelled source');
    expect(r.producer.details().source?.contentType).toBe('audio/mpeg');
    expect(r.frames.find((f) => f.kind === 'caps')?.text).toMatch(/^application\/ogg, streamheader=/);
    expect(r.producer.messages.some((m) => /says audio\/mpeg but sends ogg: taken as ogg/.test(m.text))).toBe(true);
    await dj.stop();
  }, 30000);

  it('takes MP3 from ffmpeg (frames with their caps) and a listener decodes it', async () => {
    r = await rig('/live.mp3');
    const dj = pushTone(sourceUrl(r, '/live.mp3'), 'mp3', 60, ['-content_type', 'audio/mpeg']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with a source');
    expect(r.frames.find((f) => f.kind === 'caps')?.text).toMatch(/^audio\/mpeg, mpegversion=\(int\)1, mpegaudioversion=\(int\)1, layer=\(int\)3, rate=\(int\)44100/);
    const head = await rawRequest(Number(new URL(r.streamer.url).port), `GET /radio HTTP/1.0\r\n\r\n`);
    await waitFor(() => head.body().length > 4000, 5000, 'listener bytes');
    expect(head.head()).toMatch(/Content-Type: audio\/mpeg/);
    expect(head.body().readUInt16BE(0) & 0xffe0).toBe(0xffe0); // starts on a frame sync
    head.socket.destroy();
    if (gstAvailable() || process.env.CI) {
      const out = await runGstClient(['souphttpsrc', `location=${r.streamer.url}`, '!', 'decodebin', '!', 'fakesink', 'silent=false'], 2500);
      expect(decodedSeconds(out)).toBeGreaterThan(1);
    }
    await dj.stop();
  }, 30000);

  it('takes AAC (ADTS) and WebM', async () => {
    r = await rig('/live.aac');
    let dj = pushTone(sourceUrl(r, '/live.aac'), 'adts', 60, ['-content_type', 'audio/aac']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with AAC');
    expect(r.frames.find((f) => f.kind === 'caps')?.text).toMatch(/^audio\/mpeg, .*mpegversion=\(int\)4.*stream-format=\(string\)adts/);
    const aac = await rawRequest(Number(new URL(r.streamer.url).port), 'GET /radio HTTP/1.0\r\n\r\n');
    await waitFor(() => aac.body().length > 1000, 5000, 'AAC listener bytes');
    expect(aac.head()).toMatch(/Content-Type: audio\/aac/);
    expect(aac.body().readUInt16BE(0) & 0xfff6).toBe(0xfff0); // an ADTS frame header first
    aac.socket.destroy();
    await dj.stop();
    await r.stop();
    r = await rig('/live.webm');
    dj = pushTone(sourceUrl(r, '/live.webm'), 'webm', 60, ['-content_type', 'audio/webm']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with WebM');
    const caps = r.frames.find((f) => f.kind === 'caps');
    expect(caps?.text).toMatch(/^audio\/webm, streamheader=\(buffer\)< 1a45dfa3/);
    if (gstAvailable() || process.env.CI) {
      const out = await runGstClient(['souphttpsrc', `location=${r.streamer.url}`, '!', 'matroskademux', '!', 'opusdec', '!', 'fakesink', 'silent=false'], 3000);
      expect(out).not.toMatch(/ERROR|data flow before segment/);
      expect(decodedSeconds(out)).toBeGreaterThan(1);
    }
    await dj.stop();
  }, 40000);

  it('turns a metadata update into a title tag event downstream', async () => {
    r = await rig('/live.mp3');
    const dj = pushTone(sourceUrl(r, '/live.mp3'), 'mp3', 60, ['-content_type', 'audio/mpeg']);
    await waitFor(() => r.producer.mood === 'happy', 10000, 'happy with a source');
    const port = r.producer.port;
    const ok = await rawRequest(port, `GET /admin/metadata?mount=/live.mp3&mode=updinfo&song=Artist%20-%20Title%20%C3%A9 HTTP/1.0\r\nAuthorization: ${auth()}\r\n\r\n`);
    await ok.closed;
    expect(ok.status()).toBe(200);
    expect(ok.body().toString()).toMatch(/<return>1<\/return>/);
    const tag = r.frames.find((f) => f.kind === 'event' && f.eventType === EVENT_TYPES.tag && /title/.test(f.text ?? ''));
    expect(tag).toBeDefined();
    const list = GstStructure.parse(tag?.text ?? '').getStructure('taglist');
    expect(list?.getString('title')).toBe('Artist - Title é');
    expect(r.producer.details().source?.title).toBe('Artist - Title é');
    const wrong = await rawRequest(port, `GET /admin/metadata?mount=/other&mode=updinfo&song=x HTTP/1.0\r\nAuthorization: ${auth()}\r\n\r\n`);
    await wrong.closed;
    expect(wrong.status()).toBe(404);
    const noAuth = await rawRequest(port, `GET /admin/metadata?mount=/live.mp3&mode=updinfo&song=x HTTP/1.0\r\n\r\n`);
    await noAuth.closed;
    expect(noAuth.status()).toBe(401);

    // Listeners that ask for ICY metadata get the title in-stream every icy-metaint bytes; others get the plain stream.
    const streamerPort = Number(new URL(r.streamer.url).port);
    const icy = await rawRequest(streamerPort, 'GET /radio HTTP/1.0\r\nIcy-MetaData: 1\r\n\r\n');
    const plain = await rawRequest(streamerPort, 'GET /radio HTTP/1.0\r\n\r\n');
    await waitFor(() => icy.status() === 200 && plain.status() === 200, 5000, 'both listeners answered');
    const metaint = Number(/icy-metaint: (\d+)/.exec(icy.head())?.[1]);
    expect(metaint).toBe(16000);
    expect(plain.head()).not.toMatch(/^icy-metaint:/m);
    const update = await rawRequest(port, `GET /admin/metadata?mount=/live.mp3&mode=updinfo&song=Second%20Song HTTP/1.0\r\nAuthorization: ${auth()}\r\n\r\n`);
    await update.closed;
    /** The titles in an ICY stream, walking its blocks as a player does. */
    const titles = (body: Buffer): string[] => {
      const out: string[] = [];
      for (let at = metaint; at < body.length; ) {
        const len = body[at] * 16;
        if (at + 1 + len > body.length) break;
        const text = body.toString('utf8', at + 1, at + 1 + len).replace(/\0+$/, '');
        if (text) out.push(/^StreamTitle='(.*)';$/.exec(text)?.[1] ?? `bad block: ${text}`);
        at += 1 + len + metaint;
      }
      return out;
    };
    await waitFor(() => titles(icy.body()).includes('Second Song'), 15000, 'the new title in the ICY stream');
    expect(titles(icy.body()).every((t) => t === 'Artist - Title é' || t === 'Second Song')).toBe(true);
    expect(plain.body().includes(Buffer.from('StreamTitle'))).toBe(false);
    expect(plain.body().length).toBeGreaterThan(metaint);
    icy.socket.destroy();
    plain.socket.destroy();
    await dj.stop();
  }, 40000);
});

describe('icecast-source-producer refusals', () => {
  let r: Rig;
  afterEach(async () => r && (await r.stop()));
  const put = (mount: string, headers: Record<string, string>, method = 'PUT') =>
    `${method} ${mount} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

  it('refuses as Icecast does: 401 wrong password, 404 unknown mount, 415 unsupported type, 403 mount in use', async () => {
    r = await rig('/live.ogg');
    const port = r.producer.port;
    const ask = async (req: string) => {
      const x = await rawRequest(port, req);
      await x.closed;
      return x;
    };
    const bad = await ask(put('/live.ogg', { Authorization: auth('source', 'wrong-password'), 'Content-Type': 'audio/ogg' }));
    expect(bad.status()).toBe(401);
    expect(bad.head()).toMatch(/WWW-Authenticate: Basic realm="Icecast2 Server"/);
    expect((await ask(put('/live.ogg', { 'Content-Type': 'audio/ogg' }))).status()).toBe(401);
    expect((await ask(put('/other.ogg', { Authorization: auth(), 'Content-Type': 'audio/ogg' }))).status()).toBe(404);
    const t = await ask(put('/live.ogg', { Authorization: auth(), 'Content-Type': 'video/x-msvideo' }));
    expect(t.status()).toBe(415);
    expect(t.body().toString()).toMatch(/unsupported content type video\/x-msvideo/);
    expect((await ask(put('/live.ogg', { Authorization: auth() }, 'POST'))).status()).toBe(405);
    // The first source (legacy SOURCE method, ICE/1.0 dialect) holds the mount; a second gets 403.
    const first = await rawRequest(port, `SOURCE /live.ogg ICE/1.0\r\nAuthorization: ${auth()}\r\nContent-Type: application/ogg\r\n\r\n`);
    await waitFor(() => first.status() === 200, 3000, 'the first source let in');
    await waitFor(() => r.producer.sourceConnected, 3000, 'the source registered');
    const second = await ask(put('/live.ogg', { Authorization: auth(), 'Content-Type': 'audio/ogg', Expect: '100-continue' }));
    expect(second.status()).toBe(403);
    expect(second.body().toString()).toMatch(/Mountpoint in use/);
    first.socket.destroy();
    expect(r.producer.mood).toBe('hungry'); // headers alone are no stream
    await waitFor(() => !r.producer.sourceConnected, 3000, 'the mount free again');
    // A source that says nothing after its head does not hold the mount past source-timeout.
    const mute = await rawRequest(port, put('/live.ogg', { Authorization: auth(), 'Content-Type': 'audio/ogg' }));
    await waitFor(() => r.producer.sourceConnected, 3000, 'the mute source registered');
    await mute.closed;
    expect(r.producer.sourceConnected).toBe(false);
    expect(r.producer.messages.some((m) => /sent nothing for 2 s/.test(m.text))).toBe(true);
  }, 20000);

  it('answers Expect: 100-continue, and drops a source that sends garbage, staying hungry with a message', async () => {
    r = await rig('/live.ogg');
    const x = await rawRequest(r.producer.port, put('/live.ogg', { Authorization: auth(), 'Content-Type': 'audio/ogg', Expect: '100-continue' }));
    await waitFor(() => /HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.0 200 OK/.test(x.data().toString('latin1')), 3000, '100 then 200');
    for (let i = 0; i < 50; i++) x.socket.write(Buffer.alloc(4096, 0x41 + (i % 20)));
    await waitFor(() => x.socket.destroyed || x.socket.readableEnded, 10000, 'the garbage source dropped');
    expect(r.producer.mood).toBe('hungry');
    expect(r.producer.messages.some((m) => m.level === 'warning' && /dropped/.test(m.text))).toBe(true);
    expect(r.producer.sourceConnected).toBe(false);
  }, 20000);
});
