// A component's feeder on the data path: the GDP it produces goes through a multi-client
// sender to every eater of the feed, whether the eater connected to our feed server (eatFrom)
// or we connected to its (feedTo). New eaters are primed like gdppay's streamheader and start
// at a keyframe. No policy about connections lives here: the feeder actor decides who is
// added and keeps feed-to connections alive; frames arrive by direct calls. The one thing an
// eater may send back is a keyframe request (a GstForceKeyUnit upstream event as a GDP packet,
// see protocol/gst/key-unit.ts): read with a small bounded decoder, rate-limited, announced.

import { EventEmitter } from 'events';
import * as net from 'net';
import { GdpDecoder, GdpFrame } from '../../protocol/gdp';
import { isKeyUnitRequest } from '../../protocol/gst/key-unit';
import { MultiClientSender } from '../sender/multi-client-sender';
import { GdpFeedInput } from '../sender/gdp-inputs';
import { StreamHandle } from '../sender/handles';

export interface FeederEvents {
  'eater-added': [id: number, peer: string];
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
  readonly input: GdpFeedInput;

  constructor(
    readonly feed: string,
    options: { maxLagBytes?: number; timeoutMs?: number } = {},
  ) {
    super();
    this.sender = new MultiClientSender({
      syncMethod: 'latest-keyframe',
      resendStreamheader: false, // every packet, sticky ones included, is queued in order
      unitFormat: 'bytes',
      unitsMax: options.maxLagBytes ?? 16 * 1024 * 1024,
      timeoutMs: options.timeoutMs ?? 10000,
    });
    this.input = new GdpFeedInput(this.sender);
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
    this.input.frame(f);
  }

  /** Adds an eater's socket (from our feed server, or a feed-to connection); returns its client id. */
  addEater(socket: net.Socket): number | null {
    const handle = new StreamHandle(socket, { owned: true });
    this.readUpstream(socket);
    socket.resume();
    this.input.prime();
    const id = this.sender.add(handle);
    if (id !== null) this.emit('eater-added', id, handle.describe());
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
