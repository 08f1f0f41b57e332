import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { checkPlanetText, formatIssue } from '../../../actors/planet/check';
import { COMPONENT_TYPES } from '../../../actors/components/registry';
import { parseProperties } from '../../../actors/components/common-properties';
import { ComponentType, defineComponentType } from '../../../actors/components/component-type';
import { runCli } from '../../helpers/cli';
import { writePlanet } from '../../helpers/planet';

const GOOD = `
manager: { secret: abcdefgh123abcdefgh }
workers: [ { name: w1 }, { name: w2 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: w1 }
      - { name: encoder, type: mulaw-encoder, worker: w1, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: w2, eaters: { default: ['/default/encoder:default'] } }
      - { name: streamer, type: http-streamer, worker: w1, properties: { port: 8800 }, eaters: { default: [{ feed: muxer, mode: feed-to }] } }
`;

describe('planet check', () => {
  it('accepts a good planet and fills in property defaults', () => {
    const { planet, issues } = checkPlanetText(GOOD, COMPONENT_TYPES);
    expect(issues).toEqual([]);
    expect(planet?.flows[0].components[3].properties).toMatchObject({ port: 8800, 'mount-point': '/' });
  });

  it('takes another planet\'s feed by host:port with that planet\'s secret, and says what is wrong with one', () => {
    const relay = (ref: string) => `
manager: { secret: abcdefgh123abcdefgh }
workers: [ { name: w1 } ]
flows:
  - name: edge
    components:
      - { name: streamer, type: http-streamer, worker: w1, eaters: { default: [${ref}] } }
`;
    expect(checkPlanetText(relay('{ feed: /radio/ogg:default, remote: "central.example:8600", secret: central-secret-0123 }'), COMPONENT_TYPES).issues).toEqual([]);
    const issuesOf = (ref: string) => checkPlanetText(relay(ref), COMPONENT_TYPES).issues;
    expect(issuesOf('{ feed: /radio/ogg:default, remote: "central.example:8600" }')).toEqual([
      { path: 'flows[0].components[0].eaters.default[0].remote', message: 'a remote feed needs one of secret or secret-file' },
    ]);
    expect(issuesOf('{ feed: /radio/ogg:default, remote: central.example, secret: central-secret-0123 }')[0]).toMatchObject({ path: 'flows[0].components[0].eaters.default[0].remote', message: 'must be host:port' });
    expect(issuesOf('{ feed: /radio/ogg:default, remote: "c:1", secret-file: /nonexistent/secret }')).toEqual([
      { path: 'flows[0].components[0].eaters.default[0].secret-file', message: 'cannot read secret-file /nonexistent/secret: ENOENT' },
    ]);
    expect(issuesOf('{ feed: /radio/ogg:default, secret: central-secret-0123 }')[0]).toMatchObject({ message: 'secret and secret-file are for remote feeds only' });
  });

  it('accepts check-interval on every component type, in ms, and says what is wrong with one', () => {
    const paths = (r: ReturnType<typeof parseProperties>) => (r.success ? [] : r.error.issues.map((i) => i.path.join('.')));
    for (const t of COMPONENT_TYPES.values()) {
      const without = paths(parseProperties(t, {}));
      expect([t.type, paths(parseProperties(t, { 'check-interval': 3000 }))]).toEqual([t.type, without]);
      expect([t.type, paths(parseProperties(t, { 'check-interval': 20 }))]).toEqual([t.type, [...without, 'check-interval']]);
    }
    const planet = (ci: string) => GOOD.replace('properties: { port: 8800 }', `properties: { port: 8800, check-interval: ${ci} }`);
    const good = checkPlanetText(planet('3000'), COMPONENT_TYPES);
    expect(good.issues).toEqual([]);
    expect(good.planet?.flows[0].components[3].properties).toMatchObject({ 'check-interval': 3000, port: 8800, 'mount-point': '/' });
    expect(checkPlanetText(planet('20'), COMPONENT_TYPES).issues).toEqual([
      { path: 'flows[0].components[3].properties.check-interval', message: expect.stringMatching(/>=100/) },
    ]);
    expect(checkPlanetText(planet('"soon"'), COMPONENT_TYPES).issues.map((i) => i.path)).toEqual(['flows[0].components[3].properties.check-interval']);
  });

  it('reports every problem at once, each with its path', () => {
    const bad = `
manager: { secret: short }
workers: [ { name: w1 }, { name: w1 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: w9, properties: { frequency: -3, colour: red } }
      - { name: source, type: mulaw-encoder, worker: w1, eaters: { default: [] } }
      - { name: muxer, type: wav-muxr, worker: w1 }
      - { name: streamer, type: http-streamer, worker: w1, eaters: { default: ['muxr:default'], extra: [source] } }
`;
    const { planet, issues } = checkPlanetText(bad, COMPONENT_TYPES);
    expect(planet).toBeNull();
    const lines = issues.map((i) => `${i.path}: ${i.message}`);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^manager\.secret: /),
    ]));
    const { issues: more } = checkPlanetText(bad.replace('secret: short', 'secret: longenough1longenough'), COMPONENT_TYPES);
    const text = more.map((i) => `${i.path}: ${i.message}`);
    expect(text).toEqual(expect.arrayContaining([
      "workers[1].name: duplicate worker 'w1'",
      "flows[0].components[0].worker: unknown worker 'w9'",
      expect.stringMatching(/^flows\[0\]\.components\[0\]\.properties\.frequency: /),
      expect.stringMatching(/^flows\[0\]\.components\[0\]\.properties: .*colour/),
      "flows[0].components[1].name: duplicate component 'source' in default",
      'flows[0].components[1].eaters.default: eater \'default\' of mulaw-encoder has no feed',
      expect.stringMatching(/^flows\[0\]\.components\[2\]\.type: unknown component type 'wav-muxr'/),
      "flows[0].components[3].eaters.default[0]: unknown feed 'muxr:default'",
      "flows[0].components[3].eaters.extra: http-streamer has no eater 'extra' (it has: default)",
    ]));
  });

  it('reports YAML syntax errors with the line', () => {
    const { issues } = checkPlanetText('workers: [ { name: w1 ', COMPONENT_TYPES);
    expect(issues[0].path).toMatch(/^line \d+$/);
  });

  it('fluxcast check prints the problems and exits 1, or says ok', () => {
    const good = runCli(['check', writePlanet(GOOD)]);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/ok \(2 workers, 1 flows, 4 components\)/);
    const bad = runCli(['check', writePlanet(GOOD.replace('[source] }', '[sourc] }'))]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("flows[0].components[1].eaters.default[0]: unknown feed 'sourc:default'");
    expect(bad.stderr).toMatch(/^error FLUX_PLANET_INVALID: /);
  });

  it.each(fs.readdirSync(path.resolve(__dirname, '../../../examples/planets')).filter((f) => f.endsWith('.yaml')))('example planet %s is valid', (f) => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../../examples/planets', f), 'utf8');
    expect(checkPlanetText(text, COMPONENT_TYPES).issues).toEqual([]);
  });
});

