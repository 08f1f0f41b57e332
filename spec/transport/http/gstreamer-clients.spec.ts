// The http-streamer and the disk recorder with real GStreamer on both ends: a live gst-launch
// pipeline produces Ogg or WebM through gdppay, and gst-launch clients decode what we serve.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { MultiClientSender } from '../../../transport/sender/multi-client-sender';
import { RawPayloadInput } from '../../../transport/sender/gdp-inputs';
import { StreamServer } from '../../../transport/http/stream-server';
import { DiskRecorder } from '../../../transport/recorder/disk-recorder';
import { describeGst, decodedSeconds, runGstClient, spawnGdpProducer } from '../../helpers/gst';
import { waitFor } from '../../helpers/net';

const OGG = 'audiotestsrc is-live=true wave=sine ! audioconvert ! vorbisenc ! oggmux';
const WEBM = 'videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=10/1 ! vp8enc deadline=1 keyframe-max-dist=10 ! webmmux streamable=true';

describeGst('http-streamer and disk recorder with real GStreamer', () => {
  let producer: ChildProcess | null = null;
  let sender: MultiClientSender;
  let server: StreamServer;
  let port: number;

  async function serve(pipeline: string, mount: string): Promise<RawPayloadInput> {
    sender = new MultiClientSender();
    const input = new RawPayloadInput(sender);
    server = new StreamServer(sender, { port: 0, mountPoint: mount });
    input.onCaps((c) => server.setCaps(c));
    port = await server.listen();
    producer = spawnGdpProducer(pipeline, (f) => input.frame(f));
    return input;
  }

  afterEach(async () => {
    producer?.kill('SIGKILL');
    producer = null;
    await server?.close();
    sender?.close();
  });

  it('serves Ogg/Vorbis that a GStreamer client decodes, and a late joiner decodes too', async () => {
    const input = await serve(OGG, '/live.ogg');
    await waitFor(() => input.caps !== null, 10000, 'caps');
    const url = `location=http://127.0.0.1:${port}/live.ogg`;
    const client = ['souphttpsrc', url, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'];
    const first = await runGstClient(client, 3500);
    expect(decodedSeconds(first)).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1000));
    const late = await runGstClient(client, 3500);
    expect(decodedSeconds(late)).toBeGreaterThanOrEqual(2);
  });

  it('serves WebM/VP8 that a GStreamer client decodes', async () => {
    const input = await serve(WEBM, '/live.webm');
    await waitFor(() => input.caps !== null, 10000, 'caps');
    await new Promise((r) => setTimeout(r, 1500)); // join mid-stream: starts at a keyframe cluster
    const out = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${port}/live.webm`, '!', 'matroskademux', '!', 'vp8dec', '!', 'fakesink', 'silent=false', 'sync=false'], 3500);
    expect(decodedSeconds(out)).toBeGreaterThanOrEqual(1.5);
    expect(out).not.toMatch(/ERROR/);
  });

  it('records files that GStreamer decodes from their first byte, rotating at keyframes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-rec-'));
    try {
      const recorder = new DiskRecorder({ directory: dir, filenameTemplate: 'rec-%s.{ext}', rotateTimeMs: 1500 });
      producer = spawnGdpProducer(OGG, (f) => recorder.frame(f));
      sender = recorder.sender;
      server = new StreamServer(sender, { port: 0 });
      await waitFor(() => recorder.finished.length >= 2, 15000, 'two finished files');
      await recorder.stop();
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ogg'));
      expect(files.length).toBeGreaterThanOrEqual(2);
      for (const file of recorder.finished) {
        const out = await runGstClient(['filesrc', `location=${file.path}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'], 8000);
        expect(out).not.toMatch(/ERROR/);
        expect(decodedSeconds(out)).toBeGreaterThan(0.1); // audio decoded from the first page on
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
