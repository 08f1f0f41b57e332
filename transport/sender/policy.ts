// Names, units and defaults of the multi-client sender's policies (the multihandlesink
// properties of GStreamer, in fluxcast's spelling). Pure data and validation, no behaviour.

import { z } from 'zod';

export const SYNC_METHODS = ['latest', 'next-keyframe', 'latest-keyframe', 'burst', 'burst-keyframe', 'burst-with-keyframe'] as const;
export type SyncMethod = (typeof SYNC_METHODS)[number];

export const RECOVER_POLICIES = ['none', 'resync-latest', 'resync-soft-limit', 'resync-keyframe'] as const;
export type RecoverPolicy = (typeof RECOVER_POLICIES)[number];

/** Units of limits and bursts: buffers (count), bytes, or time (milliseconds of PTS span). */
export const UNIT_FORMATS = ['buffers', 'bytes', 'time'] as const;
export type UnitFormat = (typeof UNIT_FORMATS)[number];

/** Why a client left (GstMultiHandleSinkClientStatus; `moved`: detached, its handle open, to go on in another sender). */
export const REMOVE_REASONS = ['ok', 'closed', 'removed', 'slow', 'error', 'duplicate', 'flushing', 'moved'] as const;
export type RemoveReason = (typeof REMOVE_REASONS)[number];

export const amountSchema = z.object({
  format: z.enum(UNIT_FORMATS),
  value: z.number().nonnegative(),
});
export type Amount = z.infer<typeof amountSchema>;

export const senderLimitsSchema = z.object({
  syncMethod: z.enum(SYNC_METHODS).default('latest'),
  /** Burst for burst sync methods: at least this much (and at most burstMax, when set). */
  burst: amountSchema.optional(),
  burstMax: amountSchema.optional(),
  recoverPolicy: z.enum(RECOVER_POLICIES).default('none'),
  unitFormat: z.enum(UNIT_FORMATS).default('buffers'),
  /** Lag at which the recover policy applies; 0 = none. */
  unitsSoftMax: z.number().nonnegative().default(0),
  /** Lag at which a client is removed as slow; 0 = none (maxQueueBytes still applies). */
  unitsMax: z.number().nonnegative().default(0),
  /** Keep at least this much queued for bursts, even with no client needing it (0 = none). */
  buffersMin: z.number().int().nonnegative().default(0),
  bytesMin: z.number().int().nonnegative().default(0),
  timeMinMs: z.number().nonnegative().default(0),
  /** Remove a client that accepted no data for this long while data waited for it (0 = never). */
  timeoutMs: z.number().nonnegative().default(0),
  /** Resend the streamheader to connected clients when it changes. */
  resendStreamheader: z.boolean().default(true),
  /** Hard bound on queued bytes whatever the other limits say: clients further behind are removed as slow. */
  maxQueueBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /**
   * Adaptive batching: queued buffers are written to clients once `writeThresholdBytes` have
   * gathered since the last write, or `writeIntervalMs` after it, whichever comes first. Each
   * write then carries every buffer queued since the last one: fewer syscalls per byte for many
   * listeners. `writeIntervalMs` bounds the added latency; 0 = write as soon as a buffer is queued.
   */
  writeIntervalMs: z.number().nonnegative().default(0),
  writeThresholdBytes: z.number().int().nonnegative().default(0),
  /** Most bytes handed to one client's handle in one write batch. */
  maxBatchBytes: z.number().int().positive().default(256 * 1024),
});
export type SenderLimits = z.infer<typeof senderLimitsSchema>;
export type SenderLimitsInput = z.input<typeof senderLimitsSchema>;

export function senderLimits(input: SenderLimitsInput = {}): SenderLimits {
  return senderLimitsSchema.parse(input);
}
