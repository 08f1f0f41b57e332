import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GdpFrame } from '../../../protocol/gdp';
import { testAudioType } from '../../../actors/components/test-audio';
import { mulawEncoderType, linearToMulaw, mulawToLinear } from '../../../actors/components/mulaw-encoder';
import { wavMuxerType } from '../../../actors/components/wav-muxer';
import { watchdogType, Watchdog } from '../../../actors/components/watchdog';
import { FeedFlow } from '../../../transport/feed/feed-flow';
import { Component } from '../../../actors/component/component';
import { describeGst, gstLaunch } from '../../helpers/gst';
import { waitFor } from '../../helpers/net';

function collect(c: Component<unknown>): GdpFrame[] {
  const out: GdpFrame[] = [];
  c.connectOutput('default', (f) => out.push(f));
  return out;
}

/** Wires a chain of components: each one's default feeder into the next one's default eater. */
function chain(...cs: Component<unknown>[]): GdpFrame[] {
  for (let i = 0; i + 1 < cs.length; i++) {
    const next = cs[i + 1];
    next.addFeed('default', `/t/${cs[i].name}:default`);
    cs[i].connectOutput('default', (f) => next.eat('default', `/t/${cs[i].name}:default`, f));
    next.feedConnected('default', `/t/${cs[i].name}:default`);
  }
  return collect(cs[cs.length - 1]);
}

describe('test-audio', () => {
  it('produces stream-start, caps, segment, then a real-time sine with contiguous timestamps', async () => {
    const c = testAudioType.create('src', testAudioType.properties.parse({ rate: 8000, 'samples-per-buffer': 80 }));
    const out = collect(c);
    const t0 = Date.now();
    await c.start();
    expect(c.mood).toBe('happy');
    await new Promise((r) => setTimeout(r, 500));
    await c.stop();
    const elapsed = (Date.now() - t0) / 1000;
    expect(out[0].eventName).toBe('stream-start');
    expect(out[1].text).toBe('audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)8000, channels=(int)1');
    expect(out[2].eventName).toBe('segment');
    const bufs = out.filter((f) => f.kind === 'buffer');
    const seconds = bufs.length * 0.01;
    expect(seconds).toBeLessThanOrEqual(elapsed + 0.011);
    expect(seconds).toBeGreaterThan(0.3);
    bufs.forEach((b, i) => {
      expect(b.pts).toBe(BigInt(i) * 10_000_000n);
      expect(b.offset).toBe(BigInt(i * 80));
      expect(b.payloadLength).toBe(160);
    });
    expect(bufs[0].bufferFlags & 0x40).toBe(0x40); // DISCONT first
  });
});

describe('mulaw-encoder', () => {
  it('encodes G.711 µ-law like the reference tables', () => {
    expect([0, 1, -1, 32767, -32768, 1000, -1000].map(linearToMulaw)).toEqual([0xff, 0xff, 0x7f, 0x80, 0x00, 0xce, 0x4e]);
    for (let s = -32768; s < 32768; s += 97) expect(Math.abs(mulawToLinear(linearToMulaw(s)) - Math.max(-32124, Math.min(32124, s)))).toBeLessThan(1100);
  });

  it('turns raw audio caps into audio/x-mulaw and halves the payload', async () => {
    const src = testAudioType.create('src', testAudioType.properties.parse({}));
    const enc = mulawEncoderType.create('enc', {});
    await enc.start();
    const out = chain(src, enc);
    await src.start();
    await waitFor(() => out.filter((f) => f.kind === 'buffer').length >= 3);
    await src.stop();
    expect(out.find((f) => f.kind === 'caps')?.text).toBe('audio/x-mulaw, rate=(int)8000, channels=(int)1');
    expect(out.find((f) => f.kind === 'buffer')?.payloadLength).toBe(160);
    expect(enc.mood).toBe('happy');
  });
});

