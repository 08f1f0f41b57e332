// One RTMP connection on the server side, as publishers speak it (OBS, FFmpeg, Wirecast, vMix,
// Larix): the plain handshake, the chunk stream, and the commands connect, releaseStream,
// FCPublish (answered with onFCPublish), createStream, publish, FCUnpublish (onFCUnpublish),
// deleteStream and closeStream, in AMF0 or AMF3 command messages; any other command a client
// waits on (a transaction id) gets `_error`. After publish, audio, video and metadata go to the
// route that owns the stream key by direct calls. It does not decide who may publish (the
// server's routes do) nor what the media mean (the producer does).
// Before a publish is accepted it holds at most PRE_PUBLISH_LIMITS' worth of messages, its
// handshake and SLOW_PEER_BYTES of replies: under 1 MiB (bufferedBytes() says how much).

import * as net from 'net';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { Amf0Value, decodeAmf0, encodeAmf0 } from '../../protocol/rtmp/amf0';
import { ChunkReader, MSG, PRE_PUBLISH_LIMITS, PUBLISH_LIMITS, RtmpMessage, controlMessage, userControl, writeMessage } from '../../protocol/rtmp/chunks';

const HANDSHAKE = 1536;
const OUT_CHUNK_SIZE = 4096;
const WINDOW = 2500000;
const CS_CONTROL = 2;
const CS_COMMAND = 3;
/** Replies a peer leaves unread at most before it is dropped. */
export const SLOW_PEER_BYTES = 256 * 1024;
/** A publisher that stops publishing has this long to hang up itself. */
const UNPUBLISH_GRACE_MS = 1000;

/** E-RTMP capability answers in the connect result: what we carry (FourCcInfoMask CanForward) and can parse. */
const VIDEO_FOURCCS = ['avc1', 'hvc1', 'av01', 'vp09', 'vp08'];
const AUDIO_FOURCCS = ['mp4a', 'Opus'];
const CAN_FORWARD = 0x04;
/** CapsExMask: ModEx and TimestampNanoOffset (multitrack tags are parsed, track 0 carried, but not asked for). */
const CAPS_EX = 0x04 | 0x08;

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
  /** Tells the publisher why (onStatus, level error) and disconnects it. */
  reject(code: string, description: string): void;
}

/** Why a publish is not taken now: the onStatus code and description the publisher gets. */
export interface PublishRefusal {
  code: 'NetStream.Publish.BadName' | 'NetStream.Publish.Rejected';
  description: string;
}

/** The part of a route a connection talks to. */
export interface RtmpRouteTarget {
  refusal(): PublishRefusal | null;
  onPublish(p: RtmpPublisher): void;
}

/** What a connection asks of its server. */
export interface RtmpRouter {
  readonly setupTimeoutMs: number;
  /** Whether some route serves this application (before any key is known). */
  acceptsApp(app: string): boolean;
  /** The route of `app` + stream name (compared as one path, in constant time per route). */
  route(app: string, name: string): RtmpRouteTarget | null;
  refused(address: string, reason: string, app: string | null): void;
  /** Admits a connection that has not published yet; evict() closes it to make room. */
  admit(address: string, evict: () => void): () => void;
  closed(c: RtmpConnection): void;
}

type Phase = 'c0c1' | 'c2' | 'chunks' | 'closed';

