import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { MultiClientSender } from '../../../transport/sender/multi-client-sender';
import { FdHandle, StreamHandle, openFileHandle } from '../../../transport/sender/handles';
import { SenderBuffer } from '../../../transport/sender/buffer-queue';
import { RemoveReason } from '../../../transport/sender/policy';
import { connect, listen, waitFor, Reader } from '../../helpers/net';

/** Buffer i: `size` bytes, each the low byte of i, keyframe every `gop` buffers. */
function buf(i: number, size = 1000, gop = 1): SenderBuffer {
  return { chunks: [Buffer.alloc(size, i & 0xff)], size, ptsMs: i * 10, keyframe: i % gop === 0 };
}

/** The sequence of buffer indexes a reader received (consecutive runs of equal bytes of `size`). */
function indexes(data: Buffer, size: number, skip = 0): number[] {
  const out: number[] = [];
  for (let at = skip; at + size <= data.length; at += size) out.push(data[at]);
  return out;
}

describe('MultiClientSender over real sockets', () => {
  let server: net.Server;
  let port: number;
  let sender: MultiClientSender;
  const readers: Reader[] = [];
  const removed: Array<[number, RemoveReason]> = [];

  async function setup(limits: ConstructorParameters<typeof MultiClientSender>[0] = {}): Promise<void> {
    sender = new MultiClientSender(limits);
    sender.on('client-removed', (id, reason) => removed.push([id, reason]));
    ({ server, port } = await listen((s) => sender.add(new StreamHandle(s, { owned: true }))));
  }

  async function client(): Promise<Reader> {
    const before = sender.clientCount;
    const r = await connect(port);
    readers.push(r);
    await waitFor(() => sender.clientCount > before, 5000, 'client added');
    return r;
  }

  afterEach(async () => {
    for (const r of readers.splice(0)) r.socket.destroy();
    sender.close();
    removed.length = 0;
    await new Promise((r) => server.close(() => r(undefined)));
  });

  it('gives a late joiner the streamheader, then data from the latest keyframe, in order', async () => {
    await setup({ syncMethod: 'latest-keyframe' });
    sender.setStreamheader([Buffer.from('HEAD')]);
    for (let i = 0; i < 25; i++) sender.push(buf(i, 100, 10));
    const r = await client();
    for (let i = 25; i < 30; i++) sender.push(buf(i, 100, 10));
    await waitFor(() => r.bytes >= 4 + 10 * 100);
    expect(r.data().subarray(0, 4).toString()).toBe('HEAD');
    expect(indexes(r.data(), 100, 4)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  });

  it('removes a reader that stopped reading as slow while fast readers get every byte in order', async () => {
    await setup({ unitFormat: 'bytes', unitsMax: 2_000_000 });
    const fast = [await client(), await client()];
    const slow = await client();
    slow.socket.pause();
    for (let i = 0; i < 1500; i++) {
      sender.push(buf(i, 16384));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => fast.every((f) => f.bytes >= 1500 * 16384), 15000, 'fast readers');
    for (const f of fast) expect(indexes(f.data(), 16384)).toEqual(Array.from({ length: 1500 }, (_, i) => i & 0xff));
    await waitFor(() => removed.some(([, reason]) => reason === 'slow'), 5000, 'slow removal');
    expect(removed).toEqual([[3, 'slow']]);
    slow.socket.resume();
    await slow.closed;
  });

  it('resyncs a paused reader to the latest data with resync-latest and counts what it dropped', async () => {
    await setup({ unitFormat: 'bytes', unitsSoftMax: 1_000_000, unitsMax: 50_000_000, recoverPolicy: 'resync-latest' });
    const fast = await client();
    const slow = await client();
    slow.socket.pause();
    for (let i = 0; i < 1500; i++) {
      sender.push(buf(i, 16384));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => fast.bytes >= 1500 * 16384, 15000, 'fast reader');
    const slowId = 2;
    expect(sender.stats(slowId)?.buffersDropped).toBeGreaterThan(0);
    slow.socket.resume();
    for (let i = 1500; i < 1510; i++) sender.push(buf(i, 16384));
    await waitFor(() => slow.data().includes(Buffer.alloc(16384, 1509 & 0xff)), 10000, 'slow reader catches up');
    expect(removed).toEqual([]);
  });

  it('removes a client that accepted nothing for the timeout', async () => {
    await setup({ timeoutMs: 300, maxQueueBytes: 64 * 1024 * 1024 });
    const r = await client();
    r.socket.pause();
    for (let i = 0; i < 200; i++) sender.push(buf(i, 65536));
    await waitFor(() => removed.length > 0, 5000, 'timeout removal');
    expect(removed[0][1]).toBe('slow');
  });

  it('removes listeners that stopped reading after the timeout even while the kernel still buffers for them', async () => {
    // Slow enough that the kernel alone would hold megabytes (minutes of this stream) for each.
    await setup({ timeoutMs: 1500, writeIntervalMs: 50 });
    const reading = await client();
    const stuck: Reader[] = [];
    for (let i = 0; i < 20; i++) stuck.push(await client());
    for (const r of stuck) r.socket.pause();
    const pump = setInterval(() => sender.push(buf(1, 4096)), 20); // 200 KB/s
    try {
      await waitFor(() => removed.length === 20, 10000, 'the stuck listeners removed');
    } finally {
      clearInterval(pump);
    }
    // Within 10 s, where the kernel alone would have absorbed ~4 MB (20 s of this stream) first.
    expect(removed.every(([, reason]) => reason === 'slow')).toBe(true);
    expect(sender.clientCount).toBe(1); // the reading one stays
    expect(reading.bytes).toBeGreaterThan(0);
  });

  it('sends a changed streamheader to connected clients when resend-streamheader is on', async () => {
    await setup();
    sender.setStreamheader([Buffer.from('H1')]);
    const r = await client();
    sender.push(buf(1, 10));
    await waitFor(() => r.bytes >= 12);
    sender.setStreamheader([Buffer.from('H2')]);
    sender.push(buf(2, 10));
    await waitFor(() => r.bytes >= 24);
    expect(r.data().toString('latin1')).toBe('H1' + '\x01'.repeat(10) + 'H2' + '\x02'.repeat(10));
  });

  it('reports closed clients and refuses duplicates with a reason', async () => {
    await setup();
    const r = await client();
    const [sock] = await new Promise<net.Socket[]>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve([s]));
    });
    await waitFor(() => sender.clientCount === 2);
    const handle = new StreamHandle(sock);
    expect(sender.add(handle)).not.toBeNull();
    expect(sender.add(handle)).toBeNull();
    expect(removed).toEqual([[-1, 'duplicate']]);
    r.socket.end();
    await waitFor(() => removed.length === 2, 5000, 'closed');
    expect(removed[1][1]).toBe('closed');
    sock.destroy();
  });

  it('serves 1,000 concurrent sockets', async () => {
    await setup({ syncMethod: 'latest' });
    const many: Reader[] = [];
    for (let i = 0; i < 1000; i++) many.push(await connect(port));
    readers.push(...many);
    await waitFor(() => sender.clientCount === 1000, 10000, '1000 clients');
    for (let i = 0; i < 20; i++) {
      sender.push(buf(i, 4096));
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => many.every((m) => m.bytes === 20 * 4096), 20000, 'all data everywhere');
    expect(sender.totals().bytesServed).toBe(1000 * 20 * 4096);
    expect(sender.totals().peakClients).toBe(1000);
  });
});

