// A fallback move as a browser hears it (Debian's chromium driven by playwright-core): an
// <audio> element playing mount A keeps playing, its currentTime advancing, while A's source
// goes away (it is moved to the fallback B on the same connection) and when it returns (moved
// back), for Ogg/Vorbis (a new chain link each time) and for MP3 (a switch at a frame).

import * as http from 'http';
import { ChildProcess } from 'child_process';
import { Browser, Page } from 'playwright-core';
import { HttpStreamer, httpStreamerType } from '../../actors/components/http-streamer';
import { browserTests, launchPlayer, servePage } from '../helpers/browser';
import { describeGst, spawnGdpProducer } from '../helpers/gst';
import { waitFor } from '../helpers/net';

jest.setTimeout(120000);

const FEED = '/test/source:default';
const RAW = 'audio/x-raw,rate=44100,channels=2 ! audioconvert';
const FORMATS = {
  ogg: { mount: 'ogg', source: (freq: number) => `audiotestsrc is-live=true freq=${freq} volume=0.2 ! ${RAW} ! vorbisenc ! oggmux` },
  mp3: { mount: 'mp3', source: (freq: number) => `audiotestsrc is-live=true freq=${freq} volume=0.2 ! ${RAW} ! lamemp3enc target=bitrate cbr=true bitrate=128 ! mpegaudioparse` },
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>fallback</title><body>
<script>
window.listen = (url) => {
  const el = document.createElement('audio');
  el.crossOrigin = 'anonymous';
  el.muted = true;
  el.autoplay = true;
  const state = { errors: [], ended: false };
  el.addEventListener('error', () => state.errors.push(el.error ? el.error.code + ' ' + el.error.message : 'error'));
  el.addEventListener('ended', () => (state.ended = true));
  el.src = url;
  document.body.appendChild(el);
  el.play().catch((e) => state.errors.push(String(e)));
  window.player = { el, state };
};
window.look = () => {
  const el = window.player.el;
  const b = el.buffered;
  return { t: el.currentTime, ahead: b.length ? b.end(b.length - 1) - el.currentTime : 0, paused: el.paused, errors: window.player.state.errors, ended: window.player.state.ended };
};
</script>`;

type Look = { t: number; ahead: number; paused: boolean; errors: string[]; ended: boolean };

(browserTests ? describeGst : describe.skip)('a fallback move in chromium', () => {
  let browser: Browser;
  let pageServer: http.Server;
  let pageUrl = '';
  const running: HttpStreamer[] = [];
  const producers: ChildProcess[] = [];

  beforeAll(async () => {
    browser = await launchPlayer();
    ({ server: pageServer, url: pageUrl } = await servePage(PAGE));
  });
  afterAll(async () => {
    await browser?.close();
    pageServer?.close();
  });
  afterEach(async () => {
    for (const p of producers.splice(0)) p.kill('SIGKILL');
    for (const s of running.splice(0).reverse()) await s.stop();
  });

  async function streamer(name: string, props: Record<string, unknown>): Promise<HttpStreamer> {
    // A burst of three seconds: the player is never far ahead of what it was sent, so each move is heard soon.
    const s = httpStreamerType.create(name, httpStreamerType.properties.parse({ port: 0, 'write-interval': 100, 'burst-time': 3, ...props })) as HttpStreamer;
    s.flow = 'test';
    s.addFeed('default', FEED);
    await s.start();
    running.push(s);
    return s;
  }

  function source(s: HttpStreamer, pipeline: string): () => void {
    s.feedConnected('default', FEED);
    const p = spawnGdpProducer(pipeline, (f) => s.eat('default', FEED, f));
    producers.push(p);
    return () => {
      p.kill('SIGKILL');
      s.feedDisconnected('default', FEED);
    };
  }

  const look = async (page: Page) => (await page.evaluate('look()')) as Look;

  /**
   * The player plays on past everything it had buffered when this is called (all that the mount
   * it leaves gave it): for that long plus three seconds of wall time it never errs, ends or
   * pauses, and over the last two seconds its currentTime advances as playback does.
   */
  async function playsOn(page: Page, what: string): Promise<void> {
    const first = await look(page);
    const until = Date.now() + (first.ahead + 3) * 1000;
    const samples: Array<{ at: number; l: Look }> = [];
    await waitFor(() => Date.now() >= until, (first.ahead + 10) * 1000, what, async () => {
      const l = await look(page);
      samples.push({ at: Date.now(), l });
      expect(l).toMatchObject({ errors: [], ended: false, paused: false });
    });
    const last = samples[samples.length - 1];
    const before = samples.find((x) => x.at >= last.at - 2000) ?? samples[0];
    expect(last.l.t - before.l.t).toBeGreaterThan(((last.at - before.at) / 1000) * 0.6);
  }

  it.each(Object.keys(FORMATS) as Array<keyof typeof FORMATS>)('keeps playing %s across the move to the fallback and back', async (format) => {
    const f = FORMATS[format];
    const b = await streamer('b', { 'mount-point': `/b.${f.mount}` });
    const a = await streamer('a', { 'mount-point': `/a.${f.mount}`, 'fallback-mount': `/b.${f.mount}` });
    source(b, f.source(880));
    const stopA = source(a, f.source(440));
    await waitFor(() => a.details()?.fallback?.state === 'own' && !!b.caps, 15000, 'both streams');
    const page = await browser.newPage();
    await page.goto(pageUrl);
    await page.evaluate(`listen(${JSON.stringify(`http://127.0.0.1:${new URL(a.url).port}/a.${f.mount}`)})`);
    let t = 0;
    await waitFor(() => t >= 1, 20000, 'playing A', async () => {
      t = (await look(page)).t;
    });
    await playsOn(page, 'playing A');

    stopA();
    await waitFor(() => b.stats()!.currentClients === 1, 10000, 'the player moved to B');
    await playsOn(page, 'playing on through B');

    source(a, f.source(440));
    await waitFor(() => a.stats()!.currentClients === 1 && b.stats()!.currentClients === 0, 15000, 'the player back on A');
    await playsOn(page, 'playing on through A again');
    expect(a.details()!.fallback).toMatchObject({ moved: 1, returned: 1 });
    await page.close();
  });
});
