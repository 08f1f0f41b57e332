// The OTP supervision module alone: strategies, restart types, intensity per supervisor with
// escalation up to the root, teardown on every exit, backoff on timers, bounded mailboxes.
import { ActorDef, ChildSpec, Root, SupervisorFlags, TreeNode, startRoot } from '../../../actors/supervision';
import { waitFor } from '../../helpers/net';

type Msg = { type: 'crash' } | { type: 'ping'; reply: (v: unknown) => void } | { type: 'exit' } | { type: 'slow'; ms: number } | { type: 'fail-later' };

/** A child that records its life in `events`: start, stop (its teardown), and what it was asked. */
function worker(id: string, events: string[], opts: { restart?: ChildSpec['restart']; args?: unknown; teardownMs?: number; shutdown?: number } = {}): ChildSpec {
  return {
    id,
    restart: opts.restart ?? 'permanent',
    shutdown: opts.shutdown ?? 1000,
    args: opts.args,
    start: (args): ActorDef<null, Msg> => ({
      init(ctx) {
        events.push(`start ${id}${args !== undefined ? ` ${JSON.stringify(args)}` : ''}`);
        ctx.defer(async () => {
          if (opts.teardownMs) await new Promise((r) => setTimeout(r, opts.teardownMs));
          events.push(`stop ${id}`);
        });
        return null;
      },
      async receive(st, msg, ctx) {
        switch (msg.type) {
          case 'crash':
            throw new Error(`${id} crashed`);
          case 'ping':
            msg.reply(id);
            return st;
          case 'exit':
            ctx.exit();
            return st;
          case 'slow':
            await new Promise((r) => setTimeout(r, msg.ms));
            return st;
          case 'fail-later':
            setTimeout(ctx.guard(async () => Promise.reject(new Error(`${id} rejected in a timer`))), 5);
            return st;
        }
      },
    }),
  };
}

function supervisor(id: string, flags: Partial<SupervisorFlags>, children: ChildSpec[], events?: string[]): ChildSpec {
  return {
    id,
    restart: 'permanent',
    shutdown: 5000,
    start: (): ActorDef<null, never> => ({
      flags,
      children,
      init(ctx) {
        events?.push(`start ${id}`);
        ctx.defer(() => void events?.push(`stop ${id}`));
        return null;
      },
      receive: (st) => st,
    }),
  };
}

const fast: Partial<SupervisorFlags> = { intensity: 10, periodMs: 5000, backoff: { initialMs: 0, maxMs: 0, factor: 2, jitter: 0 } };

function find(t: TreeNode, id: string): TreeNode | undefined {
  if (t.id === id) return t;
  for (const c of t.children) {
    const f = find(c, id);
    if (f) return f;
  }
  return undefined;
}

const sendTo = (root: Root, path: string[], msg: Msg): boolean => root.sendAt(path, msg);

describe('supervision: strategies', () => {
  const roots: Root[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.stop()));
  });
  const boot = (children: ChildSpec[], flags: Partial<SupervisorFlags> = fast, gaveUp: (e: Error) => void = () => undefined) => {
    const r = startRoot(children, { id: 'test', flags, log: () => undefined, gaveUp });
    roots.push(r);
    return r;
  };

  it('one_for_one restarts only the child that crashed', async () => {
    const ev: string[] = [];
    const root = boot([worker('a', ev), worker('b', ev), worker('c', ev)], { ...fast, strategy: 'one_for_one' });
    await waitFor(() => ev.length === 3);
    sendTo(root, ['b'], { type: 'crash' });
    await waitFor(() => ev.includes('start b') && ev.filter((e) => e === 'start b').length === 2);
    expect(ev).toEqual(['start a', 'start b', 'start c', 'stop b', 'start b']);
    expect(find(root.tree(), 'b')).toMatchObject({ state: 'running', restarts: 1, lastCrash: { reason: 'b crashed' } });
    expect(find(root.tree(), 'a')).toMatchObject({ restarts: 0 });
  });

  it('one_for_all terminates every child right to left and starts them again left to right', async () => {
    const ev: string[] = [];
    const root = boot([worker('a', ev), worker('b', ev), worker('c', ev)], { ...fast, strategy: 'one_for_all' });
    await waitFor(() => ev.length === 3);
    sendTo(root, ['b'], { type: 'crash' });
    await waitFor(() => ev.length === 9);
    expect(ev.slice(3)).toEqual(['stop b', 'stop c', 'stop a', 'start a', 'start b', 'start c']);
  });

  it('rest_for_one restarts the child and those started after it', async () => {
    const ev: string[] = [];
    const root = boot([worker('a', ev), worker('b', ev), worker('c', ev)], { ...fast, strategy: 'rest_for_one' });
    await waitFor(() => ev.length === 3);
    sendTo(root, ['b'], { type: 'crash' });
    await waitFor(() => ev.length === 7);
    expect(ev.slice(3)).toEqual(['stop b', 'stop c', 'start b', 'start c']);
    expect(find(root.tree(), 'a')).toMatchObject({ restarts: 0, state: 'running' });
  });
});

