// The server side of RTMP that an encoder publishing to us needs (OBS, ffmpeg -f flv
// rtmp://...): the plain handshake, the chunk stream, connect / createStream / publish with a
// stream key, acknowledgements and pings; audio, video and metadata messages of the publisher go
// to its owner by direct calls. One publisher at a time; a wrong key or application, a second
// publisher, or a player is told why (onStatus / _error) and disconnected. Connections that
// have not published yet are bounded (pending limits, handshake and publish deadlines).

import * as net from 'net';
import { sameSecret } from '../../protocol/compare';
import { Amf0Value, decodeAmf0, encodeAmf0 } from '../../protocol/rtmp/amf0';
import { ChunkReader, MSG, RtmpMessage, controlMessage, userControl, writeMessage } from '../../protocol/rtmp/chunks';
import { HTTP_LISTEN, ListenWords, listenOn } from '../listen';
import { PendingLimiter, peerAddress } from '../pending-limit';

const HANDSHAKE = 1536;
const OUT_CHUNK_SIZE = 4096;
const WINDOW = 2500000;
const CS_CONTROL = 2;
const CS_COMMAND = 3;

export interface RtmpPublisher {
  readonly address: string;
  readonly app: string;
  readonly encoder: string | undefined;
  /** Media of the publisher (direct calls on the data path); end(reason) once. */
  onMedia: ((m: RtmpMessage) => void) | null;
  onMetadata: ((meta: Record<string, Amf0Value>) => void) | null;
  onEnd: ((reason: string) => void) | null;
  /** Bytes received on its connection. */
  bytesIn(): number;
  close(reason: string): void;
}

export interface RtmpServerOptions {
  host: string;
  port: number;
  app: string;
  streamKey: string;
  /** ms a connection may take from its first byte to a publish */
  setupTimeoutMs: number;
  busy(): boolean;
  onPublish(p: RtmpPublisher): void;
  onRefused?(address: string, reason: string): void;
}

export const RTMP_LISTEN: ListenWords = { ...HTTP_LISTEN, hint: 'another RTMP server?' };

export class RtmpServer {
  private readonly server: net.Server;
  private readonly pending = new PendingLimiter({ maxTotal: 64, maxPerAddress: 16 });
  port = 0;

  constructor(private readonly o: RtmpServerOptions) {
    this.server = net.createServer((s) => new RtmpConnection(s, o, this.pending));
  }

  async listen(): Promise<number> {
    this.port = await listenOn(this.server, { host: this.o.host, port: this.o.port }, RTMP_LISTEN);
    return this.port;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

type Phase = 'c0c1' | 'c2' | 'chunks' | 'closed';

class RtmpConnection implements RtmpPublisher {
  readonly address: string;
  app = '';
  encoder: string | undefined;
  onMedia: ((m: RtmpMessage) => void) | null = null;
  onMetadata: ((meta: Record<string, Amf0Value>) => void) | null = null;
  onEnd: ((reason: string) => void) | null = null;
  private phase: Phase = 'c0c1';
  private hs: Buffer = Buffer.alloc(0);
  private readonly reader = new ChunkReader();
  private publishing = false;
  private peerWindow = WINDOW;
  private lastAck = 0;
  private readonly entry: ReturnType<PendingLimiter['admit']> | null;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly socket: net.Socket,
    private readonly o: RtmpServerOptions,
    private readonly pending: PendingLimiter,
  ) {
    this.address = peerAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    this.entry = pending.admit(this.address, () => this.close('evicted: too many connections that have not published'));
    this.deadline = setTimeout(() => this.close('no publish in time'), o.setupTimeoutMs);
    this.deadline.unref();
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', () => undefined);
    socket.on('close', () => this.ended('the publisher disconnected'));
  }

  bytesIn(): number {
    return this.reader.bytesIn;
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.ended(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  private ended(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.deadline);
    if (this.entry) this.pending.done(this.entry);
    const wasPublishing = this.publishing;
    this.publishing = false;
    if (wasPublishing) {
      const cb = this.onEnd;
      this.onEnd = null;
      cb?.(reason);
    }
  }

  private refuse(reason: string): void {
    this.o.onRefused?.(this.address, reason);
    setTimeout(() => this.close(reason), 100).unref();
  }

  private send(m: RtmpMessage, csid: number): void {
    if (!this.socket.destroyed) this.socket.write(writeMessage(m, csid, OUT_CHUNK_SIZE));
  }

  private command(streamId: number, ...values: Amf0Value[]): void {
    this.send({ type: MSG.COMMAND_AMF0, timestamp: 0, streamId, payload: encodeAmf0(...values) }, CS_COMMAND);
  }

  private status(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    this.command(streamId, 'onStatus', 0, null, { level, code, description });
  }

  private data(d: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.phase !== 'chunks') {
      this.hs = this.hs.length ? Buffer.concat([this.hs, d]) : d;
      if (this.phase === 'c0c1') {
        if (this.hs.length < 1 + HANDSHAKE) return;
        if (this.hs[0] !== 3) return this.refuse(`RTMP version ${this.hs[0]} (not 3)`);
        const c1 = this.hs.subarray(1, 1 + HANDSHAKE);
        const s1 = Buffer.alloc(HANDSHAKE);
        s1.writeUInt32BE(Math.floor(performance.now()) >>> 0, 0); // zero version: the plain handshake
        for (let i = 8; i < HANDSHAKE; i++) s1[i] = (Math.random() * 256) | 0;
        const s2 = Buffer.from(c1);
        s2.writeUInt32BE(Math.floor(performance.now()) >>> 0, 4);
        this.socket.write(Buffer.concat([Buffer.from([3]), s1, s2]));
        this.hs = this.hs.subarray(1 + HANDSHAKE);
        this.phase = 'c2';
      }
      if (this.hs.length < HANDSHAKE) return;
      const rest = this.hs.subarray(HANDSHAKE);
      this.hs = Buffer.alloc(0);
      this.phase = 'chunks';
      if (!rest.length) return;
      d = rest;
    }
    let messages: RtmpMessage[];
    try {
      messages = this.reader.push(d);
    } catch (e) {
      return this.close(`RTMP protocol error: ${(e as Error).message}`);
    }
    for (const m of messages) {
      if ((this.phase as Phase) === 'closed') return;
      this.message(m);
    }
    if (this.reader.bytesIn - this.lastAck >= this.peerWindow) {
      this.lastAck = this.reader.bytesIn;
      this.send(controlMessage(MSG.ACK, this.reader.bytesIn), CS_CONTROL);
    }
  }

  private message(m: RtmpMessage): void {
    switch (m.type) {
      case MSG.AUDIO:
      case MSG.VIDEO:
        if (this.publishing) this.onMedia?.(m);
        return;
      case MSG.DATA_AMF0:
        if (this.publishing) this.metadata(m.payload);
        return;
      case MSG.COMMAND_AMF0:
        return this.commandIn(m);
      case MSG.COMMAND_AMF3:
        // AMF3 commands carry an AMF0 body after one format byte.
        return this.commandIn({ ...m, payload: m.payload.subarray(1) });
      case MSG.WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.peerWindow = Math.max(4096, m.payload.readUInt32BE(0));
        return;
      case MSG.USER_CONTROL:
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === 6) this.send(userControl(7, m.payload.readUInt32BE(2)), CS_CONTROL);
        return;
      default:
        return; // acknowledgements, bandwidth, AMF3 data: nothing to do
    }
  }

