// srt-producer with a real SRT caller (ffmpeg pushing H.264 + AAC in MPEG-TS): elementary
// streams with their caps and keyframe flags, the passphrase, moods through a stall, a hang-up
// and a return.

import { BUFFER_FLAG, GdpFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { SrtProducer, srtProducerType } from '../../../../actors/components/srt-producer';
import { describeFfmpeg, runFfmpeg } from '../../../helpers/ffmpeg';
import { waitFor } from '../../../helpers/net';
import { freePort } from '../../../helpers/planet';

const PASSPHRASE = 'studio-srt-passphrase';

function push(port: number, passphrase: string | null, seconds = 60) {
  const q = passphrase ? `&passphrase=${passphrase}&pbkeylen=16` : '';
  return runFfmpeg([
    '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac', '-t', String(seconds),
    '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=caller${q}`,
  ]);
}

/** A caller that dials again when its connection fails, as OBS does (ffmpeg alone gives up). */
function pushUntilStopped(port: number, passphrase: string) {
  let current = push(port, passphrase);
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      await current.exited;
      if (stopped) return;
      await new Promise((r) => setTimeout(r, 300));
      if (!stopped) current = push(port, passphrase);
    }
  };
  void loop();
  return {
    stop: async () => {
      stopped = true;
      await current.stop();
    },
  };
}

describeFfmpeg('srt-producer with a real SRT caller', () => {
  let p: SrtProducer | null = null;
  afterEach(async () => {
    await p?.stop();
    p = null;
  });

  it('demuxes H.264 and AAC with keyframes marked, follows the caller through a stall, a hang-up and a return, and refuses a wrong passphrase', async () => {
    const port = await freePort();
    p = srtProducerType.create('srt', srtProducerType.properties.parse({ port, passphrase: PASSPHRASE, 'source-timeout': 1.5 })) as SrtProducer;
    const out: Record<string, GdpFrame[]> = { video: [], audio: [], default: [] };
    for (const f of ['video', 'audio', 'default']) p.connectOutput(f, (x) => out[f].push(x));
    await p.start();
    expect(p.mood).toBe('hungry');

    // A caller without the passphrase gets nowhere.
    const stranger = push(port, null, 3);
    await stranger.exited;
    expect(p.mood).toBe('hungry');
    expect(out.video.filter((f) => f.kind === 'buffer')).toHaveLength(0);

    const obs = push(port, PASSPHRASE);
    await waitFor(() => p?.mood === 'happy', 15000, 'happy with a caller');
    await waitFor(() => out.video.filter((f) => f.kind === 'buffer').length > 60, 10000, 'video buffers');
    expect(out.video.find((f) => f.kind === 'caps')?.text).toMatch(/^video\/x-h264, stream-format=\(string\)byte-stream, .*alignment=\(string\)au, profile=\(string\)constrained-baseline/);
    expect(out.audio.find((f) => f.kind === 'caps')?.text).toMatch(/^audio\/mpeg, .*mpegversion=\(int\)4.*stream-format=\(string\)adts/);
    const vbufs = out.video.filter((f) => f.kind === 'buffer');
    const keys = vbufs.map((f, i) => ((f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0 ? i : -1)).filter((i) => i >= 0);
    expect(keys[0]).toBe(0); // the first buffer out is a keyframe
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(keys[1] - keys[0]).toBe(25); // -g 25: one keyframe a second, the others delta units
    expect(out.default).toHaveLength(0);

    const starts = () => out.video.filter((f) => f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start']).map((f) => f.text);
    const firstStream = starts().at(-1);

    // A stall (the caller frozen, its socket open): hungry within the source timeout.
    obs.child.kill('SIGSTOP');
    const stalled = Date.now();
    await waitFor(() => p?.mood === 'hungry', 5000, 'hungry after the stall');
    expect(Date.now() - stalled).toBeLessThan(1500 + 1000);
    obs.child.kill('SIGKILL');
    await obs.exited;

    // A new caller: happy again, as a new stream (the listener set up anew may announce its
    // stream before the caller arrives; either way the stream is not the first one).
    const again = pushUntilStopped(port, PASSPHRASE);
    await waitFor(() => p?.mood === 'happy', 15000, 'happy with the next caller');
    // (happy may come with the first audio buffer, before the video feeder's stream-start)
    await waitFor(() => starts().at(-1) !== firstStream, 5000, 'a new video stream');
    expect(new Set(starts()).size).toBe(starts().length);
    // The caller hangs up: hungry.
    await again.stop();
    await waitFor(() => p?.mood === 'hungry', 8000, 'hungry after the hang-up');
  }, 90000);

  it('passes the TS through as it is with output: ts', async () => {
    const port = await freePort();
    p = srtProducerType.create('srt', srtProducerType.properties.parse({ port, output: 'ts' })) as SrtProducer;
    const ts: GdpFrame[] = [];
    p.connectOutput('default', (x) => ts.push(x));
    await p.start();
    const caller = push(port, null, 30);
    await waitFor(() => p?.mood === 'happy', 15000, 'happy');
    await waitFor(() => ts.filter((f) => f.kind === 'buffer').length > 10, 5000, 'TS buffers');
    expect(ts.find((f) => f.kind === 'caps')?.text).toMatch(/^video\/mpegts, systemstream=\(boolean\)true/);
    const b = ts.find((f) => f.kind === 'buffer');
    expect(b?.payload[0]).toBe(0x47); // TS sync byte
    expect((b?.payload.length ?? 0) % 188).toBe(0);
    await caller.stop();
  }, 40000);
});
