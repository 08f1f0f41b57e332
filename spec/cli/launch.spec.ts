// `fluxcast launch` as a user runs it, with a real GStreamer listener.
import { spawn } from 'child_process';
import { CLI, runCli } from '../helpers/cli';
import { startLaunch } from '../../cli/launch';
import { describeGst, decodedSeconds, runGstClient } from '../helpers/gst';
import { waitFor } from '../helpers/net';
import { freePort } from '../helpers/planet';
import { get, rawRequest } from '../helpers/http';
import { pushTone } from '../helpers/ffmpeg';

jest.setTimeout(60000);

describe('fluxcast launch errors', () => {
  it('names the column of an unknown type or property and exits 1', () => {
    const t = runCli(['launch', 'test-audio ! mulaw-encodr']);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/^error FLUX_LAUNCH_SYNTAX: unknown component type 'mulaw-encodr' \(column 14\)/);
    const p = runCli(['launch', 'test-audio freqency=3 ! mulaw-encoder ! wav-muxer ! http-streamer port=0']);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/property 'freqency'.* \(column 12\)/);
    const e = runCli(['launch', 'mulaw-encoder']);
    expect(e.stderr).toMatch(/eater 'default' is not linked/);
  });
});

describe('fluxcast launch: check-interval', () => {
  it("gives a component's eaters its own check-interval, validated like any property", async () => {
    const bad = runCli(['launch', 'test-audio ! mulaw-encoder check-interval=20 ! wav-muxer ! http-streamer port=0']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/mulaw-encoder: property 'check-interval': .*>=100 \(column 28\)/);
    const l = await startLaunch('test-audio ! mulaw-encoder check-interval=400 ! wav-muxer ! http-streamer port=0', () => undefined);
    try {
      const bound = (name: string) => l.worker.componentStates().find((c) => c.id === `/launch/${name}`)?.eaters[0]?.feeds[0]?.boundMs;
      // Dense feeds (a buffer every 20 ms): the bound is the check interval once the cadence is known.
      await waitFor(() => bound('mulaw-encoder') === 400 && bound('wav-muxer') === 1500, 10000, 'the bounds learned');
    } finally {
      await l.stop();
    }
  });
});

describeGst('fluxcast launch with GStreamer components', () => {
  it('runs an Ogg/Vorbis radio a GStreamer listener decodes, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'launch', `audiotest-producer frequency=440 ! vorbis-encoder ! ogg-muxer ! http-streamer port=${port} mount-point=/live.ogg`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor(() => out.includes(`listen at http://127.0.0.1:${port}/live.ogg`), 20000, "launch up and the streamer happy");
      expect(out).toContain(`listen at http://127.0.0.1:${port}/live.ogg`);
      const dec = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${port}/live.ogg`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false', 'sync=false'], 3500);
      expect(decodedSeconds(dec)).toBeGreaterThanOrEqual(2);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('muxes audio and video from named links into WebM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'launch',
      `videotest-producer width=160 height=120 framerate=10/1 ! vp8-encoder keyframe-interval=10 ! mux. audiotest-producer ! vorbis-encoder ! mux. webm-muxer name=mux ! http-streamer port=${port} mount-point=/tv.webm`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes(`listen at http://127.0.0.1:${port}/tv.webm`), 30000, 'launch up and the streamer happy');
      // The muxer starts once both feeds flow; wait until the stream carries media.
      const probe = await rawRequest(port, get('/tv.webm'));
      await waitFor(() => probe.body().length > 20000, 30000, 'WebM data');
      probe.socket.destroy();
      const dec = await runGstClient(['souphttpsrc', `location=http://127.0.0.1:${port}/tv.webm`, '!', 'matroskademux', '!', 'vp8dec', '!', 'fakesink', 'silent=false', 'sync=false'], 5000);
      expect(dec).not.toMatch(/ERROR/);
      expect(decodedSeconds(dec)).toBeGreaterThanOrEqual(1.5);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describeGst('fluxcast launch with a real source', () => {
  it('takes a DJ\'s MP3 through an icecast-source-producer and streams it; hungry again when the DJ leaves', async () => {
    const [djPort, port] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [CLI, 'launch', `icecast-source-producer port=${djPort} mount-point=/live password=launch-dj-password ! http-streamer port=${port} mount-point=/live.mp3`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    let dj: ReturnType<typeof pushTone> | null = null;
    try {
      await waitFor(() => out.includes(`waiting for a source at http://127.0.0.1:${djPort}/live`), 20000, 'the producer listening');
      dj = pushTone(`icecast://source:launch-dj-password@127.0.0.1:${djPort}/live`, 'mp3', 60, ['-content_type', 'audio/mpeg']);
      await waitFor(() => /icecast-source-producer\d*: happy/.test(out), 20000, 'the producer happy');
      const r = await rawRequest(port, get('/live.mp3'));
      await waitFor(() => r.body().length > 8000, 10000, 'MP3 from the DJ');
      expect(r.head()).toMatch(/Content-Type: audio\/mpeg/);
      r.socket.destroy();
      await dj.stop();
      await waitFor(() => /icecast-source-producer\d*: hungry[\s\S]*icecast-source-producer\d*: happy[\s\S]*icecast-source-producer\d*: hungry/.test(out), 10000, 'hungry once the DJ left');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await dj?.stop();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
