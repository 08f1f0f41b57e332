import { directUrl, isLoopbackHost, isWildcardHost, listenerUrls, publicUrlSchema } from '../../protocol/listener-urls';

describe('listener URLs', () => {
  it('lists the public URL first, then the socket the stream is served on', () => {
    expect(listenerUrls({ at: { scheme: 'https', host: '10.0.0.2', port: 8443 }, path: '/live.ogg', publicUrl: 'https://radio.example.org/live.ogg', advertiseHost: 'w1' })).toEqual([
      'https://radio.example.org/live.ogg',
      'https://10.0.0.2:8443/live.ogg',
    ]);
    expect(listenerUrls({ at: { scheme: 'http', host: '127.0.0.1', port: 8800 }, path: '/live.wav', advertiseHost: 'w1' })).toEqual(['http://127.0.0.1:8800/live.wav']);
  });

  it('never shows a wildcard address: a socket on every interface is shown at the advertised address', () => {
    expect(listenerUrls({ at: { scheme: 'http', host: '0.0.0.0', port: 8800 }, path: '/a.ogg', advertiseHost: 'radio.lan' })).toEqual(['http://radio.lan:8800/a.ogg']);
    expect(listenerUrls({ at: { scheme: 'http', host: '::', port: 8803 }, path: '/tv.m3u8', advertiseHost: 'fd00::2' })).toEqual(['http://[fd00::2]:8803/tv.m3u8']);
    expect(directUrl({ scheme: 'http', host: '::1', port: 8800 }, '/x', 'w')).toBe('http://[::1]:8800/x');
  });

  it('leaves out the default port of the scheme', () => {
    expect(directUrl({ scheme: 'https', host: 'radio.example.org', port: 443 }, '/live.ogg', 'w')).toBe('https://radio.example.org/live.ogg');
    expect(directUrl({ scheme: 'http', host: 'radio.example.org', port: 80 }, '/live.ogg', 'w')).toBe('http://radio.example.org/live.ogg');
    expect(directUrl({ scheme: 'http', host: 'radio.example.org', port: 443 }, '/live.ogg', 'w')).toBe('http://radio.example.org:443/live.ogg');
  });

  it('lists nothing while the stream is served nowhere, the public URL included', () => {
    expect(listenerUrls({ at: null, path: '/live.ogg', publicUrl: 'https://radio.example.org/live.ogg', advertiseHost: 'w' })).toEqual([]);
  });

  it('lists a public URL equal to the direct one once', () => {
    expect(listenerUrls({ at: { scheme: 'http', host: 'radio.lan', port: 8800 }, path: '/a', publicUrl: 'http://radio.lan:8800/a', advertiseHost: 'w' })).toEqual(['http://radio.lan:8800/a']);
  });

  it('tells wildcard and loopback addresses apart', () => {
    for (const h of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '']) expect(isWildcardHost(h)).toBe(true);
    for (const h of ['127.0.0.1', '::1', '10.0.0.1', 'fe80::1', 'localhost']) expect(isWildcardHost(h)).toBe(false);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', '0.0.0.0', 'radio.example.org', '::']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('accepts an absolute http(s) URL as public-url and refuses anything else with a reason', () => {
    for (const u of ['https://radio.example.org/live.ogg', 'http://203.0.113.7:8000/live.mp3', 'https://cdn.example.org/tv/tv.m3u8?x=1', 'http://[2001:db8::1]:8800/a']) {
      expect(publicUrlSchema.safeParse(u).success).toBe(true);
    }
    for (const u of ['/live.ogg', 'radio.example.org/live.ogg', 'ftp://radio.example.org/a', 'rtmp://x/live', 'https://user:pw@radio.example.org/a', 'https://radio.example.org/a#x', 'http://0.0.0.0:8800/a', 'https://radio example.org/a', '']) {
      const r = publicUrlSchema.safeParse(u);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0].message).toMatch(/^must be an absolute http:\/\/ or https:\/\/ URL/);
    }
  });
});
