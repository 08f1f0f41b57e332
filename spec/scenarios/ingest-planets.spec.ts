// The ingest example planets as real processes with real clients: a DJ's ffmpeg sending to the
// studio (Vorbis and MP3 out, the tone filling in while no DJ is on air, listeners kept through
// both switches), and ffmpeg publishing RTMP to the OBS planet (WebM out, decoded by GStreamer).

import * as fs from 'fs';
import * as path from 'path';
import { describeFfmpeg, pushTone, runFfmpeg } from '../helpers/ffmpeg';
import { decodedSeconds, describeGst, runGstClient } from '../helpers/gst';
import { get, rawRequest, RawResponse } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { ADMIN_SECRET, Proc, SECRET, freePort, moods, run, waitForStatus, writePlanet } from '../helpers/planet';

jest.setTimeout(150000);

const EXAMPLES = path.resolve(__dirname, '../../examples/planets');

describeGst('ingest example planets', () => {
  describeFfmpeg('with real source clients', () => {
    const procs: Proc[] = [];
    const listeners: RawResponse[] = [];
    afterEach(() => {
      for (const l of listeners.splice(0)) l.socket.destroy();
      for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });

    const boot = async (example: string, ports: Record<string, number>): Promise<number> => {
      const managerPort = await freePort();
      let yaml = fs
        .readFileSync(path.join(EXAMPLES, example), 'utf8')
        .replace('port: 7531', `port: ${managerPort}`)
        .replace(/secret: fluxcast-demo-secret/, `secret: ${SECRET}`)
        .replace(/admin-secret: fluxcast-demo-admin/, `admin-secret: ${ADMIN_SECRET}`);
      for (const [from, to] of Object.entries(ports)) yaml = yaml.replace(`port: ${from}`, `port: ${to}`);
      procs.push(run(['manager', '--planet', writePlanet(yaml)]));
      for (const w of ['worker1', 'worker2']) procs.push(run(['worker', '--name', w, '--manager', `ws://127.0.0.1:${managerPort}`, '--feed-port', '0']));
      return managerPort;
    };

    it('studio-ingest: the tone while no DJ sends, the DJ on air in Vorbis and MP3, the tone again when the DJ leaves, listeners kept throughout', async () => {
      const [djPort, httpPort] = [await freePort(), await freePort()];
      const m = await boot('studio-ingest.yaml', { 8000: djPort, 8800: httpPort });
      const onAir = (s: Awaited<ReturnType<typeof waitForStatus>>) => ['air', 'vorbis', 'ogg', 'mp3', 'web', 'ogg-streamer', 'mp3-streamer'].every((n) => moods(s)[n] === 'happy');
      let s = await waitForStatus(m, onAir, 40000, 'the tone on air');
      expect(moods(s).dj).toBe('hungry');
      const listener = await rawRequest(httpPort, get('/live.mp3'));
      listeners.push(listener);
      await waitFor(() => listener.body().length > 8000, 10000, 'the MP3 listener fed with the tone');
      expect(listener.head()).toMatch(/Content-Type: audio\/mpeg/);

      const dj = pushTone(`icecast://source:dj-password-change-me@127.0.0.1:${djPort}/live`, 'ogg', 120, ['-content_type', 'audio/ogg', '-ice_name', 'Morning Show']);
      s = await waitForStatus(m, (x) => moods(x).dj === 'happy' && moods(x).decoded === 'happy' && (x.components.find((c) => c.name === 'air')?.messages ?? []).some((msg) => msg.text === 'feeding from master'), 30000, 'the DJ on air');
      expect(s.components.find((c) => c.name === 'dj')?.details?.source).toMatchObject({ connected: true, name: 'Morning Show', contentType: 'audio/ogg' });
      const ogg = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${httpPort}/live.ogg`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false'], 3000);
      expect(decodedSeconds(ogg)).toBeGreaterThan(1);
      const mp3 = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${httpPort}/live.mp3`, '!', 'decodebin', '!', 'fakesink', 'silent=false'], 3000);
      expect(decodedSeconds(mp3)).toBeGreaterThan(1);

      // The DJ leaves: the tone takes over, the listener never notices more than a gap.
      await dj.stop();
      await waitForStatus(m, (x) => moods(x).dj === 'hungry' && (x.components.find((c) => c.name === 'air')?.messages ?? []).filter((msg) => msg.text.startsWith('feeding from')).at(-1)?.text === 'feeding from backup', 20000, 'back to the tone');
      const seen = listener.body().length;
      await waitFor(() => listener.body().length > seen + 16000, 15000, 'the same listener fed by the tone again');
      expect(listener.socket.destroyed).toBe(false);
    });

    it('obs-ingest: ffmpeg publishes H.264 + AAC over RTMP, viewers get WebM that GStreamer decodes', async () => {
      const [rtmpPort, httpPort] = [await freePort(), await freePort()];
      const m = await boot('obs-ingest.yaml', { 1935: rtmpPort, 8801: httpPort });
      await waitForStatus(m, (x) => moods(x).ingest === 'hungry' && moods(x).streamer !== undefined, 30000, 'the ingest waiting');
      const obs = runFfmpeg([
        '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
        '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac', '-t', '120',
        '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/obs-key-change-me`,
      ]);
      try {
        await waitForStatus(m, (x) => x.components.every((c) => c.mood === 'happy'), 60000, 'every component happy');
        const out = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${httpPort}/live.webm`, '!', 'matroskademux', 'name=d', 'd.video_0', '!', 'queue', '!', 'vp8dec', '!', 'fakesink', 'silent=false', 'sync=false'], 4000);
        expect(out).not.toMatch(/ERROR/);
        expect(decodedSeconds(out)).toBeGreaterThan(1);
        expect(out).toMatch(/video\/x-raw.*width=\(int\)640, height=\(int\)360/);
      } finally {
        await obs.stop();
      }
      await waitForStatus(m, (x) => moods(x).ingest === 'hungry', 15000, 'the ingest hungry once OBS stopped');
    });
  });
});
