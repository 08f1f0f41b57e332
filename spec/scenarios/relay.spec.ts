// Relays between planets, with real processes: an edge planet's streamer eats a central
// planet's Ogg feed by host:port with the central planet's feed secret. Caps, streamheaders and
// keyframes come through GDP untouched (no re-encoding); the edge's listener decodes; a restart
// of the central worker is survived; a wrong secret is refused and said so.

import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { decodedSeconds, describeGst, runGstClient } from '../helpers/gst';
import { ADMIN_SECRET, Proc, freePort, run, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(90000);

const CENTRAL_SECRET = 'central-planet-feed-secret';
const EDGE_SECRET = 'edge-planet-worker-secret';

function centralPlanet(managerPort: number): string {
  return `
name: central
manager: { port: ${managerPort}, secret: ${CENTRAL_SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: studio } ]
flows:
  - name: radio
    components:
      - { name: tone, type: audiotest-producer, worker: studio, properties: { rate: 44100, channels: 2 } }
      - { name: vorbis, type: vorbis-encoder, worker: studio, eaters: { default: [tone] } }
      - { name: ogg, type: ogg-muxer, worker: studio, eaters: { default: [vorbis] } }
`;
}

function edgePlanet(managerPort: number, httpPort: number, feedPort: number, secret: string): string {
  return `
name: edge
manager: { port: ${managerPort}, secret: ${EDGE_SECRET}, admin-secret: ${ADMIN_SECRET} }
workers: [ { name: edge1 } ]
flows:
  - name: relay
    components:
      - name: streamer
        type: http-streamer
        worker: edge1
        properties: { port: ${httpPort}, mount-point: /radio.ogg }
        eaters:
          default:
            - { feed: /radio/ogg:default, remote: "127.0.0.1:${feedPort}", secret: ${secret} }
`;
}

describeGst('relays between planets', () => {
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  afterEach(() => {
    for (const l of listeners.splice(0)) l.socket.destroy();
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  const startCentral = async (managerPort: number, feedPort: number) => {
    const worker = run(['worker', '--name', 'studio', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', String(feedPort)], { FLUXCAST_SECRET: CENTRAL_SECRET });
    procs.push(worker);
    return worker;
  };

  it('an edge planet relays a central planet\'s feed by GDP, its listener decodes, and a central worker restart is survived', async () => {
    const [cm, em, feedPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push(run(['manager', '--planet', writePlanet(centralPlanet(cm))], { FLUXCAST_SECRET: CENTRAL_SECRET }));
    const studio = await startCentral(cm, feedPort);
    procs.push(run(['manager', '--planet', writePlanet(edgePlanet(em, httpPort, feedPort, CENTRAL_SECRET))], { FLUXCAST_SECRET: EDGE_SECRET }));
    procs.push(run(['worker', '--name', 'edge1', '--manager', `ws://127.0.0.1:${em}`, '--feed-port', '0'], { FLUXCAST_SECRET: EDGE_SECRET }));
    await waitForStatus(cm, (s) => s.components.every((c) => c.mood === 'happy'), 30000, 'central happy');
    const edge = await waitForStatus(em, (s) => s.components[0]?.mood === 'happy', 30000, 'edge streamer happy');
    expect(edge.components[0].eaters[0].feeds[0]).toMatchObject({ feedId: '/radio/ogg:default', connected: true });

    const listener = await rawRequest(httpPort, get('/radio.ogg'));
    listeners.push(listener);
    await waitFor(() => listener.body().length > 8000, 10000, 'the edge listener fed');
    expect(listener.head()).toMatch(/Content-Type: application\/ogg/);
    expect(listener.body().subarray(0, 4).toString('latin1')).toBe('OggS');
    const out = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${httpPort}/radio.ogg`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false'], 2500);
    expect(out).not.toMatch(/ERROR/);
    expect(decodedSeconds(out)).toBeGreaterThan(1);

    // The central worker dies and comes back on its feed port: the edge goes hungry, then happy.
    studio.child.kill('SIGKILL');
    await studio.exited;
    await waitForStatus(em, (s) => s.components[0]?.mood === 'hungry', 10000, 'edge hungry without its upstream');
    await startCentral(cm, feedPort);
    await waitForStatus(em, (s) => s.components[0]?.mood === 'happy', 30000, 'edge happy again');
    const seen = listener.body().length;
    await waitFor(() => listener.body().length > seen + 8000, 15000, 'the same listener fed again');
    expect(listener.socket.destroyed).toBe(false);
  });

  it('a wrong secret for the remote planet is refused, and the edge says so', async () => {
    const [cm, em, feedPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push(run(['manager', '--planet', writePlanet(centralPlanet(cm))], { FLUXCAST_SECRET: CENTRAL_SECRET }));
    await startCentral(cm, feedPort);
    procs.push(run(['manager', '--planet', writePlanet(edgePlanet(em, httpPort, feedPort, 'not-the-central-secret'))], { FLUXCAST_SECRET: EDGE_SECRET }));
    procs.push(run(['worker', '--name', 'edge1', '--manager', `ws://127.0.0.1:${em}`, '--feed-port', '0'], { FLUXCAST_SECRET: EDGE_SECRET }));
    await waitForStatus(cm, (s) => s.components.every((c) => c.mood === 'happy'), 30000, 'central happy');
    const s = await waitForStatus(em, (x) => (x.components[0]?.messages ?? []).some((m) => /FLUX_FEED_/.test(m.text)), 20000, 'the refusal said');
    expect(s.components[0].mood).toBe('hungry');
    expect(s.components[0].messages.map((m) => m.text).join('\n')).toMatch(/FLUX_FEED_(AUTH|REFUSED|BAD_PROOF)/);
  });
});