describe('MultiClientSender with file descriptors', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-sender-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes to a file it opened and closes it on removal', async () => {
    const sender = new MultiClientSender({ syncMethod: 'latest' });
    const file = path.join(dir, 'rec.bin');
    const handle = await openFileHandle(file);
    const id = sender.add(handle) as number;
    sender.setStreamheader([Buffer.from('HDR')]);
    for (let i = 0; i < 50; i++) sender.push(buf(i, 1000));
    await waitFor(() => (sender.stats(id)?.bytesSent ?? 0) >= 3 + 50 * 1000 && handle.pendingBytes === 0);
    sender.removeFlush(id);
    await waitFor(() => sender.clientCount === 0);
    const data = fs.readFileSync(file);
    expect(data.subarray(0, 3).toString()).toBe('HDR');
    expect(indexes(data, 1000, 3)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    sender.close();
  });

  it('writes to an fd it was given and never closes it', async () => {
    const sender = new MultiClientSender();
    const file = path.join(dir, 'not-ours.bin');
    const fd = fs.openSync(file, 'w');
    const id = sender.add(new FdHandle(fd)) as number;
    for (let i = 0; i < 5; i++) sender.push(buf(i, 10));
    await waitFor(() => (sender.stats(id)?.bytesSent ?? 0) >= 40);
    sender.remove(id);
    await new Promise((r) => setTimeout(r, 150));
    expect(() => fs.fstatSync(fd)).not.toThrow();
    fs.writeSync(fd, Buffer.from('!'));
    fs.closeSync(fd);
    expect(fs.readFileSync(file).length).toBeGreaterThan(0);
    sender.close();
  });
});
