// Every component type's GStreamer elements exist on this host, each named with the Debian
// package that brings it (actors/components/gst-packages.json, the table the components' own
// "not installed" messages use); and a host that lacks one sees a sad component saying which
// package to install.

import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { COMPONENT_TYPES } from '../../../actors/components/registry';
import { debianPackageOf, ELEMENT_PACKAGES, missingElementsText } from '../../../actors/components/gst-elements';
import { elementsOf } from '../../../actors/components/pipeline/pipeline-component';
import { layoutDescription, muxerLayout } from '../../../actors/components/pipeline/pipeline-types';
import { srtPipeline, srtProducerProperties } from '../../../actors/components/srt-producer';
import { INGEST_FORMATS } from '../../../actors/components/ingest/formats';
import { parserDescription } from '../../../actors/components/ingest/stream-parser';
import { CLI } from '../../helpers/cli';
import { describeGst } from '../../helpers/gst';
import { waitFor } from '../../helpers/net';
import { freePort } from '../../helpers/planet';

/** The Debian packages fluxcast's README and .ci/run install for GStreamer. */
const KNOWN_PACKAGES = [
  'libgstreamer1.0-0', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad',
  'gstreamer1.0-plugins-ugly', 'gstreamer1.0-x', 'gstreamer1.0-libav',
];

function elementsOfType(type: string): readonly string[] {
  return COMPONENT_TYPES.get(type)!.gstElements;
}

/** A layout of a typed pipeline component with these properties (one feed per eater). */
function described(type: string, props: Record<string, unknown>): string[] {
  const t = COMPONENT_TYPES.get(type)!;
  const c = t.create('probe', t.properties.parse(props)) as unknown as { layout(e: Map<string, string[]>, f: readonly string[], caps: Map<string, string>): { description: string } };
  const eaters = new Map(t.eaters.map((e) => [e, [`/flow/up:${e}`]]));
  return elementsOf(c.layout(eaters, t.feeders, new Map()).description);
}

describe('the GStreamer elements of component types', () => {
  it('are declared by every type, each with its Debian package in the table', () => {
    const unknown: string[] = [];
    for (const [name, t] of COMPONENT_TYPES) {
      expect(Array.isArray(t.gstElements)).toBe(true);
      for (const e of t.gstElements) if (!debianPackageOf(e)) unknown.push(`${name}: ${e}`);
    }
    expect(unknown).toEqual([]);
    expect([...new Set(Object.values(ELEMENT_PACKAGES))].filter((p) => !KNOWN_PACKAGES.includes(p))).toEqual([]);
    expect(elementsOfType('videotest-producer')).toContain('clockoverlay');
    expect(elementsOfType('video-decoder')).toContain('avdec_h264');
    expect(elementsOfType('http-streamer')).toEqual([]);
  });

  it('cover what each pipeline runs, whatever its properties and input', () => {
    const notDeclared: string[] = [];
    const check = (type: string, elements: string[]) => {
      for (const e of elements) if (!elementsOfType(type).includes(e)) notDeclared.push(`${type}: ${e}`);
    };
    for (const overlay of [true, false]) check('videotest-producer', described('videotest-producer', { overlay }));
    for (const tune of ['zerolatency', 'none']) check('h264-encoder', described('h264-encoder', { tune, profile: 'baseline' }));
    check('video-decoder', described('video-decoder', { width: 320, height: 240 }));
    for (const type of ['audiotest-producer', 'vorbis-encoder', 'opus-encoder', 'theora-encoder', 'vp8-encoder', 'mp3-encoder', 'audio-decoder', 'aac-encoder']) {
      check(type, described(type, {}));
    }
    const medias = ['audio/x-vorbis', 'audio/x-opus', 'video/x-theora', 'audio/x-flac', 'video/x-h264', 'video/x-h265', 'audio/mpeg', 'video/x-vp8'];
    for (const [type, muxer] of [['ogg-muxer', 'oggmux'], ['webm-muxer', 'webmmux'], ['mpegts-muxer', 'mpegtsmux']]) {
      expect(elementsOfType(type)).toContain(muxer);
      const feeds = medias.map((_, i) => `/f/in${i}:default`);
      check(type, elementsOf(muxerLayout(muxer, feeds, new Map(feeds.map((f, i) => [f, `${medias[i]}, rate=(int)1`]))).description));
      check(type, elementsOf(muxerLayout(muxer, ['/f/unknown:default'], new Map()).description));
    }
    for (const output of ['elementary', 'ts'] as const) check('srt-producer', elementsOf(srtPipeline({ ...srtProducerProperties.parse({}), output }).description));
    for (const f of INGEST_FORMATS) {
      if (f.kind !== 'gst') continue;
      for (const type of ['icecast-source-producer', 'http-pull-producer']) check(type, elementsOf(parserDescription(f.chain)));
    }
    check('pipeline-converter', elementsOf(layoutDescription('identity', new Map([['default', ['/f/a:default']]]), ['default']).description).filter((e) => e !== 'identity'));
    expect(notDeclared).toEqual([]);
  });

  it('name the package to install when one is missing', () => {
    expect(missingElementsText(['clockoverlay', 'avdec_h264'])).toBe(
      'GStreamer element(s) not installed: clockoverlay (Debian package gstreamer1.0-x), avdec_h264 (Debian package gstreamer1.0-libav); apt-get install gstreamer1.0-x gstreamer1.0-libav',
    );
    expect(missingElementsText(['nosuchelementsrc'])).toBe('GStreamer element(s) not installed: nosuchelementsrc (no Debian package known for it)');
  });
});

