// The one supervision policy used at every level: restart intensity over a sliding window,
// jittered exponential backoff with its cap, and the backoff reset after a healthy run; then
// the same policy driving a real nact actor.
import { Ref, dispatch, start as startSystem, stop as stopSystem, spawn } from 'nact';
import { COMPONENT_POLICY, FEED_POLICY, RestartIntensity, SupervisionPolicy, UnknownMessageError, actorName, supervise, supervisedRecord } from '../../actors/supervision';
import { waitFor } from '../helpers/net';

const policy = (p: Partial<SupervisionPolicy> = {}): SupervisionPolicy => ({
  maxRestarts: 3,
  windowMs: 1000,
  backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
  resetAfterMs: 5000,
  ...p,
});

describe('RestartIntensity', () => {
  it('gives up past maxRestarts within the window, and forgives crashes that left the window', () => {
    const r = new RestartIntensity(policy(), () => 0.5, 0);
    expect(r.crashed(0)).not.toBeNull();
    expect(r.crashed(100)).not.toBeNull();
    expect(r.crashed(200)).not.toBeNull();
    expect(r.crashed(300)).toBeNull(); // a 4th crash within 1 s
    const later = new RestartIntensity(policy(), () => 0.5, 0);
    later.crashed(0);
    later.crashed(100);
    later.crashed(200);
    expect(later.crashed(1150)).not.toBeNull(); // the first one left the window
    expect(later.restarts).toBe(4);
  });

  it('grows the backoff by its factor up to the cap', () => {
    const r = new RestartIntensity(policy({ maxRestarts: Infinity }), () => 0.5, 0);
    const delays = Array.from({ length: 7 }, (_, i) => r.crashed(i));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('keeps jittered delays within ±jitter of the nominal delay, and never above the cap', () => {
    for (const random of [0, 0.25, 0.999]) {
      const r = new RestartIntensity(policy({ maxRestarts: Infinity, backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 } }), () => random, 0);
      const d = [r.crashed(0), r.crashed(1), r.crashed(2), r.crashed(3), r.crashed(4)] as number[];
      [100, 200, 400, 800, 1000].forEach((nominal, i) => {
        expect(d[i]).toBeGreaterThanOrEqual(nominal * 0.5);
        expect(d[i]).toBeLessThanOrEqual(Math.min(1000, nominal * 1.5));
      });
    }
  });

  it('starts the backoff over after a healthy run of resetAfterMs', () => {
    const r = new RestartIntensity(policy({ maxRestarts: Infinity, resetAfterMs: 2000 }), () => 0.5, 0);
    expect(r.crashed(0)).toBe(100);
    r.started(100);
    expect(r.crashed(200)).toBe(200); // crashed again soon: longer
    r.started(400);
    expect(r.crashed(600)).toBe(400);
    r.started(1000);
    expect(r.crashed(3500)).toBe(100); // ran 2.5 s: back to the first delay
  });

  it('has the documented level policies: components give up, feeds never do', () => {
    expect(COMPONENT_POLICY.maxRestarts).toBe(5);
    expect(FEED_POLICY.maxRestarts).toBe(Infinity);
    expect(FEED_POLICY.backoff.maxMs).toBe(2000);
  });
});

describe('supervise() on a nact actor', () => {
  let system: Ref<unknown>;
  beforeEach(() => (system = startSystem()));
  afterEach(() => stopSystem(system));

  it('resets a crashed actor after the backoff, from the state kept outside its mailbox', async () => {
    const record = { ...supervisedRecord(policy({ maxRestarts: 10, backoff: { initialMs: 20, maxMs: 20, factor: 1, jitter: 0 } })), seen: [] as string[], inits: 0 };
    const ref = spawn(system, (st: null, m: { type: string }) => {
      if (m.type !== 'note') throw new UnknownMessageError('test', m);
      record.seen.push('note');
      return st;
    }, actorName('a test/actor'), {
      initialStateFunc: () => {
        record.inits++;
        return null;
      },
      onCrash: supervise(record),
    });
    dispatch(ref, { type: 'note' });
    dispatch(ref, { type: 'bogus' });
    dispatch(ref, { type: 'note' });
    await waitFor(() => record.seen.length === 2);
    expect(record.inits).toBe(2);
    expect(record.intensity.restarts).toBe(1);
  });

  it('stops the actor and says why past the intensity; no restart once the parent stopped it', async () => {
    const gaveUp: string[] = [];
    const record = supervisedRecord(policy({ maxRestarts: 2, backoff: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0 } }));
    const ref = spawn(system, (): null => {
      throw new Error('always');
    }, 'crasher', { initialState: null, onCrash: supervise(record, { gaveUp: (e) => gaveUp.push(e?.message ?? '') }) });
    for (let i = 0; i < 3; i++) dispatch(ref, { type: 'x' });
    await waitFor(() => gaveUp.length === 1);
    expect(gaveUp[0]).toBe('always');
    expect(record.alive).toBe(false);

    const retired = supervisedRecord(policy());
    const ref2 = spawn(system, (): null => {
      throw new Error('late');
    }, 'retired', { initialState: null, onCrash: supervise(retired) });
    retired.alive = false;
    dispatch(ref2, { type: 'x' });
    await new Promise((r) => setTimeout(r, 50));
    expect(retired.intensity.restarts).toBe(0);
  });
});
