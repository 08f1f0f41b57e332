// What a listener's decoder sees of a stream, and whether it can follow a switch from one
// stream to another within one HTTP response (a fallback mount, an intro file): single-stream
// Ogg may be chained (a new link: its header pages, then its data), MP3 and AAC (ADTS) may
// switch at a frame boundary; WebM cannot be chained, and WAV, MPEG-TS and the rest are refused.
// Both sides must have the same container and codec, and the same rate and channels where known
// (a player's decoder is set up once). Pure: from caps, or from a file's bytes.

import { GstCaps } from '../gst/caps';
import { AudioFrame, id3v2Length, isInfoFrame, readAudioFrame } from './audio-frames';
import { OGG_FLAGS, OggCodec, oggCodec, readOggPages } from './ogg-pages';

export interface StreamFormat {
  container: 'ogg' | 'mpeg-audio' | 'adts' | 'webm' | 'other';
  /** vorbis, opus, flac, mp3, aac...; for 'other', the media type. */
  codec: string;
  rate?: number;
  channels?: number;
  /** Ogg: logical streams in each link (1 for an audio radio). */
  streams?: number;
}

const OGG_TYPES = new Set(['application/ogg', 'audio/ogg', 'video/ogg']);
const WEBM_TYPES = new Set(['video/webm', 'audio/webm', 'video/x-matroska', 'audio/x-matroska']);

/** A format as messages print it: `Ogg/vorbis 44100 Hz 2 ch`. */
export function formatLabel(f: StreamFormat): string {
  const name = { ogg: 'Ogg/', 'mpeg-audio': '', adts: '', webm: 'WebM', other: '' }[f.container] + (f.container === 'webm' ? '' : f.codec);
  return [name, f.streams && f.streams > 1 ? `(${f.streams} streams)` : '', f.rate ? `${f.rate} Hz` : '', f.channels ? `${f.channels} ch` : ''].filter(Boolean).join(' ');
}

function fromOggHeaders(pages: Buffer[]): StreamFormat {
  let streams = 0;
  let first: OggCodec | null = null;
  for (const page of pages) {
    try {
      for (const p of readOggPages(page)) {
        if (!(p.flags & OGG_FLAGS.BOS)) continue;
        streams++;
        first ??= oggCodec(p.body);
      }
    } catch {
      // A header buffer that is not whole pages tells nothing.
    }
  }
  return { container: 'ogg', codec: first?.codec ?? 'unknown', rate: first?.rate, channels: first?.channels, streams };
}

/** The format of a stream from its caps (an Ogg stream's from the header pages in its streamheader). */
export function formatOfCaps(caps: GstCaps): StreamFormat {
  const type = caps.mediaType ?? '';
  const s = caps.first;
  const rate = s?.getNumber('rate');
  const channels = s?.getNumber('channels');
  if (type === 'audio/mpeg') {
    const version = s?.getNumber('mpegversion') ?? 1;
    if (version === 1) {
      const layer = s?.getNumber('layer') ?? 3;
      return { container: 'mpeg-audio', codec: `mp${layer}`, rate, channels };
    }
    const fmt = s?.getString('stream-format');
    if (fmt && fmt !== 'adts') return { container: 'other', codec: `audio/mpeg (AAC ${fmt})` };
    return { container: 'adts', codec: 'aac', rate, channels };
  }
  if (OGG_TYPES.has(type)) return fromOggHeaders(caps.streamheader());
  if (WEBM_TYPES.has(type)) return { container: 'webm', codec: type };
  return { container: 'other', codec: type || 'unknown' };
}

/** Why a listener cannot be switched into or out of a stream of this format, or null when it can. */
export function unswitchable(f: StreamFormat): string | null {
  switch (f.container) {
    case 'webm':
      return 'WebM cannot be chained: a player cannot take a second WebM header mid-stream';
    case 'ogg':
      if (f.streams !== 1) return `only single-stream Ogg can be chained (this one has ${f.streams ?? 0} streams)`;
      if (f.codec === 'unknown') return 'the Ogg stream\'s codec is unknown (no header pages)';
      return null;
    case 'mpeg-audio':
    case 'adts':
      return null;
    default:
      return `${f.codec} streams cannot switch mid-stream (only Ogg, MP3 and AAC can)`;
  }
}

