import WebSocket, { WebSocketServer } from 'ws';
import { pack, unpack } from 'msgpackr';
import { Manager } from '../../cli/manager-process';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { WsChannel } from '../../transport/ws-channel';
import { z } from 'zod';
import { waitFor } from '../helpers/net';

describe('manager wire protocol', () => {
  it('answers bad frames before login with errors, then drops the connection; the process lives on', async () => {
    const { planet } = checkPlanetText('manager: { secret: abcdefgh1abcdefgh1 }\nworkers: [ { name: w1 } ]\n', COMPONENT_TYPES);
    const logs: string[] = [];
    const m = new Manager(planet!, { host: '127.0.0.1', port: 0, secret: 'abcdefgh1abcdefgh1', adminSecret: 'admin-secret-0123456789', heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1000, log: (l) => logs.push(l) });
    const port = await m.listen();
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      const got: unknown[] = [];
      ws.on('message', (d: Buffer) => got.push(unpack(d)));
      await new Promise((r) => ws.once('open', r));
      ws.send(Buffer.from([0xc1, 0xff, 0x00])); // not msgpack
      ws.send(pack({ type: 'login', role: 'worker', name: 'w1', response: 'nope' })); // fails the schema
      ws.send(pack({ type: 'status-request', requestId: 1 })); // before login
      await waitFor(() => got.length >= 4, 3000, 'replies');
      expect(got[0]).toMatchObject({ type: 'challenge' });
      expect(got.slice(1).map((g) => (g as { code: string }).code)).toEqual(['FLUX_WIRE_BAD_FRAME', 'FLUX_WIRE_BAD_FRAME', 'FLUX_WIRE_NOT_LOGGED_IN']);
      // Before login, a few bad frames end the connection (the process lives on, the log has one line).
      await waitFor(() => ws.readyState === WebSocket.CLOSED, 3000, 'the connection dropped');
      expect(logs.filter((l) => l.includes('bad frame')).length).toBe(1);
      expect(logs.some((l) => l.includes('after 3 bad frames before login'))).toBe(false); // the third was a valid frame
      const again = new WebSocket(`ws://127.0.0.1:${port}`);
      await new Promise((r) => again.once('message', r)); // a new connection gets its challenge
      again.close();
    } finally {
      await m.close();
    }
  });

  it('declares a silent link dead after the heartbeat timeout', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    wss.on('connection', (ws) => {
      // A peer that never answers: its socket stays open but sends nothing.
      ws.pause?.();
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => ws.once('open', r));
    const ch = new WsChannel(ws, z.object({ type: z.string() }));
    let timedOut = 0;
    ch.on('timeout', () => (timedOut = Date.now()));
    const t0 = Date.now();
    ch.heartbeat(100, 500);
    await waitFor(() => timedOut > 0, 3000, 'timeout');
    expect(timedOut - t0).toBeGreaterThanOrEqual(500);
    expect(ch.isOpen).toBe(false);
    wss.close();
  });
});
