// Looks at what a listener received: the links of an Ogg chain, the runs of MP3 frames by
// bitrate, and whether real decoders (GStreamer's playbin, ffmpeg) take a capture whole, read
// from a pipe as a player reads a live stream.

import { spawnSync } from 'child_process';
import { OGG_FLAGS, readOggPage } from '../../protocol/media/ogg-pages';
import { readAudioFrame } from '../../protocol/media/audio-frames';

/** The serial of each Ogg chain link in `body`, in order (a BOS page starts one). */
export function oggLinks(body: Buffer): number[] {
  const serials: number[] = [];
  for (let at = 0; at < body.length; ) {
    let p;
    try {
      p = readOggPage(body, at);
    } catch {
      break; // the capture ends inside a page
    }
    if (p.flags & OGG_FLAGS.BOS) serials.push(p.serial);
    at += p.bytes.length;
  }
  return serials;
}

/** The bitrate (kbit/s) of each run of MP3 frames in `body`, in order. */
export function mp3Runs(body: Buffer): number[] {
  const runs: number[] = [];
  for (let at = 0; at + 4 <= body.length; ) {
    const f = readAudioFrame(body, at);
    if (!f) throw new Error(`no MP3 frame at byte ${at}`);
    const kbps = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320][body[at + 2] >> 4];
    if (runs[runs.length - 1] !== kbps) runs.push(kbps);
    at += f.length;
  }
  return runs;
}

/**
 * Decodes a capture as a player reads a live stream (from a pipe: no seeking) with GStreamer and
 * with ffmpeg: both must take it whole without an error or a warning. Returns the seconds ffmpeg
 * decoded (44.1 kHz stereo).
 */
export function decodeCleanly(input: Buffer, demux: 'ogg' | 'mp3'): number {
  // playbin, as GStreamer players read a stream: it follows a new Ogg chain link (a plain
  // `oggdemux ! vorbisdec` in gst-launch links the first link's pad only).
  const g = spawnSync('gst-launch-1.0', ['playbin', 'uri=fd://0', 'audio-sink=fakesink sync=false', 'video-sink=fakesink'], { input, encoding: 'utf8', timeout: 60000 });
  const out = `${g.stdout}${g.stderr}`;
  expect({ status: g.status, out }).toEqual({ status: 0, out: expect.not.stringMatching(/ERROR|WARNING/) });
  const f = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'warning', '-f', demux, '-i', 'pipe:0', '-f', 's16le', '-ac', '2', '-ar', '44100', 'pipe:1'], { input, timeout: 60000, maxBuffer: 256 * 1024 * 1024 });
  expect({ status: f.status, stderr: f.stderr.toString() }).toEqual({ status: 0, stderr: '' });
  return f.stdout.length / (44100 * 4);
}
