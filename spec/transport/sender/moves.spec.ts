// A client that moves between senders, and one written an intro first: the queue's held clients
// and `notBefore`, the sender's detach (flush, reason `moved`, socket left open) and intro, and
// ICY metadata framed per listener, over real sockets.

import * as net from 'net';
import { BufferQueue, SenderBuffer } from '../../../transport/sender/buffer-queue';
import { MultiClientSender } from '../../../transport/sender/multi-client-sender';
import { ClientHandle, StreamHandle } from '../../../transport/sender/handles';
import { IcyFramedHandle } from '../../../transport/sender/icy-framed-handle';
import { IcyInput, icyBlock } from '../../../transport/sender/icy-input';
import { RemoveReason, senderLimits } from '../../../transport/sender/policy';
import { Reader, connect, listen, waitFor } from '../../helpers/net';

function buf(i: number, size = 10, keyframe = true): SenderBuffer {
  return { chunks: [Buffer.alloc(size, i & 0xff)], size, ptsMs: i * 10, keyframe };
}

function drain(q: BufferQueue, id: number): number[] {
  const out: number[] = [];
  for (let b = q.take(id); b; b = q.take(id)) out.push(...b.chunks.map((c) => c[0]));
  return out;
}

describe('BufferQueue: held clients and notBefore', () => {
  it('leaves a held client unplaced by pushes until it joins, then places it by its sync method', () => {
    const q = new BufferQueue(senderLimits({ syncMethod: 'burst-keyframe', burst: { format: 'buffers', value: 2 } }));
    for (let i = 1; i <= 3; i++) q.push(buf(i));
    const c = q.addClient({}, true);
    q.push(buf(4));
    q.push(buf(5));
    expect(q.take(c.id)).toBeNull();
    q.join(c.id);
    expect(drain(q, c.id)).toEqual([4, 5]); // a burst of two, as of when it joined
  });

  it('never starts a client before notBefore, and waits for a keyframe after it', () => {
    const q = new BufferQueue(senderLimits({ syncMethod: 'burst-keyframe', burst: { format: 'buffers', value: 10 }, buffersMin: 10 }));
    for (let i = 1; i <= 5; i++) q.push(buf(i)); // the old stream, all keyframes
    const from = q.nextSeq;
    q.push(buf(6, 10, false)); // the new stream begins with a delta unit
    const c = q.addClient({ notBefore: from });
    expect(q.take(c.id)).toBeNull();
    q.push(buf(7, 10, true));
    q.push(buf(8, 10, false));
    expect(drain(q, c.id)).toEqual([7, 8]);
    const d = q.addClient({ syncMethod: 'latest-keyframe', notBefore: from });
    expect(drain(q, d.id)).toEqual([7, 8]);
  });
});