  private metadata(payload: Buffer): void {
    let values: Amf0Value[];
    try {
      values = decodeAmf0(payload);
    } catch {
      return;
    }
    if (values[0] === '@setDataFrame') values = values.slice(1);
    const meta = values[1];
    if (values[0] === 'onMetaData' && meta && typeof meta === 'object' && !Array.isArray(meta) && !(meta instanceof Date)) {
      if (typeof meta.encoder === 'string') this.encoder = meta.encoder.slice(0, 200);
      this.onMetadata?.(meta);
    }
  }

  private commandIn(m: RtmpMessage): void {
    let v: Amf0Value[];
    try {
      v = decodeAmf0(m.payload);
    } catch (e) {
      return this.close(`bad AMF0 command: ${(e as Error).message}`);
    }
    const [name, txnValue] = v;
    const txn = typeof txnValue === 'number' ? txnValue : 0;
    switch (name) {
      case 'connect': {
        const obj = v[2] && typeof v[2] === 'object' && !Array.isArray(v[2]) ? (v[2] as Record<string, Amf0Value>) : {};
        const app = String(obj.app ?? '').split('?')[0].replace(/\/+$/, '');
        this.app = app;
        if (app !== this.o.app) {
          this.command(0, '_error', txn, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `unknown application '${app}'` });
          return this.refuse(`unknown application '${app}'`);
        }
        this.send(controlMessage(MSG.WINDOW_ACK_SIZE, WINDOW), CS_CONTROL);
        this.send(controlMessage(MSG.SET_PEER_BANDWIDTH, WINDOW, 2), CS_CONTROL);
        this.send(controlMessage(MSG.SET_CHUNK_SIZE, OUT_CHUNK_SIZE), CS_CONTROL);
        this.command(0, '_result', txn, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
        return;
      }
      case 'createStream':
        this.command(0, '_result', txn, null, 1);
        return;
      case 'releaseStream':
      case 'FCPublish':
      case 'getStreamLength':
        if (txn) this.command(0, '_result', txn, null, undefined);
        return;
      case 'publish': {
        const key = String(v[3] ?? '').split('?')[0];
        const streamId = m.streamId || 1;
        if (!sameSecret(key, this.o.streamKey)) {
          this.status(streamId, 'error', 'NetStream.Publish.BadName', 'wrong stream key');
          return this.refuse('wrong stream key');
        }
        if (this.publishing) return;
        if (this.o.busy()) {
          this.status(streamId, 'error', 'NetStream.Publish.BadName', 'the stream is already being published');
          return this.refuse('the stream is already being published');
        }
        this.send(userControl(0, streamId), CS_CONTROL);
        this.status(streamId, 'status', 'NetStream.Publish.Start', 'publishing');
        this.publishing = true;
        clearTimeout(this.deadline);
        if (this.entry) this.pending.done(this.entry);
        this.o.onPublish(this);
        return;
      }
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.publishing) this.close('the publisher stopped publishing');
        return;
      case 'play':
        this.status(m.streamId || 1, 'error', 'NetStream.Play.Failed', 'this server takes publishers only; listen through an http-streamer');
        return this.refuse('a player (this server takes publishers only)');
      default:
        return;
    }
  }
}