describeGst('wav-muxer', () => {
  it('makes a WAV stream that GStreamer decodes, for PCM and for µ-law', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-wav-'));
    try {
      for (const mulaw of [false, true]) {
        const src = testAudioType.create('src', testAudioType.properties.parse({}));
        const mux = wavMuxerType.create('mux', {});
        const parts = mulaw ? [src, mulawEncoderType.create('enc', {}), mux] : [src, mux];
        for (const p of parts.slice(1)) await p.start();
        const out = chain(...parts);
        await src.start();
        await waitFor(() => out.filter((f) => f.kind === 'buffer').length >= 30);
        await src.stop();
        const caps = out.find((f) => f.kind === 'caps')?.text ?? '';
        expect(caps).toMatch(/^audio\/x-wav, streamheader=\(buffer\)< 52494646/);
        const bytes = Buffer.concat(out.filter((f) => f.kind === 'buffer').map((f) => f.payload));
        const file = path.join(dir, `t-${mulaw}.wav`);
        fs.writeFileSync(file, bytes);
        const run = gstLaunch(['-v', 'filesrc', `location=${file}`, '!', 'wavparse', '!', 'fakesink', 'silent=false']);
        expect(run.out).toContain(mulaw ? 'audio/x-mulaw' : 'audio/x-raw, format=(string)S16LE');
        expect(run.status).toBe(0);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('watchdog', () => {
  it('feeds from master, falls back to backup, returns to master, and stays happy while either flows', async () => {
    const w = watchdogType.create('wd', {}) as Watchdog;
    w.addFeed('master', '/t/m:default');
    w.addFeed('backup', '/t/b:default');
    const out = collect(w);
    await w.start();
    expect(w.mood).toBe('hungry');
    w.feedConnected('backup', '/t/b:default');
    expect(w.mood).toBe('happy');
    w.feedConnected('master', '/t/m:default');
    expect(w.activeEater).toBe('master');
    const src = (tag: number) => testAudioType.create(`s${tag}`, testAudioType.properties.parse({ frequency: 100 * tag }));
    const m = src(1);
    const b = src(2);
    m.connectOutput('default', (f) => w.eat('master', '/t/m:default', f));
    b.connectOutput('default', (f) => w.eat('backup', '/t/b:default', f));
    await m.start();
    await b.start();
    await new Promise((r) => setTimeout(r, 100));
    const mark = out.length;
    w.feedDisconnected('master', '/t/m:default');
    expect(w.activeEater).toBe('backup');
    expect(w.mood).toBe('happy');
    expect(out[mark].eventName).toBe('stream-start'); // backup's sticky events first
    expect(out[mark + 1].text).toContain('audio/x-raw');
    w.feedConnected('master', '/t/m:default');
    expect(w.activeEater).toBe('master');
    w.feedDisconnected('master', '/t/m:default');
    w.feedDisconnected('backup', '/t/b:default');
    expect(w.mood).toBe('hungry');
    await m.stop();
    await b.stop();
    expect(w.switches.map((s) => s.to)).toEqual(['backup', 'master', 'backup', 'master', 'backup', null]);
  });

  it("switches to backup when master brought no media for 3/4 of its bound, before master's eater gives it up, and back when master's media flows", async () => {
    const w = watchdogType.create('wd', {}) as Watchdog;
    w.addFeed('master', '/t/m:default');
    w.addFeed('backup', '/t/b:default');
    const flows = new Map([['/t/m:default', new FeedFlow(400)], ['/t/b:default', new FeedFlow(400)]]);
    w.feedFlow = (feed) => flows.get(feed);
    collect(w);
    const moods: string[] = [];
    await w.start();
    let masterOn = true;
    const last = new Map<string, number>();
    const media = (feed: string) => {
      const now = Date.now();
      const prev = last.get(feed);
      last.set(feed, now);
      flows.get(feed)!.media(now, prev === undefined ? null : now - prev);
    };
    const pump = setInterval(() => {
      if (masterOn) media('/t/m:default');
      media('/t/b:default');
    }, 20);
    try {
      w.feedConnected('master', '/t/m:default');
      w.feedConnected('backup', '/t/b:default');
      expect(w.mood).toBe('happy');
      w.on('mood', (m) => moods.push(m));
      await new Promise((r) => setTimeout(r, 1000)); // the cadence is learned: a bound of 400 ms
      expect(flows.get('/t/m:default')!.bound()).toBe(400);
      expect(w.activeEater).toBe('master');
      masterOn = false;
      const t0 = Date.now();
      await waitFor(() => w.activeEater === 'backup', 2000, 'the switch');
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(400); // before the bound: master's eater has not given it up yet
      masterOn = true;
      await waitFor(() => w.activeEater === 'master', 2000, 'back to master');
      expect(moods).toEqual([]); // happy throughout
      expect(w.mood).toBe('happy');
    } finally {
      clearInterval(pump);
      await w.stop();
    }
  });
});
