// A component's feeder on the data path: the GDP it produces goes through a multi-client
// sender to every eater of the feed, whether the eater connected to our feed server (eatFrom)
// or we connected to its (feedTo). Every buffer is numbered (feed-stream.ts): an eater is told
// where it starts (the START line of the feed handshake), resumes right after the last buffer
// it forwarded, and a new one is primed like gdppay's streamheader and starts at a keyframe.
// The queue keeps the last RESUME_WINDOW bytes for eaters that reconnect. No policy about
// connections lives here: the feeder actor decides who is added and keeps feed-to connections
// alive; frames arrive by direct calls. The one thing an eater may send back is a keyframe
// request (a GstForceKeyUnit upstream event as a GDP packet, see protocol/gst/key-unit.ts):
// read with a small bounded decoder, rate-limited, announced.

import { EventEmitter } from 'events';
import * as net from 'net';
import { BUFFER_FLAG, GdpDecoder, GdpFrame } from '../../protocol/gdp';
import { isKeyUnitRequest } from '../../protocol/gst/key-unit';
import { FeedStart, ResumePoint } from '../../protocol/feed-handshake';
import { MultiClientSender } from '../sender/multi-client-sender';
import { StreamHandle } from '../sender/handles';
import { FeedStream } from './feed-stream';

/**
 * What a feeder keeps for eaters that come back, whoever is connected (and at least its latest
 * keyframe): 2 MiB, over a minute of 256 kbit/s audio, over 3 s of 5 Mbit/s video. In bytes, not
 * time: a byte point is found by a binary search, a time point only by a walk over the queue.
 */
export const RESUME_WINDOW = { bytes: 2 * 1024 * 1024 };

export interface FeederEvents {
  'eater-added': [id: number, peer: string, start: FeedStart];
  'eater-removed': [id: number, peer: string, reason: string];
  /** An eater asked for a keyframe (at most one announced per KEY_UNIT_MIN_INTERVAL_MS). */
  'key-unit': [];
}

/** Keyframe requests announced at most this often, whatever the eaters send (ms). */
export const KEY_UNIT_MIN_INTERVAL_MS = 500;
/** What an eater may send back in one packet: a request is ~150 bytes. */
const UPSTREAM_MAX_PAYLOAD = 4096;

export class Feeder extends EventEmitter<FeederEvents> {
  readonly sender: MultiClientSender;
  readonly stream = new FeedStream();

  constructor(
    readonly feed: string,
    options: { maxLagBytes?: number; timeoutMs?: number } = {},
  ) {
    super();
    this.sender = new MultiClientSender({
      syncMethod: 'latest-keyframe',
      resendStreamheader: false, // every packet, sticky ones included, is queued in order; eaters are primed by us
      unitFormat: 'bytes',
      unitsMax: options.maxLagBytes ?? 16 * 1024 * 1024,
      timeoutMs: options.timeoutMs ?? 10000,
      bytesMin: RESUME_WINDOW.bytes,
    });
    this.sender.on('client-removed', (id, reason, stats) => this.emit('eater-removed', id, stats.peer, reason));
  }

  /** Keyframe requests from eaters: announced, and dropped by the rate limit. */
  keyUnitRequests = 0;
  keyUnitRequestsDropped = 0;
  private lastKeyUnit = 0;

  get clientCount(): number {
    return this.sender.clientCount;
  }

  /** The data path: one frame out to every eater. */
  frame(f: GdpFrame): void {
    this.stream.note(f, this.sender.queue.nextSeq);
    const keyframe = f.kind === 'buffer' ? (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0 : false;
    this.sender.push({ chunks: f.chunks as Buffer[], size: f.length, ptsMs: f.kind === 'buffer' ? f.ptsMs : null, keyframe });
    this.stream.forget(this.sender.queue.oldestSeq);
  }

  /**
   * Adds an eater's socket (from our feed server, or a feed-to connection) with the point it
   * resumes from: writes its START line and priming, then it gets the queue from there.
   * Returns its client id.
   */
  addEater(socket: net.Socket, resume: ResumePoint | null = null): number | null {
    const plan = this.stream.plan(resume, this.sender.queue);
    const handle = new StreamHandle(socket, { owned: true });
    this.readUpstream(socket);
    socket.resume();
    const prefix = [Buffer.from(JSON.stringify(plan.start) + '\n'), ...plan.priming];
    const id = this.sender.add(handle, { startAt: plan.startAt, streamheader: false, prefix });
    if (id !== null) this.emit('eater-added', id, handle.describe(), plan.start);
    return id;
  }

  close(): void {
    this.sender.close();
  }

  /** Keyframe requests from an eater; anything else it sends is ignored, a malformed packet ends the reading (not the feed). */
  private readUpstream(socket: net.Socket): void {
    const decoder = new GdpDecoder({
      maxPayloadSize: UPSTREAM_MAX_PAYLOAD,
      onFrame: (f) => {
        if (!isKeyUnitRequest(f)) return;
        const now = Date.now();
        if (now - this.lastKeyUnit < KEY_UNIT_MIN_INTERVAL_MS) {
          this.keyUnitRequestsDropped++;
          return;
        }
        this.lastKeyUnit = now;
        this.keyUnitRequests++;
        this.emit('key-unit');
      },
    });
    const onData = (chunk: Buffer) => {
      if (decoder.push(chunk)) socket.removeListener('data', onData);
    };
    socket.on('data', onData);
  }
}
