// Real faults at every level of both trees, with real processes and a real listener: a throw in
// a feed's data callback, a rejected promise in a timer and an exception while handling a
// GStreamer child's message each restart only the component's core (its feeders, and so its
// downstream, stay); a socket error inside a sender removes that one listener; a planet actor
// that exceeds its intensity is restarted by the manager actor and re-adopts the workers. The
// listener next to each fault is never disconnected, and the moods come back as they were.
import { execFileSync } from 'child_process';
import { z } from 'zod';
import { GdpFrame } from '../../protocol/gdp';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { defineComponentType } from '../../actors/components/component-type';
import { PipelineComponent, PipelineLayout } from '../../actors/components/pipeline/pipeline-component';
import { layoutDescription } from '../../actors/components/pipeline/pipeline-types';
import { checkPlanetText } from '../../actors/planet/check';
import { Worker } from '../../actors/worker/worker';
import { TreeNode } from '../../actors/supervision';
import { Manager } from '../../cli/manager-process';
import { StatusJson } from '../../protocol/status';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { describeGst } from '../helpers/gst';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, allHappy, freePort, moods, run, waitForStatus } from '../helpers/planet';

jest.setTimeout(90000);

type Fault = 'frame' | 'timer' | 'child';

/** A converter whose next frame, timer or child message fails, when a test arms it. */
class FaultProbe extends PipelineComponent<{ pipeline: string }> {
  static readonly live: FaultProbe[] = [];
  armed: Fault | null = null;
  constructor(name: string, p: { pipeline: string }) {
    super(name, p, ['default']);
    FaultProbe.live.push(this);
  }
  protected layout(eaters: ReadonlyMap<string, readonly string[]>, feeders: readonly string[]): PipelineLayout {
    return layoutDescription(this.properties.pipeline, eaters, feeders);
  }
  protected override onFrame(eater: string, feedId: string, frame: GdpFrame): void {
    if (this.armed === 'frame' && frame.kind === 'buffer') {
      this.armed = null;
      throw new Error('fault: a throw in the data callback');
    }
    if (this.armed === 'timer') {
      this.armed = null;
      setTimeout(this.guarded(async () => Promise.reject(new Error('fault: a rejected promise in a timer'))), 10);
    }
    super.onFrame(eater, feedId, frame);
  }
  protected override fromChild(feeder: string, f: GdpFrame): void {
    if (this.armed === 'child' && f.kind === 'buffer') {
      this.armed = null;
      throw new Error("fault: an exception while handling the GStreamer child's message");
    }
    super.fromChild(feeder, f);
  }
}

const probeType = defineComponentType({
  type: 'fault-probe',
  description: 'test: a pipeline converter that fails when armed',
  properties: z.object({ pipeline: z.string().default('identity') }).strict(),
  eaters: ['default'],
  feeders: ['default'],
  gstElements: ['identity'],
  create: (name, p) => new FaultProbe(name, p),
});

const planetYaml = (managerPort: number, httpPort: number) => `
name: faults
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET}, heartbeat-interval: 500, heartbeat-timeout: 2500 }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: worker1 }
      - { name: probe, type: fault-probe, worker: worker1, eaters: { default: [source] } }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [probe] } }
      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker2, properties: { port: ${httpPort}, mount-point: /live.wav, write-interval: 50 }, eaters: { default: [muxer] } }
`;

const node = (t: TreeNode | null | undefined, path: string[]) => {
  let n = t ?? undefined;
  for (const id of path) n = n?.children.find((c) => c.id === id);
  return n;
};