describe('MultiClientSender: detach and intro over real sockets', () => {
  let server: net.Server;
  let port: number;
  const senders: MultiClientSender[] = [];
  const sockets: net.Socket[] = [];
  const readers: Reader[] = [];

  async function setup(): Promise<void> {
    ({ server, port } = await listen((s) => sockets.push(s)));
  }

  async function client(): Promise<{ reader: Reader; socket: net.Socket }> {
    const before = sockets.length;
    const reader = await connect(port);
    readers.push(reader);
    await waitFor(() => sockets.length > before, 5000, 'accepted');
    return { reader, socket: sockets[sockets.length - 1] };
  }

  function sender(limits: ConstructorParameters<typeof MultiClientSender>[0] = {}): MultiClientSender {
    const s = new MultiClientSender(limits);
    senders.push(s);
    return s;
  }

  afterEach(async () => {
    for (const r of readers.splice(0)) r.socket.destroy();
    for (const s of senders.splice(0)) s.close();
    sockets.length = 0;
    await new Promise((r) => server.close(() => r(undefined)));
  });

  it('detaches a client after what was queued for it, socket open, and another sender serves it on', async () => {
    await setup();
    const a = sender({ syncMethod: 'latest', writeIntervalMs: 10000, writeThresholdBytes: 1 << 20 }); // batched: nothing written yet
    const b = sender({ syncMethod: 'latest-keyframe' });
    b.setStreamheader([Buffer.from('HEAD')]);
    const removed: Array<[RemoveReason, number]> = [];
    a.on('client-removed', (_id, reason, stats) => removed.push([reason, stats.bytesSent]));
    const { reader, socket } = await client();
    const id = a.add(new StreamHandle(socket, { owned: true })) as number;
    a.push(buf(1, 100));
    a.push(buf(2, 100));
    const connectTime = a.stats(id)?.connectTime;
    for (let i = 10; i < 13; i++) b.push(buf(i, 100));
    const detached = await new Promise<{ handle: ClientHandle } | null>((resolve) => expect(a.detach(id, resolve)).toBe(true));
    expect(detached).not.toBeNull();
    expect(removed).toEqual([['moved', 200]]);
    expect(a.clientCount).toBe(0);
    expect(socket.destroyed).toBe(false);
    const id2 = b.add(detached!.handle, { connectTime });
    expect(b.stats(id2!)?.connectTime).toBe(connectTime);
    b.push(buf(13, 100));
    await waitFor(() => reader.bytes >= 200 + 4 + 200, 5000, 'both streams');
    const d = reader.data();
    expect([d[0], d[100]]).toEqual([1, 2]); // what was queued in a, flushed at once
    expect(d.toString('latin1', 200, 204)).toBe('HEAD'); // then b's streamheader and b from its latest keyframe
    expect([d[204], d[304]]).toEqual([12, 13]);
    expect(d.length).toBe(404);
    // Closing it now is a removal of b's, not of a's.
    reader.socket.destroy();
    await waitFor(() => b.clientCount === 0, 5000, 'b removes it');
    expect(removed).toHaveLength(1);
  });

  it('reports null when a client being detached leaves another way first', async () => {
    await setup();
    const a = sender();
    const { reader, socket } = await client();
    const id = a.add(new StreamHandle(socket, { owned: true })) as number;
    // Its peer pushes back: a large queued buffer cannot be flushed at once.
    reader.socket.pause();
    a.push(buf(1, 8 * 1024 * 1024));
    const result = new Promise((resolve) => a.detach(id, resolve));
    expect(a.detach(id, () => undefined)).toBe(false); // already leaving
    a.remove(id, 'removed');
    await expect(result).resolves.toBeNull();
  });

  it('writes an intro first and places the client in the stream only once the intro is taken', async () => {
    await setup();
    const s = sender({ syncMethod: 'burst-keyframe', burst: { format: 'buffers', value: 1 } });
    s.setStreamheader([Buffer.from('HEAD')]);
    for (let i = 1; i <= 3; i++) s.push(buf(i, 100));
    const { reader, socket } = await client();
    reader.socket.pause(); // a reader that takes its time over a large intro
    const intro = Buffer.alloc(4 * 1024 * 1024, 0xee);
    s.add(new StreamHandle(socket, { owned: true }), { intro: [intro] });
    for (let i = 4; i <= 20; i++) s.push(buf(i, 100)); // while the intro is on its way
    expect(s.queue.queuedBytes).toBeLessThanOrEqual(300); // nothing is kept for it meanwhile
    reader.socket.resume();
    await waitFor(() => reader.bytes >= intro.length + 4 + 100, 10000, 'the intro, then the stream');
    s.push(buf(21, 100));
    await waitFor(() => reader.bytes >= intro.length + 4 + 200, 5000, 'live data');
    const d = reader.data();
    expect(d.subarray(0, intro.length).equals(intro)).toBe(true);
    expect(d.toString('latin1', intro.length, intro.length + 4)).toBe('HEAD');
    expect(d[intro.length + 4]).toBe(20); // its burst, as of when it joined
    expect(d[intro.length + 104]).toBe(21);
  });

  it('frames ICY metadata for one listener, its count going on across senders', async () => {
    await setup();
    const shared = sender({ syncMethod: 'latest' });
    const icy = new IcyInput(shared, 64);
    icy.setTitle('First');
    const { reader, socket } = await client();
    const id = shared.add(new StreamHandle(socket, { owned: true })) as number;
    icy.data(Buffer.alloc(100, 1), null); // a keyframe at the unit start places it
    await waitFor(() => reader.bytes > 0, 5000, 'first bytes');
    const left = icy.position;
    const d = await new Promise<{ handle: ClientHandle } | null>((resolve) => shared.detach(id, resolve));
    const plain = sender({ syncMethod: 'latest' });
    const framed = new IcyFramedHandle(d!.handle, 64, left, () => 'Second');
    plain.add(framed);
    plain.push(buf(2, 150));
    const first = icyBlock('First');
    const second = icyBlock('Second');
    const expected = Buffer.concat([Buffer.alloc(64, 1), first, Buffer.alloc(36, 1), Buffer.alloc(28, 2), second, Buffer.alloc(64, 2), second, Buffer.alloc(58, 2)]);
    await waitFor(() => reader.bytes >= expected.length, 5000, 'framed bytes');
    expect(reader.data().equals(expected)).toBe(true);
  });
});
