// Where a feeder starts an eater (transport/feed/feed-stream.ts), and the cadence an eater learns
// (transport/feed/feed-flow.ts): pure bookkeeping, driven directly.
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../protocol/gdp';
import { Feeder, RESUME_WINDOW } from '../../../transport/feed/feeder';
import { FeedFlow, isMedia } from '../../../transport/feed/feed-flow';
import { buffer, caps, streamStart } from '../../helpers/frames';

const FEED = '/default/source:default';

/** A buffer of `size` bytes, `i` seconds in, a keyframe or not. */
const big = (i: number, key: boolean, size = 200 * 1024): GdpFrame =>
  toFrame({ kind: 'buffer', pts: i * 1e9, dts: null, duration: 1e9, offset: null, offsetEnd: null, flags: key ? 0 : BUFFER_FLAG.DELTA_UNIT, data: Buffer.alloc(size, i % 256) });

describe('a feeder numbers its buffers and says where each eater starts', () => {
  let feeder: Feeder;
  beforeEach(() => {
    feeder = new Feeder(FEED);
    feeder.frame(streamStart('s1'));
    feeder.frame(caps(8000));
  });
  afterEach(() => feeder.close());
  const plan = (resume: { stream: string; after: number } | null) => feeder.stream.plan(resume, feeder.sender.queue);

  it('starts a new eater at the latest keyframe, primed with the sticky packets', () => {
    feeder.frame(big(0, true, 100));
    feeder.frame(big(1, false, 100));
    feeder.frame(big(2, true, 100));
    feeder.frame(big(3, false, 100));
    const p = plan(null);
    expect(p.start).toMatchObject({ stream: feeder.stream.token, from: 2, head: 3, prime: 2, lost: 0 });
    expect(p.exact).toBe(false);
    expect(feeder.sender.queue.bufferAt(p.startAt)?.ptsMs).toBe(2000);
  });

  it('resumes right after the last buffer forwarded, with nothing before it and no priming', () => {
    for (let i = 0; i < 5; i++) feeder.frame(buffer(i));
    const p = plan({ stream: feeder.stream.token, after: 2 });
    expect(p.start).toMatchObject({ from: 3, head: 4, prime: 0, lost: 0 });
    expect(p.exact).toBe(true);
    expect(feeder.sender.queue.bufferAt(p.startAt)?.ptsMs).toBe(30);
    // Caught up: it waits for the next buffer.
    const q = plan({ stream: feeder.stream.token, after: 4 });
    expect(q.start).toMatchObject({ from: 5, prime: 0, lost: 0 });
    expect(q.startAt).toBe(feeder.sender.queue.nextSeq);
  });

  it('resumes across a new stream-start in order: the new stream reaches the eater in-band', () => {
    feeder.frame(buffer(0));
    feeder.frame(buffer(1));
    feeder.frame(streamStart('s2'));
    feeder.frame(caps(16000));
    feeder.frame(buffer(2));
    const p = plan({ stream: feeder.stream.token, after: 0 });
    expect(p.start).toMatchObject({ from: 1, prime: 0, lost: 0 });
    const q = feeder.sender.queue;
    const kinds: string[] = [];
    for (let s = p.startAt; s < q.nextSeq; s++) kinds.push(String(q.bufferAt(s)?.ptsMs ?? 'event'));
    expect(kinds).toEqual(['10', 'event', 'event', '20']);
    // A new eater starts in the new stream only, primed with it.
    const n = plan(null);
    expect(n.start).toMatchObject({ from: 2, prime: 2 });
  });

  it('resumes at the oldest keyframe still held when the resume point left the queue, and counts the loss', () => {
    // 30 buffers of 200 KiB, one a second, a keyframe every 4th: far more than the resume window.
    for (let i = 0; i < 30; i++) feeder.frame(big(i, i % 4 === 0));
    const q = feeder.sender.queue;
    expect(q.queuedBytes).toBeLessThan(30 * 200 * 1024);
    expect(q.queuedBytes).toBeGreaterThanOrEqual(RESUME_WINDOW.bytes);
    const p = plan({ stream: feeder.stream.token, after: 3 });
    expect(p.exact).toBe(false);
    expect(p.start.lost).toBe(p.start.from - 4);
    expect(p.start.lost).toBeGreaterThan(0);
    expect(p.start.from % 4).toBe(0); // a keyframe
    expect(p.start.prime).toBe(2);
    const first = q.bufferAt(p.startAt);
    expect(first?.keyframe).toBe(true);
    expect(first?.ptsMs).toBe(p.start.from * 1000);
    // The oldest keyframe held: nothing older is in the queue but delta units.
    for (let s = q.oldestSeq; s < p.startAt; s++) expect(q.bufferAt(s)?.keyframe ?? false).toBe(false);
  });

  it('does not resume the numbering of another feeder, nor a point it never reached', () => {
    for (let i = 0; i < 3; i++) feeder.frame(buffer(i));
    expect(plan({ stream: 'another0feeder', after: 1 }).start).toMatchObject({ from: 2, prime: 2, lost: 0 });
    expect(plan({ stream: feeder.stream.token, after: 7 }).start).toMatchObject({ from: 2, prime: 2, lost: 0 });
    const other = new Feeder(FEED);
    expect(other.stream.token).not.toBe(feeder.stream.token);
    other.close();
  });

  it('forgets the numbers of buffers the queue dropped: its memory is bounded as the queue is', () => {
    for (let i = 0; i < 20000; i++) feeder.frame(big(i, true, 1024));
    const kept = (feeder.stream as unknown as { seqs: number[] }).seqs.length;
    expect(kept).toBeLessThan(2 * feeder.sender.queue.length + 1024);
    expect(plan(null).start.from).toBe(19999);
  });

  it('says how long ago its newest buffer was queued', () => {
    const t = Date.now();
    feeder.stream.note(buffer(0), feeder.sender.queue.nextSeq, t - 5000);
    expect(feeder.stream.plan(null, feeder.sender.queue, t).start.idleMs).toBe(5000);
  });
});

