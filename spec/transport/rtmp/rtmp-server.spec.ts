// The RTMP server with real sockets and a publisher that speaks like OBS: the commands publishers
// wait on (onFCPublish, _result, _error for what we do not know, onFCUnpublish), several stream
// keys on one port each reaching its own route, and the bounds a hostile client meets before it
// publishes, measured in a server process of its own.

import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { Amf0Value, encodeAmf0 } from '../../../protocol/rtmp/amf0';
import { MSG, writeMessage } from '../../../protocol/rtmp/chunks';
import { AttachedRoute, attachRtmpRoute } from '../../../transport/rtmp/rtmp-ports';
import { RtmpPublisher, RtmpRouteOptions } from '../../../transport/rtmp/rtmp-server';
import { waitFor } from '../../helpers/net';
import { RtmpTestPublisher } from '../../helpers/rtmp-publisher';

interface Route {
  attached: AttachedRoute;
  publishers: RtmpPublisher[];
  refused: string[];
  ended: string[];
}

const attached: AttachedRoute[] = [];
afterEach(async () => {
  for (const a of attached.splice(0)) await a.detach();
});

async function route(port: number, app: string, streamKey: string, extra: Partial<RtmpRouteOptions> = {}): Promise<Route> {
  const r: Route = { attached: null as unknown as AttachedRoute, publishers: [], refused: [], ended: [] };
  r.attached = await attachRtmpRoute('127.0.0.1', port, {
    app, streamKey, setupTimeoutMs: 5000, owner: `route ${app}`,
    refusal: () => null,
    onPublish: (p) => {
      r.publishers.push(p);
      p.onEnd = (why) => r.ended.push(why);
    },
    onRefused: (_address, reason) => r.refused.push(reason),
    ...extra,
  });
  attached.push(r.attached);
  return r;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const info = (c: { args: Amf0Value[] }) => c.args[1] as Record<string, Amf0Value>;

describe('RTMP server commands', () => {
  it('answers what OBS sends: connect with E-RTMP capabilities, releaseStream, FCPublish with onFCPublish, createStream, publish', async () => {
    const r = await route(0, 'live', 'obs-key-12345');
    const { publisher, code } = await RtmpTestPublisher.publish({ port: r.attached.port, key: 'obs-key-12345', connectExtra: { objectEncoding: 3 } });
    expect(code).toBe('NetStream.Publish.Start');
    const connect = publisher.commands.find((c) => c.name === '_result' && c.txn === 1);
    expect(connect?.args[0]).toMatchObject({ fourCcList: expect.arrayContaining(['hvc1', 'av01', 'vp09']), videoFourCcInfoMap: { hvc1: 4, av01: 4, vp09: 4 } });
    expect(connect && info(connect)).toMatchObject({ code: 'NetConnection.Connect.Success', objectEncoding: 3 });
    expect(publisher.commands.filter((c) => c.name === '_result').map((c) => c.txn)).toEqual([1, 2, 3, 4]); // connect, releaseStream, FCPublish, createStream
    expect(info(await publisher.next((c) => c.name === 'onFCPublish'))).toMatchObject({ code: 'NetStream.Publish.Start' });
    await waitFor(() => r.publishers.length === 1, 2000, 'the route has the publisher');
    publisher.close();
  });

  it('answers a command it does not know with _error when the client waits for it, and ignores one that waits for nothing', async () => {
    const r = await route(0, 'live', 'obs-key-12345');
    const { publisher } = await RtmpTestPublisher.publish({ port: r.attached.port, key: 'obs-key-12345' });
    publisher.call('_checkbw', 0, null);
    const txn = publisher.nextTxn();
    publisher.call('someVendorCall', txn, null, 'x');
    const answer = await publisher.reply(txn);
    expect(answer.name).toBe('_error');
    expect(info(answer)).toEqual({ level: 'error', code: 'NetConnection.Call.Failed', description: "unknown command 'someVendorCall'" });
    expect(publisher.commands.filter((c) => c.name === '_error')).toHaveLength(1);
    publisher.close();
  });

  it('ends the stream on FCUnpublish and deleteStream with onFCUnpublish, then lets the publisher hang up', async () => {
    const r = await route(0, 'live', 'obs-key-12345');
    const { publisher } = await RtmpTestPublisher.publish({ port: r.attached.port, key: 'obs-key-12345' });
    await waitFor(() => r.publishers.length === 1, 2000, 'the publisher');
    publisher.unpublish();
    expect(info(await publisher.next((c) => c.name === 'onFCUnpublish'))).toMatchObject({ code: 'NetStream.Unpublish.Success' });
    await waitFor(() => r.ended.length === 1, 2000, 'the end of the stream');
    expect(r.ended).toEqual(['the publisher stopped publishing']);
    await publisher.closed; // the server hangs up after a grace period if the publisher does not
  });

  it('takes a connect sent as plain AMF0 as well', async () => {
    const r = await route(0, 'live', 'obs-key-12345');
    const { publisher, code } = await RtmpTestPublisher.publish({ port: r.attached.port, key: 'obs-key-12345', amf3Connect: false });
    expect(code).toBe('NetStream.Publish.Start');
    publisher.close();
  });
});

describe('RTMP server: several stream keys on one port', () => {
  it('hands each publisher to the route of its app and key; a wrong key gets BadName; app and key may be split anywhere', async () => {
    const port = await freePort();
    const a = await route(port, 'live', 'key-of-studio-a');
    const b = await route(port, 'live', 'key-of-studio-b');
    const c = await route(port, 'events/hall', 'key-of-hall-c');
    expect(a.attached.server).toBe(b.attached.server);
    expect(c.attached.port).toBe(port);
    const pa = await RtmpTestPublisher.publish({ port, key: 'key-of-studio-a' });
    const pb = await RtmpTestPublisher.publish({ port, key: 'key-of-studio-b' });
    const pc = await RtmpTestPublisher.publish({ port, app: 'events', key: 'hall/key-of-hall-c' }); // FFmpeg splits after the first segment
    const pc2 = await RtmpTestPublisher.publish({ port, app: 'events/hall', key: 'key-of-hall-c?token=1' }); // OBS keeps the server path as the app
    expect([pa.code, pb.code, pc.code, pc2.code]).toEqual(['NetStream.Publish.Start', 'NetStream.Publish.Start', 'NetStream.Publish.Start', 'NetStream.Publish.Start']);
    expect([a.publishers.length, b.publishers.length, c.publishers.length]).toEqual([1, 1, 2]);
    const wrong = await RtmpTestPublisher.publish({ port, key: 'key-of-studio-z' });
    expect(wrong.code).toBe('NetStream.Publish.BadName');
    await wrong.publisher.closed;
    expect(a.refused).toContain('wrong stream key');
    const app = await RtmpTestPublisher.publish({ port, app: 'other', key: 'key-of-studio-a' });
    expect(app.code).toBe('NetConnection.Connect.Rejected');
    for (const p of [pa, pb, pc, pc2]) p.publisher.close();
  });

  it('refuses a second route with the same app and key, keeps the port while a route is left, and frees it after the last', async () => {
    const port = await freePort();
    const a = await route(port, 'live', 'same-key-123');
    await expect(route(port, 'live/', 'same-key-123')).rejects.toMatchObject({ code: 'FLUX_RTMP_ROUTE_TAKEN' });
    await expect(route(port, 'live/same-key-123', '')).rejects.toMatchObject({ code: 'FLUX_RTMP_ROUTE_TAKEN' });
    const b = await route(port, 'live', 'other-key-123');
    await a.attached.detach();
    expect((await RtmpTestPublisher.publish({ port, key: 'other-key-123' })).code).toBe('NetStream.Publish.Start');
    expect((await RtmpTestPublisher.publish({ port, key: 'same-key-123' })).code).toBe('NetStream.Publish.BadName');
    await b.attached.detach();
    await expect(RtmpTestPublisher.open({ port, key: 'x' })).rejects.toThrow(/ECONNREFUSED/);
    // The port can be taken again at once.
    const again = await route(port, 'live', 'same-key-123');
    expect(again.attached.port).toBe(port);
  });
});

/** A client that completes the handshake and then writes what it is given; never reads. */
async function rawClient(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.on('error', () => undefined);
  s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  let got = 0;
  await new Promise<void>((resolve) => s.on('data', (d: Buffer) => (got += d.length) >= 1 + 1536 * 2 && resolve()));
  s.write(Buffer.alloc(1536)); // C2
  return s;
}

/** Eight chunk streams each with a 64 KiB command message, all but its last chunk sent. */
function heldMessages(): Buffer {
  return Buffer.concat(Array.from({ length: 8 }, (_, i) => {
    const m = writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(64 * 1024, i) }, 3 + i, 128);
    return m.subarray(0, m.length - 129);
  }));
}

