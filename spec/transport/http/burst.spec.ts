// Burst on connect as a listener meets it, at the http-streamer's default properties, with a
// live stream made by GStreamer: a late joiner of a 128 kbit/s Ogg/Vorbis radio gets the whole
// burst (64 KiB) within 200 ms, and what it gets decodes from its first byte; a late joiner of
// a WebM stream starts at a Cluster right after the track headers.
import { ChildProcess, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HttpStreamer, httpStreamerType } from '../../../actors/components/http-streamer';
import { describeGst, decodedSeconds, runGstClient, spawnGdpProducer } from '../../helpers/gst';
import { get, rawRequest } from '../../helpers/http';
import { waitFor } from '../../helpers/net';

jest.setTimeout(60000);

const RADIO = 'audiotestsrc is-live=true wave=white-noise ! audio/x-raw,rate=44100,channels=2 ! vorbisenc bitrate=128000 ! oggmux';
const TV = 'videotestsrc is-live=true pattern=snow ! video/x-raw,width=320,height=240,framerate=25/1 ! vp8enc deadline=1 target-bitrate=400000 keyframe-max-dist=25 ! webmmux streamable=true';
const FEED = '/test/source:default';

describeGst('burst on connect (http-streamer defaults, live GStreamer streams)', () => {
  let producer: ChildProcess | null = null;
  let streamer: HttpStreamer;

  async function serve(pipeline: string, mount: string): Promise<string> {
    streamer = httpStreamerType.create('streamer', httpStreamerType.properties.parse({ port: 0, 'mount-point': mount })) as HttpStreamer;
    streamer.addFeed('default', FEED);
    await streamer.start();
    producer = spawnGdpProducer(pipeline, (f) => streamer.eat('default', FEED, f));
    return streamer.url;
  }

  afterEach(async () => {
    producer?.kill('SIGKILL');
    producer = null;
    await streamer.stop();
  });

  it('gives a late joiner of a 128 kbit/s radio the whole 64 KiB burst within 200 ms, decodable from its first byte', async () => {
    const url = await serve(RADIO, '/radio.ogg');
    const port = Number(new URL(url).port);
    await new Promise((r) => setTimeout(r, 6000)); // more than 64 KiB of history at 16 KB/s
    const t0 = performance.now();
    const r = await rawRequest(port, get('/radio.ogg'));
    await waitFor(() => r.body().length >= 64 * 1024 || performance.now() - t0 > 200, 1000);
    const inTime = r.body().length;
    const elapsed = performance.now() - t0;
    expect(inTime).toBeGreaterThanOrEqual(64 * 1024);
    expect(elapsed).toBeLessThanOrEqual(200 + 20); // the design bound, plus one poll
    // What it received decodes from the first byte: Ogg pages, Vorbis headers first.
    await new Promise((res) => setTimeout(res, 1500));
    r.socket.destroy();
    const body = r.body();
    expect(body.subarray(0, 4).toString()).toBe('OggS');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-burst-')), 'late.ogg');
    fs.writeFileSync(file, body);
    const dec = spawnSync('gst-launch-1.0', ['-v', 'filesrc', `location=${file}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'], { encoding: 'utf8', timeout: 20000 });
    const out = dec.stdout + dec.stderr;
    expect(out).not.toMatch(/ERROR|WARNING/);
    expect(decodedSeconds(out)).toBeGreaterThanOrEqual(3); // the burst is ~4 s of audio
    // And a real player joining late decodes it too.
    const live = await runGstClient(['souphttpsrc', `location=${url}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'], 2500);
    expect(live).not.toMatch(/ERROR/);
    expect(decodedSeconds(live)).toBeGreaterThanOrEqual(2);
  });

  it('starts a late WebM joiner at a Cluster right after the track headers', async () => {
    const url = await serve(TV, '/tv.webm');
    const port = Number(new URL(url).port);
    await new Promise((r) => setTimeout(r, 3500));
    for (let i = 0; i < 5; i++) {
      const r = await rawRequest(port, get('/tv.webm'));
      await waitFor(() => r.body().length > 70000, 5000, 'the burst');
      r.socket.destroy();
      const header = Buffer.concat(streamer.caps!.streamheader());
      const body = r.body();
      expect(body.subarray(0, header.length).equals(header)).toBe(true);
      expect(body.subarray(header.length, header.length + 4).toString('hex')).toBe('1f43b675'); // Cluster
      await new Promise((res) => setTimeout(res, 300));
    }
    const live = await runGstClient(['souphttpsrc', `location=${url}`, '!', 'matroskademux', '!', 'vp8dec', '!', 'fakesink', 'silent=false', 'sync=false'], 3000);
    expect(live).not.toMatch(/ERROR|Got data flow before segment event/);
    expect(decodedSeconds(live)).toBeGreaterThanOrEqual(1.5);
  });
});
