// Which actor takes a connection the worker's feed server accepted: the feeder of a feed an
// eater asks for, or the feed-to eater a pushing feeder names. Actors register themselves
// while they live (and only themselves); the feed server looks up and hands the socket over.

import * as net from 'net';
import { ResumePoint } from '../../protocol/feed-handshake';

/** An eater arrives for a feeder, with the point it resumes from (null: a new eater). */
export type EaterArrival = (socket: net.Socket, leftover: Buffer, resume: ResumePoint | null) => void;
export type PushArrival = (socket: net.Socket, leftover: Buffer) => void;

export class FeedDirectory {
  private readonly feeders = new Map<string, EaterArrival>();
  private readonly pushed = new Map<string, PushArrival>();

  /** Registers a feeder for `feed`; the returned function unregisters it (if still its own). */
  feeder(feed: string, take: EaterArrival): () => void {
    this.feeders.set(feed, take);
    return () => {
      if (this.feeders.get(feed) === take) this.feeders.delete(feed);
    };
  }

  /** Registers a feed-to eater waiting for `feed` to be pushed. */
  pushedEater(feed: string, take: PushArrival): () => void {
    this.pushed.set(feed, take);
    return () => {
      if (this.pushed.get(feed) === take) this.pushed.delete(feed);
    };
  }

  eaterArrives(feed: string): EaterArrival | null {
    return this.feeders.get(feed) ?? null;
  }

  pushArrives(feed: string): PushArrival | null {
    return this.pushed.get(feed) ?? null;
  }
}
