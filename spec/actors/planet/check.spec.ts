import * as fs from 'fs';
import * as path from 'path';
import { checkPlanetText } from '../../../actors/planet/check';
import { COMPONENT_TYPES } from '../../../actors/components/registry';
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