describe('an eater learns the cadence of its feed', () => {
  const at0 = 1_000_000_000;
  it('allows 4 check intervals until it has watched the feed flow for one, then 2 × the largest gap within [1, 4] check intervals', () => {
    const f = new FeedFlow(1500);
    expect(f.bound(at0)).toBe(6000);
    // A burst (an upstream's burst on connect) teaches nothing yet.
    f.media(at0, null);
    for (let i = 1; i <= 16; i++) f.media(at0 + i, 1);
    expect(f.bound(at0 + 16)).toBe(6000);
    // Pages 1.7 s apart: learned with the first gap.
    f.media(at0 + 1716, 1700);
    expect(f.bound(at0 + 1716)).toBe(3400);
    // A dense feed: the check interval.
    const d = new FeedFlow(1500);
    for (let i = 1; i <= 200; i++) d.media(at0 + i * 20, 20);
    expect(d.bound(at0 + 4000)).toBe(1500);
    // Never past 4 check intervals, whatever the gaps.
    const s = new FeedFlow(1000);
    for (let i = 1; i <= 3; i++) s.media(at0 + i * 3000, 3000);
    expect(s.bound(at0 + 9000)).toBe(4000);
  });

  it('forgets gaps older than a minute', () => {
    const f = new FeedFlow(1500);
    for (let i = 1; i <= 5; i++) f.media(at0 + i * 1700, 1700);
    expect(f.bound(at0 + 9000)).toBe(3400);
    for (let i = 0; i < 200; i++) f.media(at0 + 9000 + i * 20, 20);
    expect(f.bound(at0 + 13000)).toBe(3400);
    for (let i = 0; i < 3500; i++) f.media(at0 + 13000 + i * 20, 20);
    expect(f.bound(at0 + 13000 + 3500 * 20)).toBe(1500);
  });

  it('counts buffers as media, never filler (GAP), codec headers (HEADER), caps or events', () => {
    const b = (flags: number) => toFrame({ kind: 'buffer', pts: 0, dts: null, duration: null, offset: null, offsetEnd: null, flags, data: Buffer.alloc(4) });
    expect(isMedia(b(0))).toBe(true);
    expect(isMedia(b(BUFFER_FLAG.DELTA_UNIT | BUFFER_FLAG.DISCONT))).toBe(true);
    expect(isMedia(b(BUFFER_FLAG.GAP))).toBe(false);
    expect(isMedia(b(BUFFER_FLAG.HEADER))).toBe(false);
    expect(isMedia(caps(8000))).toBe(false);
    expect(isMedia(streamStart('x'))).toBe(false);
  });
});
