// One sender process of an http-streamer with `processes` > 1 (see sender-pool.ts). Its stdin
// carries the stream as GDP from the parent; listeners arrive over the IPC channel as sockets
// with the raw bytes of their request head, already admitted by the parent (method, mount,
// credentials, limits), and are served here like in a single-process streamer: caps wait,
// burst on connect, slow-client handling. It reports its counts every second (and soon after
// each arrival or departure), forwards access log lines, lists its listeners and kicks one when
// the parent asks, reads its streamer's intro file (at start, and again when the parent says);
// it exits when its parent goes away (the IPC channel closes).

import * as net from 'net';
import { GdpDecoder } from '../../protocol/gdp';
import { MultiClientSender } from '../sender/multi-client-sender';
import { RawPayloadInput } from '../sender/gdp-inputs';
import { SenderLimitsInput } from '../sender/policy';
import { StreamServer, StreamServerOptions } from './stream-server';
import { LISTENER_ID, ListenerInfo, MAX_LISTED } from './listener-registry';
import { Intro } from './intro';

/** What the parent tells a child (JSON, as its one argument). */
export interface ChildConfig {
  sender: SenderLimitsInput;
  server: Pick<StreamServerOptions, 'mountPoint' | 'burstOnConnect' | 'burstSize' | 'burstTime' | 'capsTimeoutMs' | 'maxHeaderBytes' | 'maxUrlLength' | 'maxWaiting' | 'corsOrigin'>;
  accessLog: boolean;
  /** The prefix of this child's listener ids (new for each start of a child). */
  instance?: string;
  /** The streamer's intro-file (checked by the parent already). */
  introFile?: string;
}

export interface ChildReport {
  type: 'report';
  /** Listeners received from the parent so far (the parent counts those still on their way). */
  received: number;
  clients: number;
  bytesServed: number;
  bitrateOut: number;
  removed: Record<string, number>;
  /** Seconds listened by this child's listeners so far, those still connected included. */
  listenerSeconds: number;
  /** Listeners its intro was played to. */
  introPlays?: number;
}

/** From the parent: a listener (with its socket), or a question about the listeners. */
export type ToChild = { type: 'listener'; head: string; since?: number } | { type: 'list'; requestId: number } | { type: 'kick'; requestId: number; id: string } | { type: 'intro-reload' };
/** To the parent, besides reports and access log lines: answers to its questions. */
export type ChildAnswer = { type: 'listeners'; requestId: number; listeners: ListenerInfo[]; total: number } | { type: 'kicked'; requestId: number; ok: boolean };

function main(): void {
  const config = JSON.parse(process.argv[2]) as ChildConfig;
  const say = (_level: string, text: string) => process.stderr.write(`sender process ${process.pid}: ${text}\n`);
  const intro = config.introFile ? new Intro(config.introFile, say) : null;
  let introPlays = 0;
  // The parent read it a moment ago: a failure here (the file changed since) leaves this process
  // without it. Messages wait for it (in order), so the first listeners get it too.
  const introRead = intro ? intro.load().catch((e: Error) => say('warning', `intro-file not read: ${e.message}`)) : Promise.resolve();
  const sender = new MultiClientSender(config.sender);
  const input = new RawPayloadInput(sender);
  const removed: Record<string, number> = {};
  sender.on('client-removed', (_id, reason) => (removed[reason] = (removed[reason] ?? 0) + 1));
  const server = new StreamServer(sender, {
    ...config.server,
    instance: config.instance,
    listen: false,
    trusted: true,
    clientLimit: 0,
    accessLog: config.accessLog ? (line) => process.send?.({ type: 'log', line }) : undefined,
    intro: intro
      ? (caps) => {
          const bytes = intro.for(caps);
          if (bytes) introPlays++;
          return bytes;
        }
      : undefined,
  });
  input.onCaps((c) => server.setCaps(c));
  void server.listen();
  const decoder = new GdpDecoder({ onFrame: (f) => input.frame(f) });
  process.stdin.on('data', (chunk: Buffer) => {
    const err = decoder.push(chunk);
    if (err) {
      process.stderr.write(`sender process ${process.pid}: bad GDP from the parent: ${err.code}: ${err.message}\n`);
      process.exit(1);
    }
  });
  let received = 0;
  type Message = Partial<ToChild> & { requestId?: unknown; id?: unknown; head?: unknown; since?: unknown };
  const onMessage = (m: Message, socket?: net.Socket) => {
    if (m?.type === 'list' && typeof m.requestId === 'number') {
      const answer: ChildAnswer = { type: 'listeners', requestId: m.requestId, ...server.listListeners(MAX_LISTED) };
      process.send?.(answer);
      return;
    }
    if (m?.type === 'intro-reload') {
      void intro?.reload('SIGHUP');
      return;
    }
    if (m?.type === 'kick' && typeof m.requestId === 'number') {
      const answer: ChildAnswer = { type: 'kicked', requestId: m.requestId, ok: typeof m.id === 'string' && LISTENER_ID.test(m.id) && server.kick(m.id) };
      process.send?.(answer);
      return;
    }
    received++;
    if (m?.type !== 'listener' || !(socket instanceof net.Socket) || typeof m.head !== 'string') {
      socket?.destroy();
      return;
    }
    // When the parent accepted it: the listener's connect time, whichever process serves it.
    server.acceptHanded(socket, Buffer.from(m.head, 'latin1'), typeof m.since === 'number' && Number.isFinite(m.since) ? m.since : Date.now());
  };
  process.on('message', (m: Message, socket?: net.Socket) => void introRead.then(() => onMessage(m, socket)));
  const report = () => {
    if (soon) clearTimeout(soon);
    soon = null;
    const st = server.stats();
    const r: ChildReport = { type: 'report', received, clients: st.currentClients, bytesServed: st.bytesServed, bitrateOut: st.bitrateOut, removed, listenerSeconds: st.listenerSeconds, introPlays };
    process.send?.(r);
  };
  // Arrivals and departures are reported within 50 ms (the parent's peak and limits follow them).
  let soon: NodeJS.Timeout | null = null;
  const reportSoon = () => {
    soon ??= setTimeout(report, 50);
  };
  sender.on('client-added', reportSoon);
  sender.on('client-removed', reportSoon);
  setInterval(report, 1000).unref();
  report();
  const bye = () => process.exit(0);
  process.on('disconnect', bye);
  process.on('SIGTERM', bye);
  process.stdin.on('end', bye);
}

if (require.main === module) void main();