describeGst('the GStreamer elements on this host', () => {
  it('include every element of every component type', () => {
    const owners = new Map<string, string[]>();
    for (const [name, t] of COMPONENT_TYPES) for (const e of t.gstElements) owners.set(e, [...(owners.get(e) ?? []), name]);
    const missing: string[] = [];
    for (const [element, types] of owners) {
      if (spawnSync('gst-inspect-1.0', ['--exists', element]).status === 0) continue;
      for (const type of types) missing.push(`element ${element} (Debian package ${debianPackageOf(element)}) missing for component type ${type}`);
    }
    expect(missing).toEqual([]);
  });

  const dpkg = spawnSync('dpkg', ['--version']).status === 0;
  (dpkg ? it : it.skip)('come from the Debian packages the table names', () => {
    // One listing (plugin: element: description) and one dpkg query for all the plugin files.
    const pluginOf = new Map<string, string>();
    for (const line of execFileSync('gst-inspect-1.0', { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }).split('\n')) {
      const m = /^([\w-]+):\s+([\w-]+):/.exec(line);
      if (m) pluginOf.set(m[2], m[1]);
    }
    const dir = path.dirname(/^\s*Filename\s+(\S+)/m.exec(execFileSync('gst-inspect-1.0', ['fdsrc'], { encoding: 'utf8' }))![1]);
    const fileOf = (element: string) => path.join(dir, `libgst${pluginOf.get(element)}.so`);
    const files = Object.keys(ELEMENT_PACKAGES).filter((e) => pluginOf.has(e)).map(fileOf);
    // Merged /usr: plugins found through /lib are known to dpkg under /usr/lib.
    const query = spawnSync('dpkg', ['-S', ...files, ...files.map((f) => `/usr${f}`)], { encoding: 'utf8' }).stdout;
    const owner = new Map<string, string>();
    for (const line of query.split('\n')) {
      const m = /^([^:,\s]+)(?::\S+)?: (\S+)$/.exec(line);
      if (m) owner.set(m[2].replace(/^\/usr(?=\/lib\/)/, dir.startsWith('/usr/') ? '/usr' : ''), m[1]);
    }
    const wrong: string[] = [];
    for (const [element, pkg] of Object.entries(ELEMENT_PACKAGES)) {
      if (!pluginOf.has(element)) wrong.push(`${element}: not installed`);
      else if (owner.get(fileOf(element)) !== pkg) wrong.push(`${element}: table says ${pkg}, ${fileOf(element)} belongs to ${owner.get(fileOf(element))}`);
    }
    expect(wrong).toEqual([]);
  });
});

describeGst('a host without gstreamer1.0-x', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    // A real GStreamer that lacks the pango plugin (clockoverlay): every system plugin but that one.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-noplugin-'));
    const core = /^\s*Filename\s+(\S+)/m.exec(execFileSync('gst-inspect-1.0', ['fdsrc'], { encoding: 'utf8' }))![1];
    const system = path.dirname(core);
    fs.mkdirSync(path.join(dir, 'plugins'));
    for (const f of fs.readdirSync(system)) if (f.endsWith('.so') && f !== 'libgstpango.so') fs.symlinkSync(path.join(system, f), path.join(dir, 'plugins', f));
    env = { ...process.env, GST_PLUGIN_SYSTEM_PATH_1_0: path.join(dir, 'plugins'), GST_PLUGIN_PATH_1_0: '', GST_REGISTRY_1_0: path.join(dir, 'registry.bin') };
    expect(spawnSync('gst-inspect-1.0', ['--exists', 'clockoverlay'], { env }).status).not.toBe(0);
    expect(spawnSync('gst-inspect-1.0', ['--exists', 'videotestsrc'], { env }).status).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a videotest-producer sad, naming the element and the package to install', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'launch', `videotest-producer ! vp8-encoder ! webm-muxer ! http-streamer port=${port} mount-point=/tv.webm`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => /videotest-producer\S*: sad/.test(out), 20000, 'the producer sad');
      expect(out).toMatch(/videotest-producer: sad \(setup failed: GStreamer element\(s\) not installed: clockoverlay \(Debian package gstreamer1\.0-x\); apt-get install gstreamer1\.0-x\)/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("adds the package to gst-launch's own complaint, for children that were not checked first", () => {
    // A GstChild (the built one) in a process of its own, which sees this host's environment.
    const script = `
      const { GstChild } = require(${JSON.stringify(path.resolve(__dirname, '../../../dist/actors/components/pipeline/gst-child.js'))});
      const c = new GstChild('videotestsrc num-buffers=1 ! clockoverlay ! gdppay ! fdsink fd=3 sync=false', new Map(), new Map([['out', 3]]));
      c.on('exit', (code, signal, text) => console.log(JSON.stringify({ code, text })));
      c.start();`;
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 15000 });
    const exit = JSON.parse(r.stdout) as { code: number; text: string };
    expect(exit.code).toBe(1);
    expect(exit.text).toBe('WARNING: erroneous pipeline: no element "clockoverlay": GStreamer element(s) not installed: clockoverlay (Debian package gstreamer1.0-x); apt-get install gstreamer1.0-x');
  });

  it('still runs the same producer without its overlay', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'launch', `videotest-producer overlay=false width=64 height=48 ! vp8-encoder ! webm-muxer ! http-streamer port=${port} mount-point=/tv.webm`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes(`listen at http://127.0.0.1:${port}/tv.webm`), 30000, 'the streamer happy');
      expect(out).not.toMatch(/sad/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
