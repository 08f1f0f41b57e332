// The shapes the multi-client sender and its queue share with their users: a queued buffer,
// a client's options and read position, a batch, the statistics and events of clients and of
// the sender. Types and one constant only; behaviour is in buffer-queue.ts and multi-client-sender.ts.

import { Amount, RemoveReason, SyncMethod } from './policy';
import { ClientHandle } from './handles';

/** A buffer as the sender sees it; `chunks` are written as they are (never copied). */
export interface SenderBuffer {
  readonly chunks: readonly Buffer[];
  readonly size: number;
  /** Presentation time in milliseconds, or null. */
  readonly ptsMs: number | null;
  /** False for a delta unit (GST_BUFFER_FLAG_DELTA_UNIT); new clients may start only on keyframes in keyframe modes. */
  readonly keyframe: boolean;
}

export const WAITING = -1;

export interface ClientOptions {
  syncMethod?: SyncMethod;
  burst?: Amount;
  burstMax?: Amount;
  /**
   * The oldest sequence number the client may start at, whatever its sync method says: a listener
   * moved back to a stream that returned starts in the new stream, never in what was queued before.
   */
  notBefore?: number;
  /**
   * Start exactly at this sequence number (clamped into the queue; `nextSeq` = with the next
   * buffer), whatever the sync method says: a feed eater resuming where it stopped.
   */
  startAt?: number;
  /** False: the client never gets the streamheader (its owner primed it already, or it resumes). */
  streamheader?: boolean;
}

export interface CursorStats {
  buffersSent: number;
  buffersDropped: number;
  firstPtsMs: number | null;
  lastPtsMs: number | null;
}

export interface Cursor {
  readonly id: number;
  /** Sequence number of the next buffer to send, or WAITING. */
  next: number;
  readonly syncMethod: SyncMethod;
  readonly burst: Amount | undefined;
  readonly burstMax: Amount | undefined;
  /** Streamheader version this client last received; -1 = none yet. */
  headerVersion: number;
  /** remove-flush: last sequence number (exclusive) the client still gets before removal. */
  flushUntil: number | null;
  /** See ClientOptions.notBefore (0: anywhere). */
  readonly notBefore: number;
  /** Not placed in the queue yet (it is being written something else first): see join(). */
  held: boolean;
  readonly stats: CursorStats;
}

/** What to write next to one client: zero-copy chunks, counted in buffers and bytes. */
export interface Batch {
  readonly chunks: Buffer[];
  readonly bytes: number;
  readonly buffers: number;
}

export interface ClientStats {
  id: number;
  peer: string;
  bytesSent: number;
  buffersSent: number;
  buffersDropped: number;
  /** Wall clock, ms since the epoch. */
  connectTime: number;
  /** Wall clock, ms since the epoch; 0 while connected. */
  disconnectTime: number;
  connectDurationMs: number;
  /** Monotonic ms (performance.now()) of the last write the handle accepted. */
  lastActivity: number;
  firstPtsMs: number | null;
  lastPtsMs: number | null;
  /** The handle's error when the reason is 'error' (e.g. ENOSPC on a full disk). */
  error: (Error & { code?: string }) | null;
}

export interface SenderTotals {
  clients: number;
  peakClients: number;
  bytesQueued: number;
  bytesServed: number;
  buffersQueued: number;
  queueBytes: number;
  queueBuffers: number;
  clientsRemoved: number;
}

export interface AddOptions extends ClientOptions {
  /** Bytes for this client alone, written before anything queued (a feed eater's START line and priming). */
  prefix?: Buffer[];
  /** Release the handle's fd/stream when the client goes (default: what the handle owns). */
  closeOnRemove?: boolean;
  /**
   * Bytes written to the client first (an intro file); it joins the stream by its sync method
   * once its handle took them all (so a long intro costs the queue nothing meanwhile).
   */
  intro?: readonly Buffer[];
  /** Its connect time when it comes from another sender (ms since the epoch; default: now). */
  connectTime?: number;
}

/** A client detached from this sender (reason `moved`): its handle, still open, and its stats here. */
export interface Detached {
  handle: ClientHandle;
  stats: ClientStats;
}

export interface MultiClientSenderEvents {
  'client-added': [id: number];
  'client-removed': [id: number, reason: RemoveReason, stats: ClientStats];
}
