// The WHEP endpoint over real HTTP, with offers made by a real WebRTC stack (werift): what a
// player or an attacker gets for what it sends. Answers and Location, DELETE and CORS; bad
// input refused with a status and a coded JSON body (malformed SDP 400, no codec we can send
// 406, a wrong token 401, wrong content type 415, before the stream 503); a flood of offers is
// bounded by client-limit, and sessions that never connect are dropped after the viewer timeout.
// A stream WebRTC cannot carry (B-frames) makes the streamer sad with a code naming the fix.

import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { BUFFER_FLAG, toFrame } from '../../../../protocol/gdp';
import { WhepStreamer, whepStreamerProperties } from '../../../../actors/components/webrtc/whep-streamer';

jest.setTimeout(30000);

async function offer(video: 'vp8' | 'h264' = 'vp8'): Promise<string> {
  const codec = video === 'vp8' ? new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000 }) : new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1' });
  const pc = new RTCPeerConnection({ codecs: { video: [codec], audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })] }, iceUseIpv6: false });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const sdp = pc.localDescription?.sdp ?? '';
  await pc.close();
  return sdp;
}

describe('whep-streamer endpoint', () => {
  let c: WhepStreamer;
  let base = '';
  const started: WhepStreamer[] = [];

  async function streamer(props: Record<string, unknown>, caps = true): Promise<{ c: WhepStreamer; base: string }> {
    const s = new WhepStreamer('whep', whepStreamerProperties.parse({ port: 0, ...props }));
    s.addFeed('video', '/tv/vp8:default');
    s.addFeed('audio', '/tv/opus:default');
    await s.start();
    started.push(s);
    if (caps) {
      s.eat('video', '/tv/vp8:default', toFrame({ kind: 'caps', caps: 'video/x-vp8, width=(int)320, height=(int)240' }));
      s.eat('audio', '/tv/opus:default', toFrame({ kind: 'caps', caps: 'audio/x-opus, channel-mapping-family=(int)0, channels=(int)2, rate=(int)48000' }));
    }
    return { c: s, base: s.urls[0] };
  }
  const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body });
  const code = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

  beforeAll(async () => {
    ({ c, base } = await streamer({ 'token-auth': ['sekret-token'], 'client-limit': 5, 'viewer-timeout': 2 }));
  });
  afterAll(async () => {
    for (const s of started) await s.stop();
  });

  it('answers an offer with 201, the SDP answer and a Location; DELETE ends the session; CORS exposes Location', async () => {
    const pre = await fetch(base, { method: 'OPTIONS', headers: { Origin: 'http://player.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-expose-headers')).toMatch(/Location/);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const r = await post(base, await offer(), { Authorization: 'Bearer sekret-token' });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/sdp');
    const answer = await r.text();
    expect(answer).toMatch(/a=ice-lite/);
    expect(answer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    expect(answer).toMatch(/a=fingerprint:sha-256/);
    expect(answer).toMatch(/a=rtpmap:\d+ VP8\/90000/);
    expect(answer).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
    expect(answer).toMatch(/a=sendonly/);
    const location = r.headers.get('location') ?? '';
    expect(location).toMatch(/^\/whep\/[A-Za-z0-9_-]+$/);
    expect(r.headers.get('access-control-expose-headers')).toMatch(/Location/);
    expect(c.viewers.size).toBe(1);
    const url = new URL(location, base).href;
    expect((await fetch(url, { method: 'PATCH', headers: { Authorization: 'Bearer sekret-token' } })).status).toBe(405);
    expect((await fetch(url, { method: 'DELETE', headers: { Authorization: 'Bearer sekret-token' } })).status).toBe(200);
    expect(c.viewers.size).toBe(0);
    const again = await fetch(url, { method: 'DELETE', headers: { Authorization: 'Bearer sekret-token' } });
    expect(again.status).toBe(404);
    expect(await code(again)).toBe('FLUX_WEBRTC_NO_SUCH_SESSION');
  });

  it('refuses a missing or wrong token with 401, a coded body and WWW-Authenticate', async () => {
    for (const headers of [{}, { Authorization: 'Bearer sekret-tokem' }, { Authorization: 'Basic c2VrcmV0LXRva2Vu' }] as Array<Record<string, string>>) {
      const r = await post(base, await offer(), headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(await code(r)).toBe('FLUX_WEBRTC_UNAUTHORIZED');
    }
    expect(c.viewers.size).toBe(0);
  });

  it('refuses a malformed SDP with 400 and an offer without a codec it can send with 406, each with a code', async () => {
    const auth = { Authorization: 'Bearer sekret-token' };
    for (const bad of ['', 'hello', 'v=0\r\nm=video nine UDP/TLS/RTP/SAVPF 96\r\n', (await offer()).replace(/a=fingerprint:.*\r\n/g, '').replace(/a=ice-pwd:.*\r\n/g, '')]) {
      const r = await post(base, bad, auth);
      expect(r.status).toBe(400);
      expect(await code(r)).toBe('FLUX_WEBRTC_BAD_SDP');
    }
    const h264only = (await offer('h264')).replace(/m=audio[\s\S]*$/, '');
    const r = await post(base, h264only, auth);
    expect(r.status).toBe(406);
    expect(await code(r)).toBe('FLUX_WEBRTC_NO_CODEC');
    const wrongType = await fetch(base, { method: 'POST', headers: { 'Content-Type': 'text/plain', ...auth }, body: await offer() });
    expect(wrongType.status).toBe(415);
    expect(await code(wrongType)).toBe('FLUX_WEBRTC_BAD_CONTENT_TYPE');
    const huge = await post(base, 'v=0\r\n' + 'a=x\r\n'.repeat(20000), auth);
    expect(huge.status).toBe(413);
    expect(c.viewers.size).toBe(0);
  });

  it('bounds a flood of offers by client-limit, and drops sessions that never connect after the viewer timeout', async () => {
    const sdp = await offer();
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(base, sdp, { Authorization: 'Bearer sekret-token' })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBe(5);
    expect(statuses.filter((s) => s === 503).length).toBe(25);
    expect(new Set(await Promise.all(answers.filter((r) => r.status === 503).map(code)))).toEqual(new Set(['FLUX_WEBRTC_TOO_MANY_SESSIONS']));
    expect(c.viewers.size).toBe(5);
    const t0 = Date.now();
    while (c.viewers.size > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
    expect(c.viewers.size).toBe(0);
    expect(c.details().removed?.timeout).toBe(5);
    expect((await post(base, sdp, { Authorization: 'Bearer sekret-token' })).status).toBe(201);
  });

  it('answers 503 with a code before its stream has started', async () => {
    const { base: b } = await streamer({}, false);
    const r = await post(b, await offer());
    expect(r.status).toBe(503);
    expect(await code(r)).toBe('FLUX_WEBRTC_NO_STREAM');
  });

  it('goes sad with FLUX_WEBRTC_B_FRAMES, naming the encoder settings, when the video has reordered frames', async () => {
    const { c: s } = await streamer({}, false);
    s.eat('video', '/tv/vp8:default', toFrame({ kind: 'caps', caps: 'video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, profile=(string)high' }));
    const au = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00]);
    s.eat('video', '/tv/vp8:default', toFrame({ kind: 'buffer', pts: 80000000n, dts: 40000000n, duration: null, offset: null, offsetEnd: null, flags: BUFFER_FLAG.DELTA_UNIT, data: au }));
    expect(s.mood).toBe('sad');
    expect(s.messages[s.messages.length - 1].text).toMatch(/^FLUX_WEBRTC_B_FRAMES: .*tune: zerolatency/);
  });
});