/** A planet with these components in flow `radio` (and whatever manager and workers are given). */
function planetWith(components: string[], opts: { manager?: string; workers?: string } = {}): string {
  return `
manager: { ${opts.manager ?? 'host: 127.0.0.1, port: 7531'}, secret: abcdefgh123abcdefgh }
workers: ${opts.workers ?? '[ { name: w1 }, { name: w2 } ]'}
flows:
  - name: radio
    components:
      - { name: src, type: test-audio, worker: w1 }
${components.map((c) => `      - ${c}`).join('\n')}
`;
}

const streamer = (name: string, worker: string, props: string) => `{ name: ${name}, type: http-streamer, worker: ${worker}, properties: { ${props} }, eaters: { default: [src] } }`;
const issuesOf = (yaml: string, options: Parameters<typeof checkPlanetText>[2] = {}, types = COMPONENT_TYPES) => checkPlanetText(yaml, types, options).issues;

describe('planet check: port clashes', () => {
  it('refuses two streamers on one port of one worker, naming both and the port, with a code', () => {
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800'), streamer('b', 'w1', 'port: 8800, mount-point: /b')]))).toEqual([
      { path: 'flows[0].components[2].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 8800 on w1 is also used by /radio/a (http-streamer)' },
    ]);
  });

  it('counts 0.0.0.0 as every address, and two different specific addresses as no clash', () => {
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, host: 127.0.0.1'), streamer('b', 'w1', 'port: 8800, host: 0.0.0.0')]))).toHaveLength(1);
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, host: "::"'), streamer('b', 'w1', 'port: 8800, host: 10.0.0.5')]))).toHaveLength(1);
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, host: localhost'), streamer('b', 'w1', 'port: 8800, host: 127.0.0.1')]))).toHaveLength(1);
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, host: 127.0.0.1'), streamer('b', 'w1', 'port: 8800, host: 127.0.0.2')]))).toEqual([]);
  });

  it('never counts port 0 (any free port) as a clash', () => {
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 0'), streamer('b', 'w1', 'port: 0, host: 0.0.0.0')]))).toEqual([]);
  });

  it('takes two workers for two machines unless something says they share one', () => {
    const yaml = planetWith([streamer('a', 'w1', 'port: 8800'), streamer('b', 'w2', 'port: 8800')]);
    expect(issuesOf(yaml)).toEqual([]);
    expect(issuesOf(yaml, { oneMachine: true })).toEqual([
      { path: 'flows[0].components[2].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 8800 on w2 is also used by /radio/a (http-streamer) on w1 (every worker runs on this machine)' },
    ]);
    expect(issuesOf(yaml, { machines: new Map([['w1', 'vm1'], ['w2', 'vm1']]) })[0].message).toBe('port 8800 on w2 is also used by /radio/a (http-streamer) on w1 (both on vm1)');
    expect(issuesOf(yaml, { machines: new Map([['w1', 'vm1'], ['w2', 'vm2']]) })).toEqual([]);
    // One specific outward address is one machine's.
    const same = planetWith([streamer('a', 'w1', 'port: 8800, host: 10.0.0.5'), streamer('b', 'w2', 'port: 8800, host: 10.0.0.5')]);
    expect(issuesOf(same)[0].message).toBe('port 8800 on w2 is also used by /radio/a (http-streamer) on w1 (both bind 10.0.0.5)');
  });

  it('keeps TCP and UDP apart: an SRT listener shares its number with an HTTP port, not with another SRT listener', () => {
    const srt = (name: string, worker: string) => `{ name: ${name}, type: srt-producer, worker: ${worker}, properties: { port: 8890 } }`;
    expect(issuesOf(planetWith([srt('in1', 'w1'), streamer('web', 'w1', 'port: 8890')]))).toEqual([]);
    expect(issuesOf(planetWith([srt('in1', 'w1'), srt('in2', 'w1')]))).toEqual([
      { path: 'flows[0].components[2].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'UDP port 8890 on w1 is also used by /radio/in1 (srt-producer)' },
    ]);
  });

  it('checks every listening type against the others: ingest, porter, HLS', () => {
    const ice = '{ name: dj, type: icecast-source-producer, worker: w1, properties: { port: 8000, password: hackme-hackme } }';
    const rtmp = (n: string) => `{ name: ${n}, type: rtmp-producer, worker: w1, properties: { port: 8000, stream-key: obs-key-1234 } }`;
    const porter = '{ name: front, type: porter, worker: w1, properties: { port: 8000 } }';
    const hls = '{ name: tv, type: hls-streamer, worker: w1, properties: { port: 8000 }, eaters: { default: [src] } }';
    const issues = issuesOf(planetWith([ice, rtmp('obs'), porter, hls, rtmp('obs2')]));
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'flows[0].components[2].properties.port: port 8000 on w1 is also used by /radio/dj (icecast-source-producer)',
      'flows[0].components[3].properties.port: port 8000 on w1 is also used by /radio/dj (icecast-source-producer)',
      'flows[0].components[4].properties.port: port 8000 on w1 is also used by /radio/dj (icecast-source-producer)',
      'flows[0].components[5].properties.port: port 8000 on w1 is also used by /radio/dj (icecast-source-producer)',
    ]);
  });

  it('lets rtmp-producers of one worker share a port on one address, each with its own app and stream key, and nothing else', () => {
    const rtmp = (n: string, props: string, worker = 'w1') => `{ name: ${n}, type: rtmp-producer, worker: ${worker}, properties: { port: 1935, ${props} } }`;
    expect(issuesOf(planetWith([rtmp('a', 'stream-key: key-of-studio-a'), rtmp('b', 'stream-key: key-of-studio-b'), rtmp('c', 'app: events, stream-key: key-of-studio-a'), rtmp('d', 'stream-key-file: /etc/fluxcast/d.key')]))).toEqual([]);
    // The same app and key: publishers could not be told apart. The key is never printed.
    const same = issuesOf(planetWith([rtmp('a', 'stream-key: key-of-studio-a'), rtmp('b', 'stream-key: key-of-studio-b'), rtmp('a2', 'stream-key: key-of-studio-a')]));
    expect(same).toEqual([
      { path: 'flows[0].components[3].properties.stream-key', code: 'FLUX_PLANET_ROUTE_CLASH', message: '/radio/a2 (rtmp-producer) shares port 1935 on w1 with /radio/a (rtmp-producer) and has the same app and stream key: their clients could not be told apart' },
    ]);
    expect(JSON.stringify(same)).not.toContain('key-of-studio');
    // One path split differently between app and key is the same stream; so is one key file.
    expect(issuesOf(planetWith([rtmp('a', 'app: live/hall, stream-key: key-of-hall-1'), rtmp('b', 'app: live, stream-key: hall/key-of-hall-1')]))[0].code).toBe('FLUX_PLANET_ROUTE_CLASH');
    expect(issuesOf(planetWith([rtmp('a', 'stream-key-file: /k/a.key'), rtmp('b', 'stream-key-file: /k/a.key')]))[0]).toMatchObject({ path: 'flows[0].components[2].properties.stream-key-file', code: 'FLUX_PLANET_ROUTE_CLASH' });
    // Not on two addresses that overlap (one server per address), not across workers on one machine, not with another type.
    expect(issuesOf(planetWith([rtmp('a', 'stream-key: key-of-studio-a'), rtmp('b', 'host: 0.0.0.0, stream-key: key-of-studio-b')]))).toEqual([
      { path: 'flows[0].components[2].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 1935 on w1 is also used by /radio/a (rtmp-producer)' },
    ]);
    const twoWorkers = planetWith([rtmp('a', 'stream-key: key-of-studio-a'), rtmp('b', 'stream-key: key-of-studio-b', 'w2')]);
    expect(issuesOf(twoWorkers)).toEqual([]);
    expect(issuesOf(twoWorkers, { oneMachine: true })[0]).toMatchObject({ code: 'FLUX_PLANET_PORT_CLASH', message: 'port 1935 on w2 is also used by /radio/a (rtmp-producer) on w1 (every worker runs on this machine)' });
    expect(issuesOf(planetWith([rtmp('a', 'stream-key: key-of-studio-a'), streamer('web', 'w1', 'port: 1935')]))[0].message).toBe('port 1935 on w1 is also used by /radio/a (rtmp-producer)');
  });

  it('lets the streamers behind a porter share its port, and checks the porter\'s port like any other', () => {
    const porter = '{ name: front, type: porter, worker: w1, properties: { port: 8800 } }';
    const behind = (n: string) => streamer(n, 'w1', `porter: front, mount-point: /${n}.ogg`);
    expect(issuesOf(planetWith([porter, behind('a'), behind('b'), `{ name: tv, type: hls-streamer, worker: w1, properties: { porter: front, mount-point: /tv.m3u8 }, eaters: { default: [src] } }`]))).toEqual([]);
    expect(issuesOf(planetWith([porter, behind('a'), streamer('own', 'w1', 'port: 8800, mount-point: /own.ogg')]))).toEqual([
      { path: 'flows[0].components[3].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 8800 on w1 is also used by /radio/front (porter)' },
    ]);
  });

  it('checks the manager\'s port against every worker when the manager listens on loopback, and against its own address otherwise', () => {
    const yaml = planetWith([streamer('a', 'w2', 'port: 7531')]);
    expect(issuesOf(yaml)).toEqual([
      { path: 'flows[0].components[1].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 7531 on w2 is also used by the manager on 127.0.0.1:7531 (a manager on loopback is reached from its own machine only, so its workers run there)' },
    ]);
    expect(issuesOf(planetWith([streamer('a', 'w2', 'port: 7531, host: 0.0.0.0')]))).toHaveLength(1);
    // A manager on an outward address: a worker's loopback or wildcard socket may be on another machine...
    expect(issuesOf(planetWith([streamer('a', 'w2', 'port: 7531, host: 0.0.0.0')], { manager: 'host: 10.0.0.1, port: 7531' }))).toEqual([]);
    // ...but the manager's own address is the manager's machine.
    expect(issuesOf(planetWith([streamer('a', 'w2', 'port: 7531, host: 10.0.0.1')], { manager: 'host: 10.0.0.1, port: 7531' }))[0].message).toBe('port 7531 on w2 is also used by the manager on 10.0.0.1:7531 (both bind 10.0.0.1)');
  });

  it('checks pinned feed ports against the components of their worker (every address), and across workers on one machine', () => {
    const workers = '[ { name: w1, feed-port: 8600 }, { name: w2, feed-port: 8600 } ]';
    const yaml = planetWith([streamer('a', 'w1', 'port: 8600, host: 127.0.0.5')], { workers });
    expect(issuesOf(yaml)).toEqual([
      { path: 'flows[0].components[1].properties.port', code: 'FLUX_PLANET_PORT_CLASH', message: 'port 8600 on w1 is also used by the feed server of w1' },
    ]);
    expect(issuesOf(yaml, { oneMachine: true }).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'workers[1].feed-port: port 8600 on w2 is also used by the feed server of w1 on w1 (every worker runs on this machine)',
      'flows[0].components[1].properties.port: port 8600 on w1 is also used by the feed server of w1',
    ]);
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8600')], { workers: '[ { name: w1, feed-port: 0 }, { name: w2 } ]' }))).toEqual([]);
  });

  it('lets a type that declares sharesPort share a port among its own kind only', () => {
    const shared = defineComponentType({
      type: 'shared-ingest',
      description: 'test type: many on one port, told apart by a key',
      properties: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().default(1935), key: z.string() }).strict(),
      eaters: [],
      feeders: ['default'],
      sharesPort: true,
      gstElements: [],
      create: () => {
        throw new Error('not run in this test');
      },
    });
    const types = new Map([...COMPONENT_TYPES, [shared.type, shared as unknown as ComponentType]]);
    const one = (n: string) => `{ name: ${n}, type: shared-ingest, worker: w1, properties: { key: ${n} } }`;
    expect(issuesOf(planetWith([one('a'), one('b'), one('c')]), {}, types)).toEqual([]);
    expect(issuesOf(planetWith([one('a'), streamer('web', 'w1', 'port: 1935')]), {}, types)[0].message).toBe('port 1935 on w1 is also used by /radio/a (shared-ingest)');
  });

  it('takes a numeric port property of a type that declares no sockets as one TCP socket', () => {
    const plain = defineComponentType({
      type: 'plain-server',
      description: 'test type without a listens declaration',
      properties: z.object({ port: z.number().int() }).strict(),
      gstElements: [],
      eaters: [],
      feeders: ['default'],
      create: () => {
        throw new Error('not run in this test');
      },
    });
    const types = new Map([...COMPONENT_TYPES, [plain.type, plain as unknown as ComponentType]]);
    expect(issuesOf(planetWith([streamer('web', 'w1', 'port: 9000'), '{ name: p, type: plain-server, worker: w1, properties: { port: 9000 } }']), {}, types)[0].message).toBe('port 9000 on w1 is also used by /radio/web (http-streamer)');
  });
});