describe('RTMP server bounds before publish', () => {
  it('refuses a huge message, a huge chunk size and a ninth chunk stream with their codes, and drops a peer that reads nothing', async () => {
    const r = await route(0, 'live', 'bounded-key-1');
    const port = r.attached.port;
    const cases: Array<[Buffer, string]> = [
      // A type 0 header declaring a message of 16 MiB (the most a header can say), then its first bytes.
      [Buffer.concat([Buffer.from([0x03, 0, 0, 0, 0xff, 0xff, 0xff, MSG.COMMAND_AMF0, 0, 0, 0, 0]), Buffer.alloc(128)]), 'FLUX_RTMP_MESSAGE_TOO_LARGE'],
      [Buffer.concat([writeMessage({ type: MSG.SET_CHUNK_SIZE, timestamp: 0, streamId: 0, payload: Buffer.from([0, 0xff, 0, 0]) }, 2, 128)]), 'FLUX_RTMP_CHUNK_SIZE'],
      [Buffer.concat([heldMessages(), writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: Buffer.alloc(8) }, 40, 128)]), 'FLUX_RTMP_TOO_MANY_CHUNK_STREAMS'],
    ];
    for (const [bytes, code] of cases) {
      const s = await rawClient(port);
      const closed = new Promise((res) => s.once('close', res));
      s.write(bytes);
      await closed;
      expect(r.refused.some((x) => x.startsWith(`${code}:`))).toBe(true);
    }
    // A peer that asks and asks (each ask answered) but reads nothing is dropped before its replies pile up.
    const s = await rawClient(port);
    s.pause();
    const asks = Buffer.concat(Array.from({ length: 2000 }, (_, i) => writeMessage({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId: 0, payload: encodeAmf0('vendorPing', i + 1, null) }, 3, 128)));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, ...r.attached.server.connectionInfo().map((c) => c.bufferedBytes))), 5);
    const slow = () => r.refused.some((x) => x.startsWith('FLUX_RTMP_SLOW_PEER:'));
    for (let i = 0; i < 2000 && !slow() && !s.destroyed; i++) {
      s.write(asks);
      await new Promise((res) => setTimeout(res, 1));
    }
    clearInterval(sampler);
    s.destroy();
    expect(slow()).toBe(true);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(1024 * 1024);
  }, 60000);

  it('keeps each connection that has not published under 1 MiB, measured in a server process of its own', async () => {
    // The server runs alone in a child (the built code, as `npm test` builds it) with --expose-gc:
    // its memory after garbage collection, before and with hostile clients, is what they cost.
    const dist = path.resolve(__dirname, '../../../dist/transport/rtmp/rtmp-ports.js');
    const script = `
      const { attachRtmpRoute } = require(${JSON.stringify(dist)});
      const used = () => { global.gc(); global.gc(); const m = process.memoryUsage(); return m.heapUsed + m.external; };
      attachRtmpRoute('127.0.0.1', 0, { app: 'live', streamKey: 'hostile-key-1', setupTimeoutMs: 60000, owner: 't', refusal: () => null, onPublish: () => undefined }).then((r) => {
        process.stdout.write(JSON.stringify({ port: r.port }) + '\\n');
        process.stdin.on('data', () => process.stdout.write(JSON.stringify({ used: used(), held: r.server.connectionInfo().map((c) => c.bufferedBytes) }) + '\\n'));
      });`;
    const child = spawn(process.execPath, ['--expose-gc', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    const nextLine = async () => {
      const n = lines.length;
      await waitFor(() => lines.length > n, 10000, 'the server process');
      return JSON.parse(lines[n]);
    };
    const measure = () => {
      const p = nextLine();
      child.stdin.write('m\n');
      return p;
    };
    try {
      await waitFor(() => lines.length > 0, 10000, 'the server process to listen');
      const { port } = JSON.parse(lines[0]);
      const before = await measure();
      const N = 12;
      const clients = await Promise.all(Array.from({ length: N }, () => rawClient(port)));
      const held = heldMessages();
      for (const s of clients) {
        for (let off = 0; off < held.length; off += 4096) s.write(held.subarray(off, off + 4096));
      }
      let after = await measure();
      for (let i = 0; i < 50 && !(after.held.length === N && after.held.every((h: number) => h >= 500 * 1024)); i++) {
        await new Promise((res) => setTimeout(res, 100));
        after = await measure();
      }
      expect(after.held).toHaveLength(N);
      for (const h of after.held) {
        expect(h).toBeGreaterThanOrEqual(500 * 1024); // each really holds its eight messages in progress...
        expect(h).toBeLessThanOrEqual(1024 * 1024); // ...and no more than 1 MiB
      }
      const perConnection = (after.used - before.used) / N;
      expect(perConnection).toBeGreaterThan(400 * 1024); // the measurement sees them
      expect(perConnection).toBeLessThanOrEqual(1024 * 1024);
      for (const s of clients) s.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60000);
});
