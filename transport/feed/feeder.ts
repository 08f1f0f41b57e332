// A component's feeder on the data path: the GDP it produces goes through a multi-client
// sender to every eater of the feed, whether the eater connected to our feed server (eatFrom)
// or we connected to its (feedTo). New eaters are primed like gdppay's streamheader and start
// at a keyframe. No policy about connections lives here: the feeder actor decides who is
// added and keeps feed-to connections alive; frames arrive by direct calls.

import { EventEmitter } from 'events';
import * as net from 'net';
import { GdpFrame } from '../../protocol/gdp';
import { MultiClientSender } from '../sender/multi-client-sender';
import { GdpFeedInput } from '../sender/gdp-inputs';
import { StreamHandle } from '../sender/handles';

export interface FeederEvents {
  'eater-added': [id: number, peer: string];
  'eater-removed': [id: number, peer: string, reason: string];
}

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
    socket.resume();
    this.input.prime();
    const id = this.sender.add(handle);
    if (id !== null) this.emit('eater-added', id, handle.describe());
    return id;
  }

  close(): void {
    this.sender.close();
  }
}
