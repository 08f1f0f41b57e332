// deploy/container (Dockerfile, compose.yaml, planet.yaml), checked without a container engine
// (none runs on these machines): the files parse, everything they copy or mount exists in the
// repository, every fluxcast command they run exists with the options given (the CLI's own
// commander program), the planet passes `fluxcast check`, the image installs every GStreamer
// package the components need, and the ports published are exactly the planet's.

import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { checkPlanetText } from '../../actors/planet/check';
import { COMPONENT_TYPES } from '../../actors/components/registry';
import { ELEMENT_PACKAGES } from '../../actors/components/gst-elements';
import { runCli } from '../helpers/cli';
import { checkFluxcastArgs } from '../helpers/cli-args';

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'deploy/container');

interface Instruction { line: number; keyword: string; args: string }

const KEYWORDS = ['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];

/** Dockerfile instructions: comments dropped, `\` continuations joined (Dockerfile reference). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current: Instruction | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (!current && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (current && line.trim().startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    if (current) current.args += ' ' + body.trim();
    else {
      const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(body);
      if (!m) throw new Error(`Dockerfile line ${i + 1}: not an instruction: ${raw}`);
      current = { line: i + 1, keyword: m[1].toUpperCase(), args: m[2].trim() };
    }
    if (!continued) {
      out.push(current);
      current = null;
    }
  });
  if (current) throw new Error('Dockerfile ends inside a continued line');
  return out;
}

/** COPY/ADD: its --flags, sources and destination (exec form or plain words). */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [k, v] = words.shift()!.slice(2).split('=');
    flags[k] = v ?? '';
  }
  return { flags, sources: words.slice(0, -1), dest: words[words.length - 1] };
}

function dockerIgnored(rel: string): boolean {
  const patterns = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return patterns.some((p) => rel === p || rel.startsWith(p.replace(/\/$/, '') + '/') || (p.startsWith('*') && rel.endsWith(p.slice(1))));
}

/** The ports a planet listens on: the manager's and every component's own `port` (porter-mounted streamers have none). */
function planetPorts(file: string): { manager: number; byWorker: Map<string, number[]> } {
  const checked = checkPlanetText(fs.readFileSync(file, 'utf8'), COMPONENT_TYPES);
  if (!checked.planet) throw new Error(`planet invalid: ${JSON.stringify(checked.issues)}`);
  const byWorker = new Map<string, number[]>();
  for (const f of checked.planet.flows) {
    for (const c of f.components) {
      const props = COMPONENT_TYPES.get(c.type)!.properties.parse(c.properties ?? {}) as { port?: number; porter?: string };
      if (typeof props.port === 'number' && !props.porter) byWorker.set(c.worker, [...(byWorker.get(c.worker) ?? []), props.port]);
    }
  }
  return { manager: checked.planet.manager.port, byWorker };
}

