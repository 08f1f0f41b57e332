// http-pull-producer relaying from a real Icecast 2 (fed by ffmpeg): caps from the Content-Type,
// a listener of the relay decodes, Icecast's icy-name and icy-genre reach the relay's status,
// hungry while the server is gone, happy again when it returns.

import { GdpFrame } from '../../../../protocol/gdp';
import { EVENT_TYPES } from '../../../../protocol/gst/event-types';
import { HttpPullProducer, httpPullProducerType } from '../../../../actors/components/http-pull-producer';
import { HttpStreamer, httpStreamerType } from '../../../../actors/components/http-streamer';
import { describeFfmpeg, FfmpegRun, pushTone } from '../../../helpers/ffmpeg';
import { decodedSeconds, runGstClient } from '../../../helpers/gst';
import { describeIcecast, Icecast, startIcecast } from '../../../helpers/icecast';
import { waitFor } from '../../../helpers/net';
import { freePort } from '../../../helpers/planet';

const FEED = '/relay/pull:default';

describeFfmpeg('http-pull-producer', () => {
  describeIcecast('relaying from a real Icecast', () => {
    let ice: Icecast | null = null;
    let dj: FfmpegRun | null = null;
    let pull: HttpPullProducer | null = null;
    let streamer: HttpStreamer | null = null;
    afterEach(async () => {
      await pull?.stop();
      await streamer?.stop();
      await dj?.stop();
      await ice?.kill();
      ice?.cleanup();
    });

    it('pulls Ogg with its caps, serves it to a decoding listener, goes hungry when the server dies and recovers when it is back', async () => {
      const port = await freePort();
      ice = startIcecast(port, 'relay-source-pw');
      await ice.ready();
      dj = pushTone(`icecast://source:relay-source-pw@127.0.0.1:${port}/live.ogg`, 'ogg', 120, ['-content_type', 'audio/ogg', '-ice_name', 'Relay Radio', '-ice_genre', 'jazz']);
      pull = httpPullProducerType.create('pull', httpPullProducerType.properties.parse({ url: `http://127.0.0.1:${port}/live.ogg`, timeout: 3 })) as HttpPullProducer;
      streamer = httpStreamerType.create('streamer', httpStreamerType.properties.parse({ port: 0, 'mount-point': '/relay.ogg' })) as HttpStreamer;
      streamer.addFeed('default', FEED);
      await streamer.start();
      streamer.feedConnected('default', FEED);
      const frames: GdpFrame[] = [];
      pull.connectOutput('default', (f) => {
        if (f.kind !== 'buffer') frames.push(f);
        streamer?.eat('default', FEED, f);
      });
      await pull.start();
      await waitFor(() => pull?.mood === 'happy', 15000, 'the relay happy');
      expect(frames.find((f) => f.kind === 'caps')?.text).toMatch(/^application\/ogg, streamheader=\(buffer\)</);
      expect(pull.details().source).toMatchObject({ connected: true, contentType: 'audio/ogg' });
      const out = await runGstClient(['souphttpsrc', `location=${streamer.url}`, '!', 'oggdemux', '!', 'vorbisdec', '!', 'fakesink', 'silent=false'], 2500);
      expect(decodedSeconds(out)).toBeGreaterThan(1);
      // What the source told Icecast (its icy-* answer headers) reaches the relay's public status.
      expect(streamer.publicStatus()).toMatchObject({ name: 'Relay Radio', genre: 'jazz', type: 'application/ogg' });

      // The server dies: hungry, and trying again without end.
      await dj.stop();
      await ice.kill();
      await waitFor(() => pull?.mood === 'hungry', 5000, 'hungry without its server');
      const attempts = pull.attempts;
      await waitFor(() => (pull?.attempts ?? 0) >= attempts + 3, 10000, 'reconnection attempts');
      expect(pull.messages.filter((m) => m.level === 'warning' && /ECONNREFUSED/.test(m.text))).toHaveLength(1); // once, not once per attempt

      // Back: happy again, as a new stream.
      ice.cleanup();
      ice = startIcecast(port, 'relay-source-pw');
      await ice.ready();
      dj = pushTone(`icecast://source:relay-source-pw@127.0.0.1:${port}/live.ogg`, 'ogg', 120, ['-content_type', 'audio/ogg']);
      await waitFor(() => pull?.mood === 'happy', 15000, 'happy again');
      expect(frames.filter((f) => f.kind === 'event' && f.eventType === EVENT_TYPES['stream-start'])).toHaveLength(2);
    }, 60000);
  });

  it('is hungry, not sad, while its URL answers 404 or nothing at all, and says why once', async () => {
    const port = await freePort();
    const pull = httpPullProducerType.create('pull', httpPullProducerType.properties.parse({ url: `http://127.0.0.1:${port}/none.ogg` })) as HttpPullProducer;
    await pull.start();
    expect(pull.mood).toBe('hungry');
    await waitFor(() => pull.attempts >= 3, 5000, 'attempts');
    expect(pull.mood).toBe('hungry');
    expect(pull.messages.filter((m) => /ECONNREFUSED; retrying/.test(m.text))).toHaveLength(1);
    await pull.stop();
    expect(httpPullProducerType.properties.safeParse({ url: 'ftp://x/y' }).success).toBe(false);
  });
});
