// The serving side of `npm run bench:webrtc`, in a process of its own so that its CPU is its
// own: a whep-streamer (VP8 + Opus) and an LL-HLS hls-streamer (H.264 + AAC in MPEG-TS), each
// fed by a gst-launch child of this process writing GDP to a pipe (their encoding is not
// counted: it is the same for any number of viewers). Prints one JSON line with the ports.

import { spawn } from 'child_process';
import { GdpDecoder } from '../protocol/gdp';
import { Component } from '../actors/component/component';
import { hlsStreamerType, HlsStreamer } from '../actors/components/hls-streamer';
import { WhepStreamer, whepStreamerType } from '../actors/components/webrtc/whep-streamer';

function feed(description: string, into: (f: Parameters<Component['eat']>[2]) => void): void {
  const child = spawn('gst-launch-1.0', ['-q', ...description.split(' '), '!', 'gdppay', '!', 'fdsink', 'fd=1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const decoder = new GdpDecoder({ onFrame: into });
  child.stdout.on('data', (c: Buffer) => {
    const e = decoder.push(c);
    if (e) throw e;
  });
  process.on('exit', () => child.kill('SIGKILL'));
}

async function main(): Promise<void> {
  const whep = whepStreamerType.create('whep', whepStreamerType.properties.parse({ port: 0, 'client-limit': 10000 })) as WhepStreamer;
  whep.addFeed('video', '/b/vp8:default');
  whep.addFeed('audio', '/b/opus:default');
  await whep.start();
  const ll = hlsStreamerType.create('llhls', hlsStreamerType.properties.parse({ port: 0, 'mount-point': '/live.m3u8', 'low-latency': true })) as HlsStreamer;
  ll.addFeed('default', '/b/ts:default');
  await ll.start();
  // The same picture for both: 640x360 at 25 fps, a keyframe every 2 s, ~800 kbit/s.
  const picture = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1';
  feed(`${picture} ! vp8enc deadline=1 cpu-used=8 threads=1 target-bitrate=800000 keyframe-max-dist=50`, (f) => whep.eat('video', '/b/vp8:default', f));
  feed('audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=64000', (f) => whep.eat('audio', '/b/opus:default', f));
  feed(`${picture} ! x264enc key-int-max=50 speed-preset=veryfast tune=zerolatency bitrate=800 ! h264parse config-interval=-1 ! mpegtsmux`, (f) => ll.eat('default', '/b/ts:default', f));
  process.stdout.write(JSON.stringify({ whep: whep.urls[0], ll: new URL(ll.url).port }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

void main();
