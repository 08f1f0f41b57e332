// rtmp-producer with real publishers: ffmpeg (-f flv rtmp://...) and a test publisher that
// speaks like OBS 29.1+ (Enhanced RTMP HEVC, AV1 and VP9 made by GStreamer's encoders at test
// time, AMF3 connect, FCPublish, chunk size 4096, timestamps across the 32-bit wrap). A wrong
// key is refused, the buffers arrive with their caps, timestamps and keyframe flags, GStreamer
// decodes what came through, the moods follow the publisher, a codec it cannot carry makes it
// sad, and several producers share one port, each with its own key.

import { spawn } from 'child_process';
import { BUFFER_FLAG, GdpFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { RtmpProducer, rtmpProducerType } from '../../../../actors/components/rtmp-producer';
import { EncodedStream, VideoCodec, encodeAac, encodeVideo } from '../../../helpers/encoded-media';
import { describeFfmpeg, runFfmpeg } from '../../../helpers/ffmpeg';
import { describeGst, gstAvailable } from '../../../helpers/gst';
import { waitFor } from '../../../helpers/net';
import { freePort } from '../../../helpers/planet';
import { RtmpTestPublisher } from '../../../helpers/rtmp-publisher';
import { aacTag, exVideoTag, fourccNumber } from '../../../helpers/rtmp-wire';

const KEY = 'obs-stream-key-42';

function publish(port: number, key: string, seconds = 60) {
  return runFfmpeg([
    '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-g', '50', '-bf', '2', '-c:a', 'aac', '-t', String(seconds),
    '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`,
  ]);
}

function producer(props: Record<string, unknown>): { p: RtmpProducer; out: Record<string, GdpFrame[]> } {
  const p = rtmpProducerType.create('rtmp', rtmpProducerType.properties.parse(props)) as RtmpProducer;
  const out: Record<string, GdpFrame[]> = { video: [], audio: [] };
  p.connectOutput('video', (f) => out.video.push(f));
  p.connectOutput('audio', (f) => out.audio.push(f));
  return { p, out };
}

const FOURCC: Record<VideoCodec, string> = { hevc: 'hvc1', av1: 'av01', vp9: 'vp09', h264: 'avc1' };

/**
 * Sends a stream the way OBS does over Enhanced RTMP: onMetaData with the FourCC, the sequence
 * starts, then video and audio interleaved by time; hvc1/avc1 frames with a composition time
 * in CodedFrames (CodedFramesX when it is 0). `start` is the first RTMP timestamp (32 bits).
 */
function sendObsStream(pub: RtmpTestPublisher, codec: VideoCodec, video: EncodedStream, audio: EncodedStream, start: number): void {
  const fourcc = FOURCC[codec];
  pub.metadata({ encoder: 'obs-output module (libobs version 30.0.2)', videocodecid: fourccNumber(fourcc), audiocodecid: 10, width: 320, height: 240, framerate: 25 });
  pub.video(exVideoTag({ keyframe: true, packetType: 0, fourcc, body: video.config }), start);
  pub.audio(aacTag(0, audio.config), start);
  const t0 = video.frames[0].dtsMs;
  const items = [
    ...video.frames.map((f) => ({ t: f.dtsMs - t0, send: () => {
      const nalus = codec === 'hevc' || codec === 'h264';
      const cts = f.ptsMs - f.dtsMs;
      const tag = nalus && cts !== 0 ? exVideoTag({ keyframe: f.keyframe, packetType: 1, fourcc, cts, body: f.data }) : exVideoTag({ keyframe: f.keyframe, packetType: nalus ? 3 : 1, fourcc, body: f.data });
      pub.video(tag, start + f.dtsMs - t0);
    } })),
    ...audio.frames.map((f) => ({ t: f.ptsMs, send: () => pub.audio(aacTag(1, f.data), start + f.ptsMs) })),
  ].sort((a, b) => a.t - b.t);
  for (const i of items) i.send();
}

/** Decodes GDP frames with a real GStreamer pipeline; resolves with the number of decoded buffers. */
function decode(frames: GdpFrame[], pipeline: string): Promise<{ count: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('gst-launch-1.0', ['-v', 'fdsrc', 'fd=0', '!', 'gdpdepay', '!', ...pipeline.split(' '), '!', 'fakesink', 'silent=false'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.on('error', () => undefined);
    for (const f of frames) for (const c of f.chunks) child.stdin.write(c);
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', () => {
      clearTimeout(t);
      resolve({ count: (out.match(/last-message = chain/g) ?? []).length, out });
    });
  });
}

