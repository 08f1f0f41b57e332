// `fluxcast check` on fallback mounts and intro files: a fallback must be one http-streamer of
// the same worker (own ports) or porter, with one sender process, of a stream alike and able to
// switch (where the planet tells the formats), and chains must end; an intro needs an Ogg, MP3
// or AAC stream. Each problem is coded FLUX_PLANET_BAD_FALLBACK with the path of the property.

import { checkPlanetText } from '../../../actors/planet/check';
import { COMPONENT_TYPES } from '../../../actors/components/registry';
import { runCli } from '../../helpers/cli';
import { writePlanet } from '../../helpers/planet';

/** A planet with an Ogg/Vorbis and an MP3 chain on w1, a WebM one, and the streamers given. */
function planet(streamers: string, more = ''): string {
  return `
manager: { secret: abcdefgh123abcdefgh }
workers: [ { name: w1 }, { name: w2 } ]
flows:
  - name: radio
    components:
      - { name: tone, type: audiotest-producer, worker: w1 }
      - { name: vorbis, type: vorbis-encoder, worker: w1, eaters: { default: [tone] } }
      - { name: ogg, type: ogg-muxer, worker: w1, eaters: { default: [vorbis] } }
      - { name: ogg2, type: ogg-muxer, worker: w1, eaters: { default: [vorbis] } }
      - { name: mp3, type: mp3-encoder, worker: w1, eaters: { default: [tone] } }
      - { name: picture, type: videotest-producer, worker: w1 }
      - { name: vp8, type: vp8-encoder, worker: w1, eaters: { default: [picture] } }
      - { name: webm, type: webm-muxer, worker: w1, eaters: { default: [vp8, vorbis] } }
      - { name: custom, type: pipeline-producer, worker: w1, properties: { pipeline: 'audiotestsrc ! vorbisenc ! oggmux' } }
      - { name: front, type: porter, worker: w1, properties: { port: 8000 } }
${streamers}
${more}`;
}

const streamer = (name: string, feed: string, props: string, worker = 'w1') => `      - { name: ${name}, type: http-streamer, worker: ${worker}, eaters: { default: [${feed}] }, properties: { ${props} } }`;
const issues = (text: string) => checkPlanetText(text, COMPONENT_TYPES).issues;