/** Why a listener of stream `from` cannot go on with stream `to`, or null when it can. */
export function incompatibility(from: StreamFormat, to: StreamFormat): string | null {
  const why = unswitchable(to) ?? unswitchable(from);
  if (why) return why;
  if (from.container !== to.container || from.codec !== to.codec) return `${formatLabel(to)} is not ${formatLabel(from)}`;
  if (from.rate && to.rate && from.rate !== to.rate) return `${formatLabel(to)} has another rate than ${formatLabel(from)}`;
  if (from.channels && to.channels && from.channels !== to.channels) return `${formatLabel(to)} has other channels than ${formatLabel(from)}`;
  return null;
}

export class MediaFileError extends Error {}

/**
 * A file to play to a listener inside a stream (an intro): its format and the bytes to send.
 * Ogg: whole pages of one logical stream, from its BOS page to its EOS page (its own link of
 * the chain). MP3/AAC: frames from the first to the last (an ID3v2 tag before them, an ID3v1
 * tag after them and a Xing/Info frame are left out). Anything else is refused.
 */
export function readMediaFile(buf: Buffer): { format: StreamFormat; bytes: Buffer } {
  if (buf.length === 0) throw new MediaFileError('the file is empty');
  if (buf.toString('latin1', 0, 4) === 'OggS') {
    let pages;
    try {
      pages = readOggPages(buf);
    } catch (e) {
      throw new MediaFileError(`not a complete Ogg file: ${(e as Error).message}`);
    }
    const serials = new Set(pages.map((p) => p.serial));
    if (serials.size !== 1) throw new MediaFileError(`an Ogg file of ${serials.size} logical streams (one is needed)`);
    if (!(pages[0].flags & OGG_FLAGS.BOS)) throw new MediaFileError('the Ogg file does not begin its stream (no BOS page first)');
    if (!(pages[pages.length - 1].flags & OGG_FLAGS.EOS)) throw new MediaFileError('the Ogg file does not end its stream (no EOS page last)');
    const c = oggCodec(pages[0].body);
    if (c.codec === 'unknown') throw new MediaFileError('an Ogg file of an unknown codec');
    return { format: { container: 'ogg', codec: c.codec, rate: c.rate, channels: c.channels, streams: 1 }, bytes: buf };
  }
  if (buf.toString('latin1', 0, 4) === '\x1aE\xdf\xa3') throw new MediaFileError('a WebM/Matroska file (WebM cannot be chained)');
  let start = id3v2Length(buf);
  let end = buf.length;
  if (end - start >= 128 && buf.toString('latin1', end - 128, end - 125) === 'TAG') end -= 128;
  let first: AudioFrame | null = null;
  let frames = 0;
  for (let at = start; at < end; ) {
    const f = readAudioFrame(buf, at);
    if (!f) throw new MediaFileError(frames ? `no MPEG audio or ADTS frame at byte ${at} (after ${frames} frames)` : 'not an Ogg, MP3 or AAC (ADTS) file');
    if (at + f.length > end) throw new MediaFileError(`the last frame (at byte ${at}) is cut short`);
    if (first && (f.kind !== first.kind || f.codec !== first.codec || f.rate !== first.rate || f.channels !== first.channels)) {
      throw new MediaFileError(`the frame at byte ${at} is ${f.codec} ${f.rate} Hz ${f.channels} ch, the first one ${first.codec} ${first.rate} Hz ${first.channels} ch`);
    }
    if (!first && isInfoFrame(buf, f, at)) start = at + f.length; // the encoder's index, not audio
    else {
      first ??= f;
      frames++;
    }
    at += f.length;
  }
  if (!first) throw new MediaFileError('no audio frames');
  const format: StreamFormat = first.kind === 'adts' ? { container: 'adts', codec: 'aac', rate: first.rate, channels: first.channels } : { container: 'mpeg-audio', codec: first.codec, rate: first.rate, channels: first.channels };
  return { format, bytes: buf.subarray(start, end) };
}
