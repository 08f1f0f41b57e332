// What an http-streamer's stream server is told (StreamServerOptions, with Flumotion's defaults)
// and what it tells (StreamServerStats). Types and defaults only: the server is stream-server.ts.

import * as net from 'net';
import { TlsFiles } from '../tls';
import { ListenerAuth } from './listener-auth';
import { IcestatsSource } from './icestats';
import { GstCaps } from '../../protocol/gst/caps';
import type { StreamServer } from './stream-server';

export interface StreamServerOptions {
  host: string;
  port: number;
  mountPoint: string;
  /** Most listeners at once (0 = no limit). */
  clientLimit: number;
  /** Most outgoing bits per second, estimated from the stream's bitrate (0 = no limit). */
  bandwidthLimit: number;
  /** Where to send listeners over a limit (302) instead of answering 503. */
  redirectOnOverflow?: string;
  burstOnConnect: boolean;
  /** Burst size in KiB (when burstTime is not set). */
  burstSize: number;
  /** Burst duration in seconds; takes precedence over burstSize. */
  burstTime?: number;
  auth?: ListenerAuth;
  headerTimeoutMs: number;
  maxHeaderBytes: number;
  maxUrlLength: number;
  /** Connections still sending their request, at most (beyond: the oldest is dropped for the newest). */
  maxPendingRequests: number;
  /** Connections still sending their request from one address, at most (likewise). */
  maxPendingPerAddress: number;
  /** Listeners waiting for the stream's caps, at most (beyond: 503). */
  maxWaiting: number;
  /** How long a listener may wait for the stream's caps before a 503 (ms). */
  capsTimeoutMs: number;
  accessLog?: (line: string) => void;
  /** False behind a porter (or in a sender child): no port of its own, listeners are handed in. */
  listen: boolean;
  /**
   * Serves an admitted listener elsewhere (a sender child): called after the method, mount,
   * credentials and limits were checked, with the request head's raw bytes. True = taken.
   */
  handOff?: (socket: net.Socket, head: Buffer, since: number) => boolean;
  /** Listeners served elsewhere (sender children), counted against client-limit too. */
  externalClients?: () => number;
  /** Listeners were admitted already (by the parent process): no credentials or limits again. */
  trusted?: boolean;
  /** `Access-Control-Allow-Origin` sent to listeners (browsers' players on other sites); none when empty. */
  corsOrigin?: string;
  /** HTTPS: the certificate is reloaded when its files change or on SIGHUP. */
  tls?: TlsFiles & { log(line: string): void };
  /** This mount's public Icecast status (/status-json.xsl; null before its stream starts); without it, 404 there. */
  publicStatus?: () => IcestatsSource | null;
  /** The prefix of listener ids (default: random): ids stay unique across restarts and processes. */
  instance?: string;
  /** An intro file (intro.ts): what a new listener of a stream with these caps is written first, or null. */
  intro?: (caps: GstCaps | null) => Buffer | null;
  /** Whose listeners this mount's are (fallback.ts: where they go back to); default: the mount point. */
  home?: string;
  /** This mount is on its fallback: new listeners are served there (as ours, or as `home`'s), or null. */
  divert?: () => { server: StreamServer; home?: string } | null;
  /** The stream's title now, for ICY metadata written per listener (moved ones, those with an intro). */
  title?: () => string;
}

export const STREAM_SERVER_DEFAULTS: Omit<StreamServerOptions, 'port'> & { port: number } = {
  host: '127.0.0.1',
  port: 8800,
  mountPoint: '/',
  clientLimit: 10000,
  bandwidthLimit: 0,
  burstOnConnect: true,
  burstSize: 64,
  headerTimeoutMs: 10000,
  maxHeaderBytes: 8192,
  maxUrlLength: 2048,
  maxPendingRequests: 1024,
  maxPendingPerAddress: 256,
  maxWaiting: 1000,
  capsTimeoutMs: 10000,
  listen: true,
};

export interface StreamServerStats {
  currentClients: number;
  peakClients: number;
  /** When the peak was first reached (ms since the epoch), null before any listener. */
  peakTime: number | null;
  /** Seconds listened, over every listener, those still connected included. */
  listenerSeconds: number;
  totalClients: number;
  bytesServed: number;
  /** Bits per second into the sender and out to listeners, averaged over the last 10 s. */
  bitrateIn: number;
  bitrateOut: number;
  refused: Record<string, number>;
}