export class RtmpConnection implements RtmpPublisher {
  readonly address: string;
  app = '';
  encoder: string | undefined;
  onMedia: ((m: RtmpMessage) => void) | null = null;
  onMetadata: ((meta: Record<string, Amf0Value>) => void) | null = null;
  onEnd: ((reason: string) => void) | null = null;
  private phase: Phase = 'c0c1';
  private hs: Buffer = Buffer.alloc(0);
  private readonly reader = new ChunkReader(PRE_PUBLISH_LIMITS);
  private connected = false;
  private publishing = false;
  private objectEncoding = 0;
  /** The message stream it publishes on. */
  private streamId = 1;
  private peerWindow = WINDOW;
  private lastAck = 0;
  private pendingDone: (() => void) | null;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly socket: net.Socket,
    private readonly router: RtmpRouter,
    peerAddress: string,
  ) {
    this.address = peerAddress;
    socket.setNoDelay(true);
    this.pendingDone = router.admit(this.address, () => this.close('evicted: too many connections that have not published'));
    this.deadline = setTimeout(() => this.close('no publish in time'), router.setupTimeoutMs);
    this.deadline.unref();
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', () => undefined);
    socket.on('close', () => this.ended('the publisher disconnected'));
  }

  get isPublishing(): boolean {
    return this.publishing;
  }

  bytesIn(): number {
    return this.reader.bytesIn;
  }

  /** Bytes this connection holds now: handshake, messages in progress, replies not yet sent. */
  bufferedBytes(): number {
    return this.hs.length + this.reader.bufferedBytes() + this.socket.writableLength;
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.ended(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  /** Ends the connection now (the server shuts down). */
  destroy(reason: string): void {
    this.ended(reason);
    this.socket.destroy();
  }

  reject(code: string, description: string): void {
    if (this.phase === 'closed') return;
    this.status(this.streamId, 'error', code, description);
    this.unpublished(description);
    this.refuse(description);
  }

  private ended(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.deadline);
    this.admitted();
    this.unpublished(reason);
    this.router.closed(this);
  }

  /** It no longer counts among the connections that have not published. */
  private admitted(): void {
    const done = this.pendingDone;
    this.pendingDone = null;
    done?.();
  }

  private unpublished(reason: string): void {
    if (!this.publishing) return;
    this.publishing = false;
    const cb = this.onEnd;
    this.onEnd = null;
    this.onMedia = null;
    this.onMetadata = null;
    cb?.(reason);
  }

  /** Says why, lets the peer read it, then hangs up. */
  private refuse(reason: string): void {
    this.router.refused(this.address, reason, this.connected ? this.app : null);
    setTimeout(() => this.close(reason), 100).unref();
  }

  private send(m: RtmpMessage, csid: number): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength > SLOW_PEER_BYTES) {
      const reason = `${PROTOCOL_ERROR_CODES.RTMP_SLOW_PEER}: the peer leaves more than ${SLOW_PEER_BYTES} bytes of replies unread`;
      if (!this.publishing) this.router.refused(this.address, reason, this.connected ? this.app : null);
      this.socket.destroy(); // it reads nothing: no goodbye would reach it
      this.ended(reason);
      return;
    }
    this.socket.write(writeMessage(m, csid, OUT_CHUNK_SIZE));
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
      const rest = this.handshake(d);
      if (!rest || !rest.length) return;
      d = rest;
    }
    let messages: RtmpMessage[];
    try {
      messages = this.reader.push(d);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const reason = `${code ? `${code}: ` : ''}${(e as Error).message}`;
      if (!this.publishing) this.router.refused(this.address, reason, this.connected ? this.app : null);
      return this.close(`RTMP protocol error: ${reason}`);
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

  /** The plain handshake (C0 C1 -> S0 S1 S2, then C2); returns the bytes after it, if any. */
  private handshake(d: Buffer): Buffer | null {
    this.hs = this.hs.length ? Buffer.concat([this.hs, d]) : d;
    if (this.phase === 'c0c1') {
      if (this.hs.length < 1 + HANDSHAKE) return null;
      if (this.hs[0] !== 3) {
        this.router.refused(this.address, `RTMP version ${this.hs[0]} (not 3)`, null);
        this.close(`RTMP version ${this.hs[0]} (not 3)`);
        return null;
      }
      const c1 = this.hs.subarray(1, 1 + HANDSHAKE);
      const s1 = Buffer.alloc(HANDSHAKE);
      s1.writeUInt32BE(Math.floor(performance.now()) >>> 0, 0); // zero version: the plain handshake
      for (let i = 8; i < HANDSHAKE; i++) s1[i] = (Math.random() * 256) | 0;
      const s2 = Buffer.from(c1);
      s2.writeUInt32BE(Math.floor(performance.now()) >>> 0, 4);
      this.socket.write(Buffer.concat([Buffer.from([3]), s1, s2]));
      this.hs = Buffer.from(this.hs.subarray(1 + HANDSHAKE));
      this.phase = 'c2';
    }
    if (this.hs.length < HANDSHAKE) return null;
    const rest = this.hs.subarray(HANDSHAKE);
    this.hs = Buffer.alloc(0);
    this.phase = 'chunks';
    return rest;
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
      case MSG.DATA_AMF3:
        // AMF3 data and command messages carry AMF0 values after one format byte (0).
        if (this.publishing) this.metadata(m.payload.subarray(1));
        return;
      case MSG.COMMAND_AMF0:
        return this.commandIn(m.payload, m.streamId);
      case MSG.COMMAND_AMF3:
        return this.commandIn(m.payload.subarray(1), m.streamId);
      case MSG.WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.peerWindow = Math.max(4096, m.payload.readUInt32BE(0));
        return;
      case MSG.USER_CONTROL:
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === 6) this.send(userControl(7, m.payload.readUInt32BE(2)), CS_CONTROL);
        return;
      default:
        return; // acknowledgements, bandwidth, shared objects: nothing to do
    }
  }

  private metadata(payload: Buffer): void {
    let values: Amf0Value[];
    try {
      values = decodeAmf0(payload);
    } catch {
      return; // metadata we cannot read is not worth the stream
    }
    if (values[0] === '@setDataFrame') values = values.slice(1);
    const meta = values[1];
    if (values[0] === 'onMetaData' && meta && typeof meta === 'object' && !Array.isArray(meta) && !(meta instanceof Date)) {
      if (typeof meta.encoder === 'string') this.encoder = meta.encoder.slice(0, 200);
      this.onMetadata?.(meta);
    }
  }

  private commandIn(payload: Buffer, messageStreamId: number): void {
    let v: Amf0Value[];
    try {
      v = decodeAmf0(payload);
    } catch (e) {
      const reason = `${PROTOCOL_ERROR_CODES.RTMP_BAD_AMF}: ${(e as Error).message}`;
      if (!this.publishing) this.router.refused(this.address, reason, this.connected ? this.app : null);
      return this.close(`bad command: ${reason}`);
    }
    const [name, txnValue] = v;
    const txn = typeof txnValue === 'number' ? txnValue : 0;
    const streamId = messageStreamId || 1;
    switch (name) {
      case 'connect':
        return this.connect(v[2], txn);
      case 'createStream':
        this.command(0, '_result', txn, null, 1);
        return;
      case 'releaseStream':
      case 'getStreamLength':
        if (txn) this.command(0, '_result', txn, null, undefined);
        return;
      case 'FCPublish':
        if (txn) this.command(0, '_result', txn, null, undefined);
        this.command(0, 'onFCPublish', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'FCPublish' });
        return;
      case 'publish':
        return this.publish(String(v[3] ?? ''), streamId);
      case 'FCUnpublish':
        if (txn) this.command(0, '_result', txn, null, undefined);
        this.command(0, 'onFCUnpublish', 0, null, { level: 'status', code: 'NetStream.Unpublish.Success', description: 'FCUnpublish' });
        return this.stopPublishing(streamId);
      case 'deleteStream':
      case 'closeStream':
        return this.stopPublishing(streamId);
      case 'play':
        this.status(streamId, 'error', 'NetStream.Play.Failed', 'this server takes publishers only; listen through an http-streamer');
        return this.refuse('a player (this server takes publishers only)');
      case '_result':
      case '_error':
      case 'onStatus':
      case 'onBWDone':
        return; // answers and notices: we call nothing that waits for them
      default:
        // A client that gave a transaction id waits for an answer: say we have no such method.
        if (txn) {
          const what = typeof name === 'string' ? name.slice(0, 64) : typeof name;
          this.command(0, '_error', txn, null, { level: 'error', code: 'NetConnection.Call.Failed', description: `unknown command '${what}'` });
        }
        return;
    }
  }

  private connect(objValue: Amf0Value, txn: number): void {
    const obj = objValue && typeof objValue === 'object' && !Array.isArray(objValue) && !(objValue instanceof Date) ? objValue : {};
    const app = String(obj.app ?? '').split('?')[0].replace(/^\/+|\/+$/g, '');
    this.app = app;
    if (!this.router.acceptsApp(app)) {
      this.command(0, '_error', txn, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `unknown application '${app.slice(0, 200)}'` });
      return this.refuse(`unknown application '${app.slice(0, 200)}'`);
    }
    this.connected = true;
    this.objectEncoding = obj.objectEncoding === 3 ? 3 : 0;
    this.send(controlMessage(MSG.WINDOW_ACK_SIZE, WINDOW), CS_CONTROL);
    this.send(controlMessage(MSG.SET_PEER_BANDWIDTH, WINDOW, 2), CS_CONTROL);
    this.send(controlMessage(MSG.SET_CHUNK_SIZE, OUT_CHUNK_SIZE), CS_CONTROL);
    const fourCc = (list: string[]) => Object.fromEntries(list.map((f) => [f, CAN_FORWARD]));
    this.command(0, '_result', txn,
      { fmsVer: 'FMS/3,0,1,123', capabilities: 31, fourCcList: [...VIDEO_FOURCCS, ...AUDIO_FOURCCS], videoFourCcInfoMap: fourCc(VIDEO_FOURCCS), audioFourCcInfoMap: fourCc(AUDIO_FOURCCS), capsEx: CAPS_EX },
      { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: this.objectEncoding });
  }

  private publish(name: string, streamId: number): void {
    if (!this.connected) return this.refuse('publish before connect');
    if (this.publishing) return;
    const route = this.router.route(this.app, name.split('?')[0]);
    if (!route) {
      this.status(streamId, 'error', 'NetStream.Publish.BadName', 'wrong stream key');
      return this.refuse('wrong stream key');
    }
    const refusal = route.refusal();
    if (refusal) {
      this.status(streamId, 'error', refusal.code, refusal.description);
      return this.refuse(refusal.description);
    }
    this.send(userControl(0, streamId), CS_CONTROL);
    this.status(streamId, 'status', 'NetStream.Publish.Start', 'publishing');
    this.streamId = streamId;
    this.publishing = true;
    clearTimeout(this.deadline);
    this.admitted();
    this.reader.setLimits(PUBLISH_LIMITS);
    route.onPublish(this);
  }

  /** FCUnpublish, deleteStream: the stream ends; the publisher has a moment to hang up itself. */
  private stopPublishing(streamId: number): void {
    if (!this.publishing) return;
    this.status(streamId, 'status', 'NetStream.Unpublish.Success', 'unpublished');
    this.unpublished('the publisher stopped publishing');
    setTimeout(() => this.close('the publisher stopped publishing'), UNPUBLISH_GRACE_MS).unref();
  }
}