describeFfmpeg('rtmp-producer with a real publisher', () => {
  let p: RtmpProducer | null = null;
  afterEach(async () => {
    await p?.stop();
    p = null;
  });

  it('refuses a wrong key, takes H.264 and AAC with keyframes flagged, and follows the publisher', async () => {
    p = rtmpProducerType.create('rtmp', rtmpProducerType.properties.parse({ port: 0, 'stream-key': KEY, 'source-timeout': 1.5 })) as RtmpProducer;
    const out: Record<string, GdpFrame[]> = { video: [], audio: [] };
    p.connectOutput('video', (f) => out.video.push(f));
    p.connectOutput('audio', (f) => out.audio.push(f));
    await p.start();
    expect(p.mood).toBe('hungry');
    const port = p.port;

    const intruder = publish(port, 'not-the-key', 5);
    expect(await intruder.exited).not.toBe(0);
    expect(p.mood).toBe('hungry');
    expect(p.messages.some((m) => /refused 127\.0\.0\.1: wrong stream key/.test(m.text))).toBe(true);
    expect(out.video).toHaveLength(0);

    const obs = publish(port, KEY);
    await waitFor(() => p?.mood === 'happy', 15000, 'happy with a publisher');
    await waitFor(() => out.video.filter((f) => f.kind === 'buffer').length >= 110, 15000, 'over two keyframe intervals of video');
    expect(p.details().source).toMatchObject({ connected: true, address: '127.0.0.1', name: expect.stringMatching(/^Lavf/) });
    const vcaps = out.video.find((f) => f.kind === 'caps')?.text ?? '';
    expect(vcaps).toMatch(/^video\/x-h264, stream-format=\(string\)avc, alignment=\(string\)au, codec_data=\(buffer\)01/);
    expect(out.audio.find((f) => f.kind === 'caps')?.text).toMatch(/^audio\/mpeg, mpegversion=\(int\)4, stream-format=\(string\)raw, framed=\(boolean\)true, rate=\(int\)44100, channels=\(int\)1, codec_data=\(buffer\)/);
    const vbufs = out.video.filter((f) => f.kind === 'buffer');
    const keys = vbufs.map((f, i) => ((f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0 ? i : -1)).filter((i) => i >= 0);
    expect(keys[0]).toBe(0);
    expect(keys[1] - keys[0]).toBe(50); // -g 50
    // With B-frames, presentation and decoding times differ, and decoding times never go back.
    expect(vbufs.some((f) => f.pts !== null && f.dts !== null && f.pts > f.dts)).toBe(true);
    for (let i = 1; i < vbufs.length; i++) expect((vbufs[i].dts as bigint) >= (vbufs[i - 1].dts as bigint)).toBe(true);

    if (gstAvailable() || process.env.CI) {
      // Debian's gstreamer1.0-plugins-bad decodes H.264 (openh264) and AAC (faad).
      const v = await decode(out.video, 'h264parse ! openh264dec');
      expect(v.out).not.toMatch(/ERROR/);
      expect(v.count).toBeGreaterThan(50);
      const a = await decode(out.audio, 'aacparse ! faad');
      expect(a.out).not.toMatch(/ERROR/);
      expect(a.count).toBeGreaterThan(40);
    }

    // A stall: hungry within the source timeout; then a new publisher, a new stream.
    obs.child.kill('SIGSTOP');
    await waitFor(() => p?.mood === 'hungry', 4000, 'hungry after the stall');
    obs.child.kill('SIGKILL');
    await obs.exited;
    const again = publish(port, KEY);
    await waitFor(() => p?.mood === 'happy', 15000, 'happy with the next publisher');
    const starts = out.video.filter((f) => f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']).map((f) => f.text);
    expect(new Set(starts).size).toBe(2);
    // It stops cleanly: hungry.
    await again.stop();
    await waitFor(() => p?.mood === 'hungry', 5000, 'hungry after the publisher left');
  }, 60000);
});

describeGst('rtmp-producer with an OBS-style Enhanced RTMP publisher', () => {
  const streams: Partial<Record<VideoCodec, EncodedStream>> = {};
  let aac: EncodedStream;
  beforeAll(async () => {
    [streams.hevc, streams.av1, streams.vp9, aac] = await Promise.all([encodeVideo('hevc'), encodeVideo('av1'), encodeVideo('vp9'), encodeAac(2)]);
  }, 120000);
  let running: RtmpProducer[] = [];
  afterEach(async () => {
    for (const p of running) await p.stop();
    running = [];
  });

  it('carries HEVC as hvc1 with its codec_data, PTS/DTS across the 32-bit wrap and keyframes, and GStreamer decodes it', async () => {
    const { p, out } = producer({ port: 0, 'stream-key': KEY });
    running.push(p);
    await p.start();
    const hevc = streams.hevc as EncodedStream;
    const { publisher, code } = await RtmpTestPublisher.publish({ port: p.port, key: KEY });
    expect(code).toBe('NetStream.Publish.Start');
    const start = 0xffffffff - 1000; // one second before RTMP's timestamps wrap
    sendObsStream(publisher, 'hevc', hevc, aac, start);
    await waitFor(() => out.video.filter((f) => f.kind === 'buffer').length === hevc.frames.length, 10000, 'every HEVC frame');
    expect(p.mood).toBe('happy');
    expect(p.details().source).toMatchObject({ connected: true, name: 'obs-output module (libobs version 30.0.2)', contentType: 'HEVC + AAC' });
    expect(out.video.find((f) => f.kind === 'caps')?.text).toBe(`video/x-h265, stream-format=(string)hvc1, alignment=(string)au, codec_data=(buffer)${hevc.config.toString('hex')}`);
    const vbufs = out.video.filter((f) => f.kind === 'buffer');
    expect(vbufs.map((f) => (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0)).toEqual(hevc.frames.map((f) => f.keyframe));
    // Decoding times go on past 2^32 ms without a jump back; the composition offsets are the encoder's.
    const t0 = hevc.frames[0].dtsMs;
    expect(vbufs.map((f) => Number((f.dts as bigint) / 1000000n))).toEqual(hevc.frames.map((f) => start + f.dtsMs - t0));
    expect(Number((vbufs[vbufs.length - 1].dts as bigint) / 1000000n)).toBeGreaterThan(2 ** 32);
    expect(vbufs.map((f) => Number(((f.pts as bigint) - (f.dts as bigint)) / 1000000n))).toEqual(hevc.frames.map((f) => f.ptsMs - f.dtsMs));
    expect(hevc.frames.some((f) => f.ptsMs !== f.dtsMs)).toBe(true); // B-frames: the composition time was exercised
    const v = await decode(out.video, 'h265parse ! avdec_h265');
    expect(v.out).not.toMatch(/ERROR/);
    expect(v.count).toBe(hevc.frames.length);
    const a = await decode(out.audio, 'aacparse ! avdec_aac');
    expect(a.out).not.toMatch(/ERROR/);
    expect(a.count).toBeGreaterThan(80);
    // OBS stops with FCUnpublish and deleteStream: hungry.
    publisher.unpublish();
    await waitFor(() => p.mood === 'hungry', 3000, 'hungry after FCUnpublish');
    publisher.close();
  }, 60000);

  for (const codec of ['av1', 'vp9'] as const) {
    it(`carries ${codec === 'av1' ? 'AV1 (av01)' : 'VP9 (vp09)'} with its caps, and GStreamer decodes it`, async () => {
      const { p, out } = producer({ port: 0, 'stream-key': KEY });
      running.push(p);
      await p.start();
      const video = streams[codec] as EncodedStream;
      const { publisher } = await RtmpTestPublisher.publish({ port: p.port, key: KEY });
      sendObsStream(publisher, codec, video, aac, 5000);
      await waitFor(() => out.video.filter((f) => f.kind === 'buffer').length === video.frames.length, 10000, `every ${codec} frame`);
      const caps = out.video.find((f) => f.kind === 'caps')?.text;
      if (codec === 'av1') expect(caps).toBe(`video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu, codec_data=(buffer)${video.config.toString('hex')}`);
      else expect(caps).toBe('video/x-vp9, profile=(string)0');
      expect(out.video.filter((f) => f.kind === 'buffer').map((f) => (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0)).toEqual(video.frames.map((f) => f.keyframe));
      const v = await decode(out.video, codec === 'av1' ? 'av1parse ! av1dec' : 'vp9dec');
      expect(v.out).not.toMatch(/ERROR/);
      expect(v.count).toBe(video.frames.length);
      publisher.close();
      await waitFor(() => p.mood === 'hungry', 3000, 'hungry once the publisher left');
    }, 60000);
  }

  it('refuses a codec it cannot carry: the publisher is told, the component sad with a code, until it is restarted', async () => {
    const { p, out } = producer({ port: 0, 'stream-key': KEY });
    running.push(p);
    await p.start();
    const { publisher } = await RtmpTestPublisher.publish({ port: p.port, key: KEY });
    publisher.audio(aacTag(0, aac.config), 0);
    for (let i = 0; i < 20; i++) publisher.audio(aacTag(1, aac.frames[i].data), i * 23);
    await waitFor(() => p.mood === 'happy', 3000, 'happy on the audio');
    publisher.video(exVideoTag({ keyframe: true, packetType: 0, fourcc: 'vvc1', body: Buffer.alloc(40, 1) }), 460);
    const status = await publisher.next((c) => c.name === 'onStatus' && (c.args[1] as Record<string, unknown>).level === 'error');
    expect((status.args[1] as Record<string, unknown>).code).toBe('NetStream.Publish.Rejected');
    expect(String((status.args[1] as Record<string, unknown>).description)).toMatch(/^FLUX_RTMP_UNSUPPORTED_CODEC: VVC \("vvc1"\) video is not carried/);
    await publisher.closed;
    expect(p.mood).toBe('sad');
    expect(p.messages.some((m) => m.level === 'error' && m.text.startsWith('FLUX_RTMP_UNSUPPORTED_CODEC: 127.0.0.1 sends VVC ("vvc1") video'))).toBe(true);
    expect(out.video.filter((f) => f.kind !== 'event')).toHaveLength(0);
    // Sad until restarted: the next publisher is refused, whatever it sends.
    const next = await RtmpTestPublisher.publish({ port: p.port, key: KEY });
    expect(next.code).toBe('NetStream.Publish.Rejected');
    await next.publisher.closed;
    // A legacy codec is refused the same way.
    await p.stop();
    await p.start();
    expect(p.mood).toBe('hungry');
    const legacy = await RtmpTestPublisher.publish({ port: p.port, key: KEY });
    legacy.publisher.video(Buffer.from([0x14, 0, 1, 2, 3]), 0); // VP6
    await legacy.publisher.closed;
    expect(p.mood).toBe('sad');
    expect(p.messages[p.messages.length - 1].text).toMatch(/^FLUX_RTMP_UNSUPPORTED_CODEC: 127\.0\.0\.1 sends VP6 video; fluxcast carries H\.264, HEVC, AV1, VP9 and VP8 video, AAC and Opus audio/);
  }, 30000);
});

describeFfmpeg('rtmp-producers sharing one port', () => {
  let running: RtmpProducer[] = [];
  afterEach(async () => {
    for (const p of running) await p.stop();
    running = [];
  });

  it('routes each stream key to its own producer: ffmpeg on one, the OBS-style publisher on the other; a key taken twice makes the second producer sad', async () => {
    const port = await freePort();
    const a = producer({ port, 'stream-key': 'studio-a-key-1' });
    const b = producer({ port, app: 'live/hall', 'stream-key': 'hall-b-key-22' });
    const dup = producer({ port, 'stream-key': 'studio-a-key-1' });
    running.push(a.p, b.p, dup.p);
    await Promise.all([a.p.start(), b.p.start(), dup.p.start()]);
    expect([a.p.mood, b.p.mood]).toEqual(['hungry', 'hungry']);
    expect(dup.p.mood).toBe('sad');
    expect(dup.p.messages.some((m) => /^setup failed: FLUX_RTMP_ROUTE_TAKEN: rtmp:\/\/127\.0\.0\.1:\d+\/live\/<stream key> is served by rtmp already/.test(m.text))).toBe(true);
    expect(dup.p.failedPermanently).toBe(true);

    const ff = publish(port, 'studio-a-key-1', 20);
    const { publisher } = await RtmpTestPublisher.publish({ port, app: 'live/hall', key: 'hall-b-key-22' });
    publisher.audio(aacTag(0, Buffer.from([0x12, 0x10])), 0);
    for (let i = 0; i < 10; i++) publisher.audio(aacTag(1, Buffer.from([0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c])), i * 23);
    await waitFor(() => a.p.mood === 'happy' && b.p.mood === 'happy', 15000, 'both producers happy');
    await waitFor(() => a.out.video.some((f) => f.kind === 'caps'), 5000, 'H.264 caps on the first');
    expect(a.out.video.find((f) => f.kind === 'caps')?.text).toMatch(/^video\/x-h264, stream-format=\(string\)avc/);
    expect(b.out.video.filter((f) => f.kind !== 'event')).toHaveLength(0); // the second has audio only: its publisher sent no video
    expect(b.out.audio.filter((f) => f.kind === 'buffer')).toHaveLength(10);
    expect(a.p.details().source).toMatchObject({ connected: true, name: expect.stringMatching(/^Lavf/) });
    // A wrong key on the shared port: BadName, told to the producers of that app.
    const wrong = await RtmpTestPublisher.publish({ port, key: 'studio-z-key-9' });
    expect(wrong.code).toBe('NetStream.Publish.BadName');
    await waitFor(() => a.p.messages.some((m) => /refused 127\.0\.0\.1: wrong stream key/.test(m.text)), 3000, 'the refusal told');
    // One producer stopping leaves the other on the port.
    await a.p.stop();
    await ff.stop();
    expect(b.p.mood).toBe('happy');
    publisher.close();
  }, 60000);
});
