// The HLS segmenter and playlist alone: segments cut at keyframes after the target duration,
// audio-only cut by time, a bounded window with the media sequence moving on, discontinuities
// counted, LL-HLS parts and preload hints; every playlist read back by hls-parser.

import * as HLS from 'hls-parser';
import { HlsSegmenter } from '../../../protocol/hls/segmenter';
import { renderPlaylist } from '../../../protocol/hls/playlist';

const packet = (n: number) => Buffer.alloc(188, n & 0xff);

/** 25 fps video: a buffer per frame, a keyframe every `gop` frames, from frame `from`. */
function feed(s: HlsSegmenter, frames: number, gop: number, from = 0, t0 = 1_700_000_000_000): void {
  for (let i = from; i < from + frames; i++) s.push(packet(i), i / 25, i % gop === 0, t0 + (i * 1000) / 25);
}

function parse(text: string): HLS.types.MediaPlaylist {
  const p = HLS.parse(text);
  if (!(p instanceof HLS.types.MediaPlaylist)) throw new Error('not a media playlist');
  return p;
}

describe('HLS segmenter', () => {
  it('cuts at the first keyframe after the target duration and slides a bounded window', () => {
    const s = new HlsSegmenter({ targetDuration: 2, partDuration: null, windowSize: 3 });
    s.setHeader([Buffer.from('PATPMT')]);
    feed(s, 25 * 13, 25); // 13 s, a keyframe each second
    const pl = parse(renderPlaylist(s, { prefix: 'live/', lowLatency: false, partDuration: 0.333 }));
    expect(pl.targetDuration).toBe(2);
    expect(pl.segments).toHaveLength(3);
    expect(pl.mediaSequenceBase).toBe(3);
    expect(pl.segments.map((x) => x.uri)).toEqual(['live/seg-3.ts', 'live/seg-4.ts', 'live/seg-5.ts']);
    for (const seg of pl.segments) expect(seg.duration).toBeCloseTo(2, 5);
    expect(pl.segments[0].programDateTime).toBeInstanceOf(Date);
    const first = s.segment(3);
    expect(first?.data?.subarray(0, 6).toString()).toBe('PATPMT'); // every segment starts with the header
    expect(first?.data?.[6]).toBe(150 & 0xff); // then the keyframe at frame 150 (6 s)
    expect(s.segments.length).toBeLessThanOrEqual(4);
  });

  it('cuts a stream without keyframe structure by time, and marks discontinuities', () => {
    const s = new HlsSegmenter({ targetDuration: 2, partDuration: null, windowSize: 4 });
    for (let i = 0; i < 50 * 5; i++) s.push(packet(i), i / 50, true, i * 20);
    s.discontinuity(5000);
    for (let i = 0; i < 50 * 5; i++) s.push(packet(i), i / 50, true, 5000 + i * 20);
    const text = renderPlaylist(s, { prefix: 'a/', lowLatency: false, partDuration: 0.333 });
    const pl = parse(text);
    expect(pl.segments.filter((x) => x.discontinuity)).toHaveLength(1);
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME/);
    for (const seg of pl.segments) expect(seg.duration).toBeLessThanOrEqual(2.5);
    // Once the discontinuous segment leaves the window, the discontinuity sequence counts it.
    for (let i = 250; i < 250 + 50 * 12; i++) s.push(packet(i), i / 50, true, 5000 + i * 20);
    expect(s.discontinuitySequence).toBe(1);
    expect(renderPlaylist(s, { prefix: 'a/', lowLatency: false, partDuration: 0.333 })).toMatch(/#EXT-X-DISCONTINUITY-SEQUENCE:1/);
  });

  it('lists LL-HLS parts, independent ones at keyframes, with a preload hint and server control', () => {
    const s = new HlsSegmenter({ targetDuration: 2, partDuration: 0.2, windowSize: 6 });
    feed(s, 25 * 5 + 3, 25);
    const text = renderPlaylist(s, { prefix: 'live/', lowLatency: true, partDuration: 0.2 });
    const pl = parse(text);
    expect(text).toMatch(/^#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0\.600$/m);
    expect(text).toMatch(/^#EXT-X-PART-INF:PART-TARGET=0\.200$/m);
    expect(text).toMatch(/^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="live\/part-2\.\d+\.ts"$/m);
    expect(pl.lowLatencyCompatibility?.canBlockReload).toBe(true);
    const parts = text.match(/^#EXT-X-PART:.*$/gm) ?? [];
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) expect(Number(/DURATION=([\d.]+)/.exec(p)?.[1])).toBeLessThanOrEqual(0.2 + 0.04 + 1e-9);
    const independent = parts.filter((p) => /INDEPENDENT=YES/.test(p));
    expect(independent.length).toBeGreaterThanOrEqual(2); // one at each keyframe (every second)
    // The current segment's complete parts are listed after the last complete segment.
    expect(text.trimEnd().split('\n').slice(-2)[0]).toMatch(/^#EXT-X-PART:/);
  });
});
