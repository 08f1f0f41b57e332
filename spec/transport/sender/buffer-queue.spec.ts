import fc from 'fast-check';
import { BufferQueue, SenderBuffer, WAITING } from '../../../transport/sender/buffer-queue';
import { SenderLimitsInput, senderLimits } from '../../../transport/sender/policy';

function buf(i: number, opts: { keyframe?: boolean; size?: number } = {}): SenderBuffer {
  const size = opts.size ?? 10;
  const b = Buffer.alloc(size, i & 0xff);
  return { chunks: [b], size, ptsMs: i * 100, keyframe: opts.keyframe ?? true };
}

function queue(limits: SenderLimitsInput = {}): BufferQueue {
  return new BufferQueue(senderLimits(limits));
}

/** Takes everything available for a client and returns the first byte of each chunk (the buffer index). */
function drain(q: BufferQueue, id: number): number[] {
  const out: number[] = [];
  for (let b = q.take(id); b; b = q.take(id)) out.push(...b.chunks.map((c) => c[0]));
  return out;
}

describe('BufferQueue', () => {
  it('serves a latest client from the first buffer queued after it joined', () => {
    const q = queue();
    q.push(buf(1));
    const c = q.addClient();
    expect(q.take(c.id)).toBeNull();
    q.push(buf(2));
    q.push(buf(3));
    expect(drain(q, c.id)).toEqual([2, 3]);
  });

  it('gives a late joiner the streamheader first, then data from the latest keyframe', () => {
    const q = queue({ syncMethod: 'latest-keyframe' });
    q.setStreamheader([Buffer.from([0xaa]), Buffer.from([0xbb])]);
    for (let i = 1; i <= 6; i++) q.push(buf(i, { keyframe: i % 3 === 1 })); // keyframes 1, 4
    const c = q.addClient();
    expect(drain(q, c.id)).toEqual([0xaa, 0xbb, 4, 5, 6]);
  });

  it('makes a next-keyframe client wait for a keyframe', () => {
    const q = queue({ syncMethod: 'next-keyframe' });
    q.push(buf(1));
    const c = q.addClient();
    q.push(buf(2, { keyframe: false }));
    expect(q.take(c.id)).toBeNull();
    q.push(buf(3));
    q.push(buf(4, { keyframe: false }));
    expect(drain(q, c.id)).toEqual([3, 4]);
  });

  it.each([
    [{ format: 'buffers' as const, value: 3 }, [8, 9, 10]],
    [{ format: 'bytes' as const, value: 25 }, [8, 9, 10]],
    [{ format: 'time' as const, value: 250 }, [7, 8, 9, 10]],
  ])('bursts at least %j on connect', (burst, expected) => {
    const q = queue({ syncMethod: 'burst', burst }); // the burst itself keeps enough history
    for (let i = 1; i <= 10; i++) q.push(buf(i));
    expect(drain(q, q.addClient().id)).toEqual(expected);
  });

  it('starts burst-keyframe on a keyframe older than the burst, within the maximum', () => {
    const q = queue({ syncMethod: 'burst-keyframe', burst: { format: 'buffers', value: 2 }, burstMax: { format: 'buffers', value: 6 } });
    for (let i = 1; i <= 10; i++) q.push(buf(i, { keyframe: i === 1 || i === 6 }));
    expect(drain(q, q.addClient().id)).toEqual([6, 7, 8, 9, 10]);
  });

  it('keeps the whole burst back to its keyframe for clients that join later, and no more', () => {
    const q = queue({ burst: { format: 'bytes', value: 35 } }); // 10-byte buffers, no client at all
    for (let i = 1; i <= 30; i++) q.push(buf(i, { keyframe: i % 10 === 1 })); // keyframes 1, 11, 21
    expect(q.length).toBe(10); // from keyframe 21: the burst point (27) reaches back to it
    const c = q.addClient({ syncMethod: 'burst-keyframe', burst: { format: 'bytes', value: 35 } });
    expect(drain(q, c.id)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    q.push(buf(31, { keyframe: true }));
    for (let i = 32; i <= 40; i++) q.push(buf(i, { keyframe: false }));
    expect(q.length).toBe(10); // 31..40: keyframe 31 is the one the burst now needs
  });

  it('starts burst-keyframe at the next keyframe when none is old enough, never mid-way', () => {
    const q = queue({ burst: { format: 'bytes', value: 1000 }, maxQueueBytes: 50 });
    for (let i = 1; i <= 10; i++) q.push(buf(i, { keyframe: i === 1 })); // the bound cut keyframe 1 away
    const c = q.addClient({ syncMethod: 'burst-keyframe', burst: { format: 'bytes', value: 1000 } });
    expect(q.take(c.id)).toBeNull();
    q.push(buf(11, { keyframe: false }));
    expect(q.take(c.id)).toBeNull();
    q.push(buf(12, { keyframe: true }));
    q.push(buf(13, { keyframe: false }));
    expect(drain(q, c.id)).toEqual([12, 13]);
  });

  it('removes a client past the hard limit only if it is really behind', () => {
    const q = queue({ unitFormat: 'bytes', unitsMax: 30 });
    const fast = q.addClient();
    const stuck = q.addClient();
    q.push(buf(1));
    const removed = [2, 3, 4].flatMap((i) => q.push(buf(i), (id) => id === stuck.id)); // one burst from upstream
    expect(removed.map(([c, r]) => [c.id, r])).toEqual([[stuck.id, 'slow']]);
    expect(drain(q, fast.id)).toEqual([1, 2, 3, 4]);
  });

  it('shares one batch between clients at the same position', () => {
    const q = queue();
    const a = q.addClient();
    const b = q.addClient();
    q.push(buf(1));
    q.push(buf(2));
    const ba = q.take(a.id);
    const bb = q.take(b.id);
    expect(bb).toBe(ba);
    expect(a.stats.buffersSent).toBe(2);
    expect(b.stats.buffersSent).toBe(2);
  });

  it('starts burst-with-keyframe at the burst point when no keyframe is in range', () => {
    const q = queue({ syncMethod: 'burst-with-keyframe', burst: { format: 'buffers', value: 2 }, burstMax: { format: 'buffers', value: 3 } });
    for (let i = 1; i <= 10; i++) q.push(buf(i, { keyframe: i === 1 }));
    expect(drain(q, q.addClient().id)).toEqual([9, 10]);
  });

  it.each([
    ['resync-latest', [], 4],
    ['resync-soft-limit', [3, 4, 5], 1],
    ['resync-keyframe', [4, 5], 2],
  ] as const)('recovers a client that reaches the soft limit with %s and counts the dropped buffers', (policy, expected, dropped) => {
    const q = queue({ recoverPolicy: policy, unitsSoftMax: 4, unitsMax: 100 });
    q.push(buf(0));
    const slow = q.addClient();
    const fast = q.addClient();
    q.push(buf(1));
    expect(drain(q, slow.id)).toEqual([1]);
    for (let i = 2; i <= 5; i++) {
      q.push(buf(i, { keyframe: i === 4 }));
      expect(drain(q, fast.id)).toEqual(i === 2 ? [1, 2] : [i]);
    }
    expect(drain(q, slow.id)).toEqual(expected);
    expect(q.cursor(slow.id)?.stats.buffersDropped).toBe(dropped);
    q.push(buf(6));
    expect(drain(q, slow.id)).toEqual([6]);
    expect(drain(q, fast.id)).toEqual([6]);
  });

  it('removes a client as slow at the hard limit while others keep every buffer', () => {
    const q = queue({ unitFormat: 'bytes', unitsMax: 50 });
    q.push(buf(0));
    const slow = q.addClient();
    const fast = q.addClient();
    const removed: Array<[number, string]> = [];
    const got: number[] = [];
    for (let i = 1; i <= 8; i++) {
      removed.push(...q.push(buf(i)).map(([c, r]): [number, string] => [c.id, r]));
      got.push(...drain(q, fast.id));
    }
    expect(removed).toEqual([[slow.id, 'slow']]);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(q.queuedBytes).toBeLessThanOrEqual(50);
  });

  it('resends a changed streamheader only when resend-streamheader is on', () => {
    for (const resend of [true, false]) {
      const q = queue({ resendStreamheader: resend });
      q.setStreamheader([Buffer.from([0xaa])]);
      const c = q.addClient();
      q.push(buf(1));
      expect(drain(q, c.id)).toEqual([0xaa, 1]);
      q.setStreamheader([Buffer.from([0xbb])]);
      q.push(buf(2));
      expect(drain(q, c.id)).toEqual(resend ? [0xbb, 2] : [2]);
      const late = q.addClient({ syncMethod: 'burst', burst: { format: 'buffers', value: 1 } });
      expect(drain(q, late.id)).toEqual([0xbb, 2]);
    }
  });

  it('lets a flushing client finish what was queued, then reports it done', () => {
    const q = queue();
    const c = q.addClient();
    q.push(buf(1));
    q.push(buf(2));
    q.flushClient(c.id);
    q.push(buf(3));
    expect(q.flushDone(c.id)).toBe(false);
    expect(drain(q, c.id)).toEqual([1, 2]);
    expect(q.flushDone(c.id)).toBe(true);
  });

  it('keeps positions valid and memory bounded for any sequence of operations', () => {
    type Op = { op: 'push'; size: number; key: boolean } | { op: 'add'; method: number } | { op: 'take'; who: number; max: number } | { op: 'remove'; who: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('push' as const), size: fc.integer({ min: 0, max: 3000 }), key: fc.boolean() }),
      fc.record({ op: fc.constant('add' as const), method: fc.nat(5) }),
      fc.record({ op: fc.constant('take' as const), who: fc.nat(), max: fc.integer({ min: 1, max: 5000 }) }),
      fc.record({ op: fc.constant('remove' as const), who: fc.nat() }),
    );
    const methods = ['latest', 'next-keyframe', 'latest-keyframe', 'burst', 'burst-keyframe', 'burst-with-keyframe'] as const;
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 200 }),
        fc.constantFrom('none', 'resync-latest', 'resync-soft-limit', 'resync-keyframe'),
        fc.constantFrom('buffers', 'bytes', 'time'),
        (ops, recoverPolicy, unitFormat) => {
          const maxQueueBytes = 20000;
          const unitsMax = unitFormat === 'bytes' ? 15000 : unitFormat === 'time' ? 1500 : 12;
          const q = queue({ recoverPolicy, unitFormat, unitsMax, unitsSoftMax: unitsMax / 2, maxQueueBytes, burst: { format: unitFormat, value: unitsMax / 3 }, bytesMin: 4000 });
          let i = 0;
          for (const o of ops) {
            if (o.op === 'push') q.push({ chunks: [Buffer.alloc(o.size)], size: o.size, ptsMs: i++ * 100, keyframe: o.key });
            else if (o.op === 'add') q.addClient({ syncMethod: methods[o.method] });
            else {
              const ids = q.clientIds();
              if (!ids.length) continue;
              const id = ids[o.who % ids.length];
              if (o.op === 'take') q.take(id, o.max);
              else q.removeClient(id);
            }
            expect(q.queuedBytes).toBeLessThanOrEqual(maxQueueBytes + 3000);
            for (const id of q.clientIds()) {
              const c = q.cursor(id)!;
              if (c.next !== WAITING) {
                expect(c.next).toBeGreaterThanOrEqual(q.nextSeq - q.length);
                expect(c.next).toBeLessThanOrEqual(q.nextSeq);
                expect(q.lag(c.next, unitFormat)).toBeLessThan(unitsMax + (unitFormat === 'bytes' ? 3000 : unitFormat === 'time' ? 100 : 1));
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
