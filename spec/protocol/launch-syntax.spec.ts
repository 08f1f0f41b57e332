import { parseLaunch } from '../../protocol/launch-syntax';

describe('launch description', () => {
  it('links a chain with ! and reads typed property values', () => {
    const g = parseLaunch('audiotest-producer frequency=440 is-live=true ! vorbis-encoder ! http-streamer mount-point="/live.ogg"');
    expect(g.components.map((c) => c.name)).toEqual(['audiotest-producer', 'vorbis-encoder', 'http-streamer']);
    expect(g.components[0].properties).toEqual({ frequency: 440, 'is-live': true });
    expect(g.components[2].properties).toEqual({ 'mount-point': '/live.ogg' });
    expect(g.links.map((l) => `${l.from.component}.${l.from.feeder}>${l.to.component}.${l.to.eater}`)).toEqual([
      'audiotest-producer.default>vorbis-encoder.default',
      'vorbis-encoder.default>http-streamer.default',
    ]);
  });

  it('links several feeds into a named component declared later', () => {
    const g = parseLaunch('videotest-producer ! vp8-encoder ! mux. audiotest-producer ! vorbis-encoder ! mux. webm-muxer name=mux ! http-streamer');
    expect(g.links.filter((l) => l.to.component === 'mux').map((l) => l.from.component)).toEqual(['vp8-encoder', 'vorbis-encoder']);
    expect(g.links.at(-1)).toMatchObject({ from: { component: 'mux' }, to: { component: 'http-streamer' } });
  });

  it('names repeated types apart', () => {
    const g = parseLaunch('audiotest-producer ! vorbis-encoder ! m. audiotest-producer ! vorbis-encoder ! m. ogg-muxer name=m');
    expect(g.components.map((c) => c.name)).toEqual(['audiotest-producer', 'vorbis-encoder', 'audiotest-producer2', 'vorbis-encoder2', 'm']);
  });

  it.each([
    ['', /empty description \(column 1\)/],
    ['! vorbis-encoder', /needs a component .* \(column 1\)/],
    ['audiotest-producer ! ! x', /two '!' in a row \(column 22\)/],
    ['audiotest-producer !', /links to nothing \(column 20\)/],
    ['freq=3', /does not follow a component \(column 1\)/],
    ['audiotest-producer ! nope.', /no component named 'nope' \(column 22\)/],
    ['audiotest-producer title="open', /unterminated quote \(column 26\)/],
  ])('refuses %j with the column', (text, message) => {
    expect(() => parseLaunch(text)).toThrow(message);
    try {
      parseLaunch(text);
    } catch (e) {
      expect((e as { code: string }).code).toBe('FLUX_LAUNCH_SYNTAX');
    }
  });
});