describeGst('real faults at every level of both trees', () => {
  let manager: Manager;
  let worker: Worker;
  let managerPort: number;
  let httpPort: number;
  const procs: Proc[] = [];
  const listeners: RawResponse[] = [];
  let before: Record<string, string>;

  beforeAll(async () => {
    (COMPONENT_TYPES as Map<string, unknown>).set(probeType.type, probeType);
    managerPort = await freePort();
    httpPort = await freePort();
    const { planet, issues } = checkPlanetText(planetYaml(managerPort, httpPort), COMPONENT_TYPES);
    if (!planet) throw new Error(JSON.stringify(issues));
    manager = new Manager(planet, { host: '127.0.0.1', port: managerPort, secret: SECRET, adminSecret: ADMIN_SECRET, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2500, log: () => undefined });
    await manager.listen();
    worker = new Worker({ name: 'worker1', managerUrl: `ws://127.0.0.1:${managerPort}`, secret: SECRET, feedHost: '127.0.0.1', feedPort: 0, checkIntervalMs: 1000, log: () => undefined });
    await worker.start();
    procs.push(run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    before = moods(await waitForStatus(managerPort, allHappy, 20000, 'all happy'));
  });

  afterAll(async () => {
    for (const l of listeners) l.socket.destroy();
    await worker?.shutdown();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await manager?.close();
    (COMPONENT_TYPES as Map<string, unknown>).delete(probeType.type);
  });

  async function listen(): Promise<RawResponse> {
    const r = await rawRequest(httpPort, get('/live.wav'));
    listeners.push(r);
    await waitFor(() => r.body().length > 2000, 10000, 'listener data');
    return r;
  }

  /** The listener keeps getting data, and every mood is as it was. */
  async function stillOnAir(l: RawResponse): Promise<StatusJson> {
    const s = await waitForStatus(managerPort, (x) => JSON.stringify(moods(x)) === JSON.stringify(before), 10000, 'moods as before');
    const seen = l.body().length;
    await waitFor(() => l.body().length > seen + 2000, 5000, 'the listener fed');
    expect(l.socket.destroyed).toBe(false);
    return s;
  }

  const probeCore = () => node(worker.tree(), ['components', '/default/probe', 'core']);
  const arm = (f: Fault) => {
    const live = FaultProbe.live.filter((p) => p.mood === 'happy');
    expect(live.length).toBeGreaterThan(0);
    live[live.length - 1].armed = f;
  };

  it.each([
    ['frame', 'a throw in the data callback'],
    ['timer', 'a rejected promise in a timer'],
    ['child', "an exception while handling the GStreamer child's message"],
  ] as Array<[Fault, string]>)('restarts only the core on %s fault (%s); the feeders and the listener stay', async (fault, reason) => {
    const l = await listen();
    const core = probeCore()!.restarts;
    const feeder = node(worker.tree(), ['components', '/default/probe', 'feeders', 'feeder default'])!;
    const downstream = node(worker.tree(), ['components', '/default/encoder', 'eaters', '/default/probe:default'])!.restarts;
    arm(fault);
    await waitFor(() => probeCore()?.restarts === core + 1 && probeCore()?.state === 'running', 10000, 'the core restarted');
    expect(probeCore()!.lastCrash?.reason).toBe(`fault: ${reason}`);
    // The feeders were not restarted (rest_for_one: feeders, core, eaters): the encoder kept its connection.
    expect(node(worker.tree(), ['components', '/default/probe', 'feeders', 'feeder default'])!.restarts).toBe(feeder.restarts);
    expect(node(worker.tree(), ['components', '/default/encoder', 'eaters', '/default/probe:default'])!.restarts).toBe(downstream);
    const s = await stillOnAir(l);
    expect(s.components.find((c) => c.name === 'probe')?.restarts).toBe(core + 1);
  });

  it('removes only the listener whose socket fails inside the sender', async () => {
    const a = await listen();
    const b = await listen();
    const streamerRestarts = (await waitForStatus(managerPort, () => true, 1000)).components.find((c) => c.name === 'streamer')!.restarts;
    // A reset from outside the process, while the sender writes to it.
    execFileSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${a.socket.localPort}`]);
    await waitFor(() => a.socket.destroyed, 5000, 'the reset listener gone');
    await stillOnAir(b);
    const streamer = (x: StatusJson) => x.components.find((c) => c.name === 'streamer')!;
    const removed = (x: StatusJson) => Object.values(streamer(x).details?.removed ?? {}).reduce((n, v) => n + v, 0);
    const s = await waitForStatus(managerPort, (x) => removed(x) >= 1, 5000, 'the removal counted');
    expect(streamer(s).restarts).toBe(streamerRestarts);
    expect(streamer(s).details?.clients).toBeGreaterThanOrEqual(1);
  });

  it('restarts a planet actor that exceeds its intensity from the manager actor; it re-adopts the workers and nothing stops', async () => {
    const l = await listen();
    const planet = () => node(manager.tree(), ['manager', 'planet']);
    const restarts = planet()!.restarts;
    // Its avatars crash more than its intensity allows (20 within 10 s): the planet gives up.
    for (let i = 0; i < 25; i++) {
      manager.sendAt(['manager', 'planet', 'worker worker1'], { type: 'bogus' });
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => (planet()?.restarts ?? 0) === restarts + 1 && planet()?.state === 'running', 10000, 'the planet restarted by the manager actor');
    expect(planet()!.lastCrash?.reason).toMatch(/worker worker1 exited 21 times within 10 s/);
    const s = await stillOnAir(l);
    expect(s.workers.every((w) => w.connected)).toBe(true);
    expect(s.manager.planetRestarts).toBe(restarts + 1);
    expect(node(manager.tree(), ['manager'])!.restarts).toBe(0);
  });

  it('keeps the components of a lost worker lost across a restart of the planet, and re-adopts the worker when it returns', async () => {
    const w2 = procs[0];
    w2.child.kill('SIGKILL');
    await waitForStatus(managerPort, (x) => moods(x).muxer === 'lost' && moods(x).streamer === 'lost', 10000, 'worker2 lost');
    const planet = () => node(manager.tree(), ['manager', 'planet']);
    const restarts = planet()!.restarts;
    for (let i = 0; i < 25; i++) {
      manager.sendAt(['manager', 'planet', 'worker worker1'], { type: 'bogus' });
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => (planet()?.restarts ?? 0) === restarts + 1 && planet()?.state === 'running', 10000, 'the planet restarted');
    const s = await waitForStatus(managerPort, (x) => moods(x).source === 'happy', 5000, 'worker1 re-adopted');
    expect(moods(s)).toMatchObject({ muxer: 'lost', streamer: 'lost' });
    expect(s.workers.find((w) => w.name === 'worker2')?.state).toBe('lost');
    procs.push(run(['worker', '--name', 'worker2', '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
    await waitForStatus(managerPort, allHappy, 15000, 'all happy with worker2 back');
  });
});
