// rtmp-producer with a real publisher (ffmpeg -f flv rtmp://...): a wrong key is refused, the
// buffers arrive with H.264 and AAC caps, timestamps and correct keyframe flags, the moods follow
// the publisher, and GStreamer decodes what came through.

import { spawn } from 'child_process';
import { BUFFER_FLAG, GdpFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { RtmpProducer, rtmpProducerType } from '../../../../actors/components/rtmp-producer';
import { describeFfmpeg, runFfmpeg } from '../../../helpers/ffmpeg';
import { gstAvailable } from '../../../helpers/gst';
import { waitFor } from '../../../helpers/net';

const KEY = 'obs-stream-key-42';

function publish(port: number, key: string, seconds = 60) {
  return runFfmpeg([
    '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-g', '50', '-bf', '2', '-c:a', 'aac', '-t', String(seconds),
    '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`,
  ]);
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