describe('planet check: porters and their mounts', () => {
  const porter = (worker = 'w1') => `{ name: front, type: porter, worker: ${worker}, properties: { port: 8800 } }`;
  it('refuses two streamers with one path on one porter, an HLS segment prefix included', () => {
    expect(issuesOf(planetWith([porter(), streamer('a', 'w1', 'porter: front, mount-point: /live.ogg'), streamer('b', 'w1', 'porter: front, mount-point: /live.ogg')]))).toEqual([
      { path: 'flows[0].components[3].properties.mount-point', code: 'FLUX_PLANET_MOUNT_CLASH', message: "porter 'front' already has /live.ogg mounted by /radio/a (http-streamer)" },
    ]);
    const hls = '{ name: tv, type: hls-streamer, worker: w1, properties: { porter: front, mount-point: /tv.m3u8 }, eaters: { default: [src] } }';
    expect(issuesOf(planetWith([porter(), hls, streamer('b', 'w1', 'porter: front, mount-point: /tv/')]))[0].message).toBe("porter 'front' already has /tv/ mounted by /radio/tv (hls-streamer)");
    // One path on two streamers of their own ports is no clash.
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8801, mount-point: /live.ogg'), streamer('b', 'w1', 'port: 8802, mount-point: /live.ogg')]))).toEqual([]);
  });

  it('refuses a porter that does not exist or runs on another worker, with a code', () => {
    expect(issuesOf(planetWith([streamer('a', 'w1', 'porter: back, mount-point: /a.ogg')]))).toEqual([
      { path: 'flows[0].components[1].properties.porter', code: 'FLUX_PLANET_BAD_PORTER', message: "no porter 'back' in flow radio" },
    ]);
    expect(issuesOf(planetWith([porter('w2'), streamer('a', 'w1', 'porter: front, mount-point: /a.ogg')]))).toEqual([
      { path: 'flows[0].components[2].properties.porter', code: 'FLUX_PLANET_BAD_PORTER', message: "porter 'front' runs on w2, not on w1 with this streamer" },
    ]);
  });

  it('prints a coded issue with its code: path: message [CODE]', () => {
    expect(formatIssue({ path: 'manager.port', message: 'm', code: 'FLUX_PLANET_PORT_CLASH' })).toBe('manager.port: m [FLUX_PLANET_PORT_CLASH]');
    expect(formatIssue({ path: 'workers[0].name', message: 'm' })).toBe('workers[0].name: m');
  });
});

describe('planet check: public-url', () => {
  it('takes an absolute http(s) URL on a streamer and refuses anything else at its path', () => {
    expect(issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, public-url: "https://radio.example.org/live.ogg"')]))).toEqual([]);
    const bad = issuesOf(planetWith([streamer('a', 'w1', 'port: 8800, public-url: /live.ogg')]));
    expect(bad).toHaveLength(1);
    expect(bad[0].path).toBe('flows[0].components[1].properties.public-url');
    expect(bad[0].message).toMatch(/^must be an absolute http:\/\/ or https:\/\/ URL/);
    expect(issuesOf(planetWith(['{ name: tv, type: hls-streamer, worker: w1, properties: { public-url: "ftp://cdn.example.org/tv.m3u8" }, eaters: { default: [src] } }']))[0].path).toBe('flows[0].components[1].properties.public-url');
  });
});