describe('supervision: restart types', () => {
  const roots: Root[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.stop()));
  });
  const boot = (children: ChildSpec[]) => {
    const r = startRoot(children, { id: 'test', flags: fast, log: () => undefined, gaveUp: () => undefined });
    roots.push(r);
    return r;
  };

  it('never restarts a temporary child, and forgets it', async () => {
    const ev: string[] = [];
    const root = boot([worker('t', ev, { restart: 'temporary' })]);
    await waitFor(() => ev.length === 1);
    root.send('t', { type: 'crash' });
    await waitFor(() => ev.includes('stop t'));
    await new Promise((r) => setTimeout(r, 50));
    expect(ev).toEqual(['start t', 'stop t']);
    expect(find(root.tree(), 't')).toBeUndefined();
  });

  it('restarts a transient child after a crash but not after a normal exit', async () => {
    const ev: string[] = [];
    const root = boot([worker('x', ev, { restart: 'transient' })]);
    await waitFor(() => ev.length === 1);
    root.send('x', { type: 'crash' });
    await waitFor(() => ev.length === 3);
    root.send('x', { type: 'exit' });
    await waitFor(() => ev.length === 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(ev).toEqual(['start x', 'stop x', 'start x', 'stop x']);
    expect(find(root.tree(), 'x')).toMatchObject({ state: 'stopped' });
  });

  it('lets a spec decide per exit: restarted after its own crash, ended (and forgotten) otherwise', async () => {
    const ev: string[] = [];
    const spec = { ...worker('c', ev, { restart: 'temporary' }), shouldRestart: (r: { kind: string }) => r.kind === 'crash' };
    const root = boot([spec]);
    await waitFor(() => ev.length === 1);
    root.send('c', { type: 'crash' });
    await waitFor(() => ev.length === 3);
    root.send('c', { type: 'exit' });
    await waitFor(() => ev.length === 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(ev).toEqual(['start c', 'stop c', 'start c', 'stop c']);
    expect(find(root.tree(), 'c')).toBeUndefined();
  });

  it('restarts a permanent child even after a normal exit', async () => {
    const ev: string[] = [];
    const root = boot([worker('p', ev)]);
    await waitFor(() => ev.length === 1);
    root.send('p', { type: 'exit' });
    await waitFor(() => ev.length === 3);
    expect(ev).toEqual(['start p', 'stop p', 'start p']);
  });
});

describe('supervision: intensity and escalation', () => {
  const roots: Root[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.stop()));
  });

  it('counts restarts per supervisor, over all its children, and escalates past the intensity', async () => {
    const ev: string[] = [];
    const inner = supervisor('inner', { ...fast, intensity: 2, periodMs: 10000 }, [worker('a', ev), worker('b', ev)], ev);
    const root = startRoot([inner], { id: 'test', flags: { ...fast, intensity: 5 }, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 3);
    const crash = (id: string) => expect(sendTo(root, ['inner', id], { type: 'crash' })).toBe(true);
    crash('a');
    await waitFor(() => ev.filter((e) => e === 'start a').length === 2);
    crash('b');
    await waitFor(() => ev.filter((e) => e === 'start b').length === 2);
    expect(find(root.tree(), 'inner')?.restarts).toBe(0);
    crash('a'); // a third restart within the period: inner gives up
    await waitFor(() => ev.filter((e) => e === 'start inner').length === 2);
    await waitFor(() => ev.filter((e) => e === 'start b').length === 3);
    // inner ended: its children were torn down right to left, then inner itself; then the root restarted it.
    const giveUp = ev.slice(ev.lastIndexOf('stop a'));
    expect(giveUp).toEqual(['stop a', 'stop b', 'stop inner', 'start inner', 'start a', 'start b']);
    expect(find(root.tree(), 'inner')).toMatchObject({ restarts: 1, state: 'running' });
    expect(find(root.tree(), 'inner')?.lastCrash?.reason).toMatch(/a exited 3 times within 10 s/);
  });

  it('runs the root give-up hook once everything is torn down', async () => {
    const ev: string[] = [];
    let gaveUp: Error | null = null;
    const root = startRoot([worker('a', ev)], { id: 'test', flags: { ...fast, intensity: 1 }, log: () => undefined, gaveUp: (e) => (gaveUp = e) });
    roots.push(root);
    await waitFor(() => ev.length === 1);
    root.send('a', { type: 'crash' });
    await waitFor(() => ev.length === 3);
    root.send('a', { type: 'crash' });
    await waitFor(() => gaveUp !== null);
    expect(ev).toEqual(['start a', 'stop a', 'start a', 'stop a']);
    expect(String(gaveUp)).toMatch(/FLUX|IntensityExceeded|a exited 2 times/);
  });

  it('keeps a restart on request out of the intensity', async () => {
    const ev: string[] = [];
    let restarter: ((id: string) => Promise<void>) | null = null;
    const owner: ChildSpec = {
      id: 'owner',
      restart: 'permanent',
      shutdown: 1000,
      start: (): ActorDef<null, never> => ({
        flags: { ...fast, intensity: 1 },
        children: [worker('media', ev)],
        init(ctx) {
          restarter = (id) => ctx.restartChild(id);
          return null;
        },
        receive: (st) => st,
      }),
    };
    const root = startRoot([owner], { id: 'test', flags: fast, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 1 && restarter !== null);
    for (let i = 0; i < 5; i++) await (restarter as unknown as (id: string) => Promise<void>)('media');
    expect(ev.filter((e) => e === 'start media')).toHaveLength(6);
    expect(find(root.tree(), 'owner')).toMatchObject({ restarts: 0, state: 'running' });
  });
});