describe('planet check: fallback mounts and intro files', () => {
  it('accepts fallbacks on the same worker\'s own ports and behind the same porter, chains, and intros of Ogg and MP3 streams', () => {
    expect(
      issues(
        planet(
          [
            streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg, intro-file: /srv/intro.ogg'),
            streamer('b', 'ogg2', 'port: 8002, mount-point: /b.ogg, fallback-mount: /c.ogg, fallback-override: false'),
            streamer('c', 'custom', 'port: 8003, mount-point: /c.ogg'),
            streamer('pa', 'mp3', 'porter: front, mount-point: /a.mp3, fallback-mount: /b.mp3, intro-file: /srv/intro.mp3'),
            streamer('pb', 'mp3', 'porter: front, mount-point: /b.mp3'),
          ].join('\n'),
        ),
      ),
    ).toEqual([]);
  });

  it('refuses a fallback that no streamer of the same place serves, or several do', () => {
    expect(issues(planet([streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg'), streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg', 'w2')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: 'no http-streamer serves /b.ogg on w1 with a port of its own: a fallback must be served by the same worker process' },
    ]);
    // Behind a porter, the fallback is one of that porter's mounts.
    expect(issues(planet([streamer('a', 'ogg', 'porter: front, mount-point: /a.ogg, fallback-mount: /b.ogg'), streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: "no http-streamer serves /b.ogg behind porter 'front' of flow radio: a fallback must be served by the same worker process" },
    ]);
    const two = issues(planet([streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg'), streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg'), streamer('b2', 'ogg', 'port: 8003, mount-point: /b.ogg')].join('\n')));
    expect(two).toEqual([expect.objectContaining({ code: 'FLUX_PLANET_BAD_FALLBACK', message: expect.stringMatching(/2 http-streamers serve \/b\.ogg on w1 .*\(\/radio\/b, \/radio\/b2\): the fallback is ambiguous/) })]);
  });

  it('refuses a streamer as its own fallback, and fallbacks with sender processes', () => {
    expect(issues(planet(streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /a.ogg')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', message: 'fallback-mount must be another mount than mount-point (a streamer cannot be its own fallback)' },
    ]);
    expect(issues(planet([streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg, processes: 2'), streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', message: 'fallback-mount needs processes: 1 (a listener cannot move between sender processes)' },
    ]);
    expect(issues(planet([streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg'), streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg, processes: 2')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: 'fallback /b.ogg (/radio/b) has processes: 2: a fallback needs processes: 1 (a listener cannot move between sender processes)' },
    ]);
  });

  it('refuses a chain of fallbacks that comes back to where it began, once', () => {
    const found = issues(
      planet(
        [
          streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.ogg'),
          streamer('b', 'ogg', 'port: 8002, mount-point: /b.ogg, fallback-mount: /c.ogg'),
          streamer('c', 'ogg', 'port: 8003, mount-point: /c.ogg, fallback-mount: /a.ogg'),
          streamer('d', 'ogg', 'port: 8004, mount-point: /d.ogg, fallback-mount: /a.ogg'),
        ].join('\n'),
      ),
    );
    expect(found).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: 'fallback cycle: /a.ogg (/radio/a) → /b.ogg (/radio/b) → /c.ogg (/radio/c) → /a.ogg (/radio/a)' },
    ]);
  });

  it('refuses fallbacks of another format, and streams that cannot switch, where the planet tells', () => {
    expect(issues(planet([streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.mp3'), streamer('b', 'mp3', 'port: 8002, mount-point: /b.mp3')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: "fallback /b.mp3 (/radio/b) streams MP3, /radio/a Ogg/Vorbis: a listener's player cannot follow" },
    ]);
    expect(issues(planet([streamer('a', 'webm', 'port: 8001, mount-point: /a.webm, fallback-mount: /b.webm'), streamer('b', 'webm', 'port: 8002, mount-point: /b.webm')].join('\n')))).toEqual([
      { path: 'flows[0].components[10].properties.fallback-mount', code: 'FLUX_PLANET_BAD_FALLBACK', message: '/radio/a cannot fall back to /radio/b: WebM cannot be chained: a player cannot take a second WebM header mid-stream' },
    ]);
    // An Ogg muxer of two feeds is not a single-stream Ogg; a watchdog's format is its feeds' when they agree.
    const watched = `      - { name: dog, type: watchdog, worker: w1, eaters: { master: [ogg], backup: [ogg2] } }`;
    expect(issues(planet([streamer('a', 'dog', 'port: 8001, mount-point: /a.ogg, fallback-mount: /b.mp3'), streamer('b', 'mp3', 'port: 8002, mount-point: /b.mp3')].join('\n'), watched))).toEqual([
      expect.objectContaining({ message: "fallback /b.mp3 (/radio/b) streams MP3, /radio/a Ogg/Vorbis: a listener's player cannot follow" }),
    ]);
  });

  it('refuses an intro on a stream that cannot take one', () => {
    expect(issues(planet(streamer('a', 'webm', 'port: 8001, mount-point: /a.webm, intro-file: /srv/intro.webm')))).toEqual([
      { path: 'flows[0].components[10].properties.intro-file', code: 'FLUX_PLANET_BAD_FALLBACK', message: 'an intro needs an Ogg, MP3 or AAC stream: WebM cannot be chained: a player cannot take a second WebM header mid-stream' },
    ]);
  });

  it('is what `fluxcast check` prints, with its code', () => {
    const r = runCli(['check', writePlanet(planet(streamer('a', 'ogg', 'port: 8001, mount-point: /a.ogg, fallback-mount: /nowhere.ogg')))]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('flows[0].components[10].properties.fallback-mount: no http-streamer serves /nowhere.ogg on w1 with a port of its own: a fallback must be served by the same worker process [FLUX_PLANET_BAD_FALLBACK]');
  });
});