describe('deploy/container/Dockerfile', () => {
  const text = fs.readFileSync(path.join(DIR, 'Dockerfile'), 'utf8');
  const instructions = parseDockerfile(text);
  const of = (k: string) => instructions.filter((i) => i.keyword === k);

  it('parses into known instructions, from a Node 20 base that fluxcast runs on', () => {
    expect(instructions.filter((i) => !KEYWORDS.includes(i.keyword))).toEqual([]);
    expect(instructions.find((i) => i.keyword !== 'ARG')?.keyword).toBe('FROM');
    const engines = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.19');
    for (const from of of('FROM')) expect(from.args).toMatch(/^node:20-bookworm-slim( AS \w+)?$/);
    for (const i of [...of('CMD'), ...of('ENTRYPOINT')]) expect(() => JSON.parse(i.args)).not.toThrow();
  });

  it('copies only what exists in the repository, past .dockerignore', () => {
    const stages = of('FROM').map((f) => / AS (\w+)$/.exec(f.args)?.[1]).filter(Boolean);
    const missing: string[] = [];
    for (const c of [...of('COPY'), ...of('ADD')]) {
      const { flags, sources } = copyParts(c.args);
      if ('from' in flags) {
        expect(stages).toContain(flags.from);
        continue;
      }
      for (const s of sources) {
        const rel = s.replace(/^\.\//, '').replace(/\/$/, '');
        if (!fs.existsSync(path.join(ROOT, rel)) || dockerIgnored(rel)) missing.push(`line ${c.line}: ${s}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('runs npm scripts that exist, after copying the lock file npm ci needs', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const r of of('RUN')) for (const m of r.args.matchAll(/npm run (\S+)/g)) expect(Object.keys(scripts)).toContain(m[1]);
    const ci = of('RUN').findIndex((r) => /npm ci\b/.test(r.args));
    const lock = of('COPY').findIndex((c) => copyParts(c.args).sources.includes('package-lock.json'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(instructions.indexOf(of('COPY')[lock])).toBeLessThan(instructions.indexOf(of('RUN')[ci]));
  });

  it('installs gst-launch-1.0 and the Debian package of every GStreamer element the components use', () => {
    const installs = of('RUN').flatMap((r) => [...r.args.matchAll(/apt-get install ([^&]*)/g)].flatMap((m) => m[1].split(/\s+/).filter((w) => w && !w.startsWith('-'))));
    const needed = [...new Set(['gstreamer1.0-tools', ...Object.values(ELEMENT_PACKAGES).filter((p) => p !== 'libgstreamer1.0-0')])];
    expect(needed.filter((p) => !installs.includes(p))).toEqual([]);
  });

  it('runs fluxcast as an unprivileged user, with a command that exists on a planet that passes check', () => {
    expect(of('USER').at(-1)?.args).toBe('node');
    const entry = JSON.parse(of('ENTRYPOINT').at(-1)!.args) as string[];
    const cmd = JSON.parse(of('CMD').at(-1)!.args) as string[];
    expect(entry).toEqual(['fluxcast']);
    const checked = checkFluxcastArgs(cmd);
    expect(checked.problems).toEqual([]);
    expect(checked.command).toEqual(['up']);
    // The planet in the image is the one copied there from the repository.
    const copied = of('COPY').map((c) => copyParts(c.args)).find((c) => c.dest === checked.positional[0]);
    expect(copied?.sources).toEqual(['deploy/container/planet.yaml']);
    expect(runCli(['check', path.join(ROOT, copied!.sources[0])]).status).toBe(0);
  });

  it("exposes exactly the planet's ports", () => {
    const { manager, byWorker } = planetPorts(path.join(DIR, 'planet.yaml'));
    const exposed = of('EXPOSE').flatMap((e) => e.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, '')));
    expect(exposed.sort()).toEqual([manager, ...[...byWorker.values()].flat()].sort());
  });
});

describe('deploy/container/compose.yaml', () => {
  const compose = parseYaml(fs.readFileSync(path.join(DIR, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; command: string[]; secrets?: string[]; ports?: string[]; volumes?: string[] }>;
    secrets: Record<string, { file: string }>;
  };
  const services = Object.entries(compose.services);
  const planetFile = path.join(DIR, 'planet.yaml');

  it('builds the image from the Dockerfile, with the repository as context', () => {
    const built = services.filter(([, s]) => s.build);
    expect(built).toHaveLength(1);
    const b = built[0][1].build!;
    expect(path.resolve(DIR, b.context)).toBe(ROOT);
    expect(fs.existsSync(path.join(ROOT, b.dockerfile))).toBe(true);
    for (const [, s] of services) expect(s.image).toBe(built[0][1].image);
  });

  it('runs a manager and two workers with fluxcast commands and options that exist', () => {
    const commands = Object.fromEntries(services.map(([name, s]) => [name, checkFluxcastArgs(s.command.map(String))]));
    for (const [name, c] of Object.entries(commands)) expect([name, c.problems]).toEqual([name, []]);
    expect(Object.values(commands).map((c) => c.command[0]).sort()).toEqual(['manager', 'worker', 'worker']);
    const planet = checkPlanetText(fs.readFileSync(planetFile, 'utf8'), COMPONENT_TYPES).planet!;
    const workers = Object.entries(commands).filter(([, c]) => c.command[0] === 'worker');
    expect(workers.map(([, w]) => w.options.get('name')).sort()).toEqual(planet.workers.map((w) => w.name).sort());
    const [managerName] = Object.entries(commands).find(([, c]) => c.command[0] === 'manager')!;
    for (const [service, w] of workers) {
      expect(w.options.get('manager')).toBe(`ws://${managerName}:${planet.manager.port}`);
      // Other workers dial this one's feed server by its service name.
      expect(w.options.get('advertise')).toBe(service);
      expect(w.options.get('feed-host')).toBe('0.0.0.0');
    }
  });

  it('mounts a planet that exists and passes fluxcast check', () => {
    for (const [name, s] of services) {
      const planetArg = checkFluxcastArgs(s.command.map(String)).options.get('planet');
      for (const v of s.volumes ?? []) {
        const [src, dest] = v.split(':');
        expect([name, v, fs.existsSync(path.resolve(DIR, src))]).toEqual([name, v, true]);
        if (dest === planetArg) expect(path.resolve(DIR, src)).toBe(planetFile);
      }
      if (planetArg) expect((s.volumes ?? []).some((v) => v.split(':')[1] === planetArg)).toBe(true);
    }
    expect(services.filter(([, s]) => checkFluxcastArgs(s.command.map(String)).options.has('planet')).map(([n]) => n)).toEqual(['manager']);
    const r = runCli(['check', planetFile]);
    expect(r).toMatchObject({ status: 0 });
  });

  it('gives the secrets as compose secrets, read from files made outside git', () => {
    for (const [name, s] of services) {
      const c = checkFluxcastArgs(s.command.map(String));
      for (const opt of ['secret-file', 'admin-secret-file']) {
        const file = c.options.get(opt);
        if (!file) continue;
        const m = /^\/run\/secrets\/(.+)$/.exec(file);
        expect([name, opt, m && s.secrets?.includes(m[1])]).toEqual([name, opt, true]);
      }
      expect(c.options.has('secret')).toBe(false);
      expect(c.options.has('admin-secret')).toBe(false);
      expect(c.options.has('secret-file')).toBe(true);
    }
    for (const [, sec] of Object.entries(compose.secrets)) {
      const folder = path.dirname(path.resolve(DIR, sec.file));
      expect(fs.readFileSync(path.join(folder, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    }
    const planet = fs.readFileSync(planetFile, 'utf8');
    expect(planet).not.toMatch(/^\s*(secret|admin-secret):/m);
  });

  it("publishes exactly the planet's ports, on the host's loopback, from the containers that listen on them", () => {
    const { manager, byWorker } = planetPorts(planetFile);
    const expected: string[] = [];
    for (const [name, s] of services) {
      const c = checkFluxcastArgs(s.command.map(String));
      if (c.command[0] === 'manager') expected.push(`${name} 127.0.0.1:${manager}:${manager}`);
      else for (const p of byWorker.get(c.options.get('name')!) ?? []) expected.push(`${name} 127.0.0.1:${p}:${p}`);
    }
    const published = services.flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.sort()).toEqual(expected.sort());
  });
});
