import { Ref, dispatch, query, spawn, start, stop } from 'nact';
import { SenderEvent, SenderReply, spawnSenderActor } from '../../actors/sender-actor';
import { MultiClientSender } from '../../transport/sender/multi-client-sender';
import { StreamHandle } from '../../transport/sender/handles';
import { connect, listen, waitFor } from '../helpers/net';
import * as net from 'net';

describe('sender actor', () => {
  it('adds and removes clients, reports stats and limits, and tells subscribers', async () => {
    const system = start();
    const sender = new MultiClientSender();
    const actor = spawnSenderActor(system, sender, 'sender');
    const events: SenderEvent[] = [];
    const subscriber: Ref<SenderEvent> = spawn(system, (s: null, e: SenderEvent) => {
      events.push(e);
      return s;
    }, 'subscriber', { initialState: null });
    dispatch(actor, { type: 'subscribe', subscriber });
    const sockets: net.Socket[] = [];
    const { server, port } = await listen((s) => sockets.push(s));
    const reader = await connect(port);
    await waitFor(() => sockets.length === 1);

    const added = (await query(actor, (replyTo: Ref<SenderReply>) => ({ type: 'add' as const, handle: new StreamHandle(sockets[0], { owned: true }), replyTo }), 2000)) as SenderReply;
    expect(added).toEqual({ type: 'added', id: 1 });
    sender.push({ chunks: [Buffer.from('abc')], size: 3, ptsMs: 0, keyframe: true });
    await waitFor(() => reader.bytes === 3);
    const stats = (await query(actor, (replyTo: Ref<SenderReply>) => ({ type: 'get-stats' as const, replyTo }), 2000)) as Extract<SenderReply, { type: 'stats' }>;
    expect(stats.totals.clients).toBe(1);
    expect(stats.clients[0].bytesSent).toBe(3);
    const bad = (await query(actor, (replyTo: Ref<SenderReply>) => ({ type: 'set-limits' as const, limits: { unitsMax: -5 }, replyTo }), 2000)) as SenderReply;
    expect(bad.type).toBe('error');
    dispatch(actor, { type: 'remove', id: 1 });
    await waitFor(() => events.length === 2, 2000, 'events');
    expect(events[0]).toEqual({ type: 'client-added', id: 1 });
    expect(events[1]).toMatchObject({ type: 'client-removed', id: 1, reason: 'removed', stats: { bytesSent: 3 } });
    await reader.closed;
    sender.close();
    server.close();
    stop(system);
  });
});
