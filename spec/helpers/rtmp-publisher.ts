// A test RTMP publisher that speaks like OBS (libobs' rtmp-stream over librtmp, 29.1+): the plain
// handshake, Set Chunk Size 4096 before connect, connect with the E-RTMP fourCcList (here in an
// AMF3 command message whose object follows the 0x11 AMF3 switch, as some encoders send it),
// releaseStream, FCPublish, createStream, publish, @setDataFrame onMetaData with a FourCC
// videocodecid, then media; FCUnpublish and deleteStream at the end. Chunks are written the way
// FFmpeg writes them (rtmp-wire.ts). What the server sends back is decoded and kept.

import * as net from 'net';
import { Amf0Value, decodeAmf0, encodeAmf0 } from '../../protocol/rtmp/amf0';
import { ChunkReader, MSG, PUBLISH_LIMITS } from '../../protocol/rtmp/chunks';
import { Amf3Input, FfmpegChunkWriter, amf3 } from './rtmp-wire';

export interface ServerCommand {
  name: string;
  txn: number;
  args: Amf0Value[];
}

export interface PublisherOptions {
  port: number;
  app?: string;
  key: string;
  /** Set Chunk Size sent before connect (OBS: 4096). */
  chunkSize?: number;
  /** connect as an AMF3 command message with its object after the 0x11 switch (default), or plain AMF0. */
  amf3Connect?: boolean;
  /** extra properties of the connect object */
  connectExtra?: Record<string, Amf3Input>;
}

const CS_CONTROL = 2;
const CS_COMMAND = 3;
const CS_AUDIO = 4;
const CS_VIDEO = 6;
const CS_DATA = 5;

export class RtmpTestPublisher {
  readonly commands: ServerCommand[] = [];
  readonly writer: FfmpegChunkWriter;
  private readonly reader = new ChunkReader(PUBLISH_LIMITS);
  private txn = 1;
  private streamId = 0;
  private handshaken = false;
  private hsIn: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    private readonly o: PublisherOptions,
  ) {
    this.writer = new FfmpegChunkWriter(128);
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', () => undefined);
  }

  /** Connects and performs the handshake (nothing else). */
  static async open(o: PublisherOptions): Promise<RtmpTestPublisher> {
    const socket = net.connect(o.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const p = new RtmpTestPublisher(socket, o);
    const c1 = Buffer.alloc(1536);
    for (let i = 8; i < 1536; i++) c1[i] = i & 0xff;
    socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await p.until(() => p.handshaken, 'the handshake');
    return p;
  }

  /** Everything OBS does up to a started publish; resolves with the publish onStatus code. */
  static async publish(o: PublisherOptions): Promise<{ publisher: RtmpTestPublisher; code: string }> {
    const p = await RtmpTestPublisher.open(o);
    const code = await p.startPublishing();
    return { publisher: p, code };
  }

  async startPublishing(): Promise<string> {
    const o = this.o;
    const app = o.app ?? 'live';
    const chunkSize = o.chunkSize ?? 4096;
    const size = Buffer.alloc(4);
    size.writeUInt32BE(chunkSize);
    this.send(MSG.SET_CHUNK_SIZE, 0, size, CS_CONTROL);
    this.writer.chunkSize = chunkSize;
    const connectObj = {
      app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', swfUrl: `rtmp://127.0.0.1:${o.port}/${app}`, tcUrl: `rtmp://127.0.0.1:${o.port}/${app}`,
      fourCcList: ['av01', 'vp09', 'hvc1'], ...(o.connectExtra ?? {}),
    };
    const connectTxn = this.txn++;
    if (o.amf3Connect ?? true) {
      this.send(MSG.COMMAND_AMF3, 0, Buffer.concat([Buffer.from([0]), encodeAmf0('connect', connectTxn), Buffer.from([0x11]), amf3(connectObj)]), CS_COMMAND);
    } else this.call('connect', connectTxn, connectObj);
    const connected = await this.reply(connectTxn);
    if (connected.name !== '_result') return String((connected.args[1] as Record<string, Amf0Value> | undefined)?.code ?? connected.name);
    this.call('releaseStream', this.txn++, null, o.key);
    this.call('FCPublish', this.txn++, null, o.key);
    const createTxn = this.txn++;
    this.call('createStream', createTxn, null);
    const created = await this.reply(createTxn);
    this.streamId = Number(created.args[1]);
    this.send(MSG.COMMAND_AMF0, this.streamId, encodeAmf0('publish', this.txn++, null, o.key, 'live'), CS_DATA);
    const status = await this.next((c) => c.name === 'onStatus');
    return String((status.args[1] as Record<string, Amf0Value>).code);
  }

  /** Sends a command on the command chunk stream (message stream 0). */
  call(name: string, txn: number, ...args: Amf0Value[]): void {
    this.send(MSG.COMMAND_AMF0, 0, encodeAmf0(name, txn, ...args), CS_COMMAND);
  }

  nextTxn(): number {
    return this.txn++;
  }

  metadata(meta: Record<string, Amf0Value>): void {
    this.send(MSG.DATA_AMF0, this.streamId, encodeAmf0('@setDataFrame', 'onMetaData', meta), CS_DATA);
  }

  video(tag: Buffer, timestamp: number): void {
    this.send(MSG.VIDEO, this.streamId, tag, CS_VIDEO, timestamp);
  }

  audio(tag: Buffer, timestamp: number): void {
    this.send(MSG.AUDIO, this.streamId, tag, CS_AUDIO, timestamp);
  }

  /** FCUnpublish then deleteStream, as OBS stops. */
  unpublish(): void {
    this.call('FCUnpublish', this.txn++, null, this.o.key);
    this.call('deleteStream', 0, null, this.streamId);
  }

  send(type: number, streamId: number, payload: Buffer, csid: number, timestamp = 0): void {
    if (!this.socket.destroyed) this.socket.write(this.writer.write({ type, timestamp: timestamp >>> 0, streamId, payload }, csid));
  }

  close(): void {
    this.socket.destroy();
  }

  /** The reply to transaction `txn` (_result or _error). */
  reply(txn: number): Promise<ServerCommand> {
    return this.next((c) => (c.name === '_result' || c.name === '_error') && c.txn === txn);
  }

  /** The first command the server sent (or sends) that matches. */
  async next(match: (c: ServerCommand) => boolean, timeoutMs = 5000): Promise<ServerCommand> {
    let found: ServerCommand | undefined;
    await this.until(() => (found = this.commands.find(match)) !== undefined, 'a command from the server', timeoutMs);
    return found as ServerCommand;
  }

  private until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`test publisher: no ${what} within ${timeoutMs} ms (commands: ${this.commands.map((c) => c.name).join(', ')})`));
      }, timeoutMs);
      const check = () => {
        if (!cond()) return;
        clearTimeout(t);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
      this.socket.once('close', check);
    });
  }

  private data(d: Buffer): void {
    if (!this.handshaken) {
      this.hsIn = Buffer.concat([this.hsIn, d]);
      if (this.hsIn.length < 1 + 1536 * 2) return;
      this.socket.write(this.hsIn.subarray(1, 1537)); // C2 echoes S1
      d = this.hsIn.subarray(1 + 1536 * 2);
      this.handshaken = true;
    }
    for (const m of this.reader.push(d)) {
      if (m.type !== MSG.COMMAND_AMF0) continue;
      const v = decodeAmf0(m.payload);
      this.commands.push({ name: String(v[0]), txn: Number(v[1]), args: v.slice(2) });
    }
    for (const w of [...this.waiters]) w();
  }
}