describe('supervision: teardown, backoff and mailboxes', () => {
  const roots: Root[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.stop()));
  });

  it('turns a rejected promise in a timer into a crash, and ignores the old incarnation afterwards', async () => {
    const ev: string[] = [];
    const root = startRoot([worker('a', ev)], { id: 'test', flags: fast, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 1);
    root.send('a', { type: 'fail-later' });
    await waitFor(() => ev.length === 3);
    expect(find(root.tree(), 'a')?.lastCrash?.reason).toBe('a rejected in a timer');
  });

  it('waits out the backoff on a timer: the supervisor keeps answering, sends to the down child are dropped and counted', async () => {
    const ev: string[] = [];
    const root = startRoot([worker('a', ev), worker('b', ev)], { id: 'test', flags: { ...fast, backoff: { initialMs: 400, maxMs: 400, factor: 2, jitter: 0 } }, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 2);
    root.send('a', { type: 'crash' });
    await waitFor(() => find(root.tree(), 'a')?.state === 'backoff');
    let answered = '';
    expect(root.send('b', { type: 'ping', reply: (v: unknown) => (answered = String(v)) })).toBe(true);
    await waitFor(() => answered === 'b', 200);
    expect(root.send('a', { type: 'ping', reply: () => undefined })).toBe(false);
    expect(find(root.tree(), 'a')).toMatchObject({ state: 'backoff', dropped: 1 });
    await waitFor(() => find(root.tree(), 'a')?.state === 'running', 2000);
  });

  it('bounds a live child\'s mailbox and counts what it drops', async () => {
    const ev: string[] = [];
    const root = startRoot([worker('a', ev)], { id: 'test', flags: { ...fast, mailbox: 5 }, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 1);
    const taken = Array.from({ length: 20 }, () => root.send('a', { type: 'slow', ms: 20 })).filter(Boolean).length;
    expect(taken).toBe(5);
    expect(find(root.tree(), 'a')?.dropped).toBe(15);
    await new Promise((r) => setTimeout(r, 150));
    expect(root.send('a', { type: 'slow', ms: 1 })).toBe(true);
  });

  it('gives the next incarnation the latest arguments its parent set', async () => {
    const ev: string[] = [];
    let setArgs: ((a: unknown) => void) | null = null;
    const owner: ChildSpec = {
      id: 'owner',
      restart: 'permanent',
      shutdown: 1000,
      start: (): ActorDef<null, never> => ({
        flags: fast,
        children: [worker('eater', ev, { args: { target: 'host-a:1' } })],
        init(ctx) {
          setArgs = (a) => ctx.setChildArgs('eater', a);
          return null;
        },
        receive: (st) => st,
      }),
    };
    const root = startRoot([owner], { id: 'test', flags: fast, log: () => undefined, gaveUp: () => undefined });
    roots.push(root);
    await waitFor(() => ev.length === 1 && setArgs !== null);
    (setArgs as unknown as (a: unknown) => void)({ target: 'host-b:2' });
    expect(sendTo(root, ['owner', 'eater'], { type: 'crash' })).toBe(true);
    await waitFor(() => ev.length === 3);
    expect(ev).toEqual(['start eater {"target":"host-a:1"}', 'stop eater', 'start eater {"target":"host-b:2"}']);
  });

  it('abandons a teardown that outlives its shutdown time, with a log line, and goes on', async () => {
    const ev: string[] = [];
    const lines: string[] = [];
    const root = startRoot([worker('a', ev), worker('slow', ev, { teardownMs: 2000, shutdown: 100 })], { id: 'test', flags: fast, log: (l) => lines.push(l), gaveUp: () => undefined });
    await waitFor(() => ev.length === 2);
    const t0 = Date.now();
    await root.stop();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(ev).toContain('stop a');
    expect(lines.join('\n')).toMatch(/slow: teardown took longer than 100 ms; abandoned/);
    await waitFor(() => ev.includes('stop slow'), 3000, 'the abandoned teardown to end by itself');
  });

  it('stops every child right to left on a clean shutdown, each teardown once', async () => {
    const ev: string[] = [];
    const root = startRoot([worker('a', ev), supervisor('s', fast, [worker('b', ev), worker('c', ev)], ev), worker('d', ev)], { id: 'test', flags: fast, log: () => undefined, gaveUp: () => undefined });
    await waitFor(() => ev.length === 5);
    await Promise.all([root.stop(), root.stop()]);
    expect(ev.slice(5)).toEqual(['stop d', 'stop c', 'stop b', 'stop s', 'stop a']);
    expect(root.tree().children.every((c) => c.state === 'stopped')).toBe(true);
  });
});
