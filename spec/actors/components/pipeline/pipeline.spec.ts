import { GdpFrame } from '../../../../protocol/gdp';
import { layoutDescription } from '../../../../actors/components/pipeline/pipeline-types';
import { COMPONENT_TYPES } from '../../../../actors/components/registry';
import { Component } from '../../../../actors/component/component';
import { elementsOf } from '../../../../actors/components/pipeline/pipeline-component';
import { describeGst } from '../../../helpers/gst';
import { waitFor } from '../../../helpers/net';

function make(type: string, props: Record<string, unknown> = {}): Component<unknown> {
  const t = COMPONENT_TYPES.get(type)!;
  return t.create(type, t.properties.parse(props)) as Component<unknown>;
}

function wire(from: Component<unknown>, to: Component<unknown>, feed = `/t/${from.name}:default`): void {
  to.addFeed('default', feed);
  from.connectOutput('default', (f) => to.eat('default', feed, f));
  to.feedConnected('default', feed);
}

describe('pipeline layout', () => {
  it('puts a lone eater first and a lone feeder last, and fills placeholders', () => {
    const eaters = new Map([['default', ['/f/a:default']]]);
    expect(layoutDescription('vorbisenc', eaters, ['default']).description).toBe('fdsrc fd=3 ! gdpdepay ! vorbisenc ! gdppay ! fdsink fd=4 sync=false');
    const two = new Map([['default', ['/f/a:default', '/f/b:default']]]);
    const l = layoutDescription('@eater:default:0@ ! queue ! m.sink_0 @eater:default:1@ ! queue ! m.sink_1 videomixer name=m ! @feeder:default@', two, ['default']);
    expect(l.description).toBe('fdsrc fd=3 ! gdpdepay ! queue ! m.sink_0 fdsrc fd=4 ! gdpdepay ! queue ! m.sink_1 videomixer name=m ! gdppay ! fdsink fd=5 sync=false');
    expect([...l.eaterFds.values(), ...l.feederFds.values()]).toEqual([3, 4, 5]);
    expect(() => layoutDescription('@eater:nope@ ! fakesink', new Map(), [])).toThrow(/unknown placeholder/);
  });

  it('finds the elements of a description', () => {
    expect(elementsOf('audiotestsrc freq=3 ! audio/x-raw,rate=8000 ! vorbisenc ! mux. oggmux name=mux ! fakesink')).toEqual(['audiotestsrc', 'vorbisenc', 'oggmux', 'fakesink']);
  });
});

describeGst('GStreamer pipeline components', () => {
  const running: Component<unknown>[] = [];
  afterEach(async () => {
    for (const c of running.splice(0).reverse()) await c.stop();
  });
  const start = async (c: Component<unknown>) => {
    running.push(c);
    await c.start();
    return c;
  };

  it('runs audiotest-producer → vorbis-encoder → ogg-muxer and produces Ogg with a streamheader', async () => {
    const src = make('audiotest-producer');
    const enc = make('vorbis-encoder');
    const mux = make('ogg-muxer');
    wire(src, enc);
    wire(enc, mux);
    const out: GdpFrame[] = [];
    mux.connectOutput('default', (f) => out.push(f));
    await start(mux);
    await start(enc);
    await start(src);
    expect(src.mood).toBe('happy');
    await waitFor(() => out.filter((f) => f.kind === 'buffer').length > 5, 15000, 'ogg pages');
    const caps = out.find((f) => f.kind === 'caps')?.text ?? '';
    expect(caps).toMatch(/^application\/ogg, streamheader=\(buffer\)</);
    expect(out.find((f) => f.kind === 'buffer')?.payload.subarray(0, 4).toString()).toBe('OggS');
    expect(enc.mood).toBe('happy');
  });

  it('restarts its child cleanly when an eater brings a new stream, and keeps producing', async () => {
    const a = make('audiotest-producer', { frequency: 300 });
    const b = make('audiotest-producer', { frequency: 600 });
    const enc = make('vorbis-encoder');
    const feed = '/t/src:default';
    enc.addFeed('default', feed);
    let upstream = a;
    a.connectOutput('default', (f) => upstream === a && enc.eat('default', feed, f));
    b.connectOutput('default', (f) => upstream === b && enc.eat('default', feed, f));
    const out: GdpFrame[] = [];
    enc.connectOutput('default', (f) => out.push(f));
    await start(enc);
    enc.feedConnected('default', feed);
    await start(a);
    await waitFor(() => out.filter((f) => f.kind === 'buffer').length > 3, 10000, 'first stream encoded');
    const firstPid = (enc as unknown as { child: { pid: number } }).child.pid;
    upstream = b; // the upstream restarted: a new stream-start, caps and segment arrive
    await start(b);
    await waitFor(() => (enc as unknown as { child: { pid: number } | null }).child?.pid !== firstPid, 10000, 'child restarted');
    const mark = out.length;
    await waitFor(() => out.slice(mark).filter((f) => f.kind === 'buffer').length > 3, 10000, 'second stream encoded');
    expect(enc.mood).toBe('happy');
    expect(enc.messages.some((m) => m.text.includes('new stream on an eater'))).toBe(true);
  });

  it('goes sad with the Debian package named when an element is missing', async () => {
    const c = make('pipeline-producer', { pipeline: 'nosuchelementsrc ! fakesink' });
    await start(c);
    expect(c.mood).toBe('sad');
    expect(c.messages.at(-1)?.text).toMatch(/not installed: nosuchelementsrc/);
  });

  it('goes sad with the GStreamer error text when the pipeline fails to negotiate', async () => {
    const c = make('pipeline-producer', { pipeline: 'audiotestsrc ! video/x-raw ! fakesink' });
    await start(c);
    expect(c.mood).toBe('sad');
    expect(c.messages.map((m) => m.text).join('\n')).toMatch(/ERROR|erroneous pipeline/);
  });

  it('crashes (for the supervisor) when its child process dies, and leaves no process behind on stop', async () => {
    const src = make('audiotest-producer');
    const crashes: Error[] = [];
    src.on('crash', (e) => crashes.push(e));
    src.connectOutput('default', () => undefined);
    await start(src);
    const pid = (src as unknown as { child: { pid: number } }).child.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => crashes.length === 1, 5000, 'crash reported');
    expect(crashes[0].message).toMatch(/SIGKILL/);
  });
});
