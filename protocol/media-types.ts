// Maps the caps of a stream to the Content-Type an HTTP listener should see
// (what Flumotion's http-streamer sent for the same muxers), and to a file extension.

import { GstCaps } from './gst/caps';

const TYPES: Record<string, { mime: string; ext: string }> = {
  'application/ogg': { mime: 'application/ogg', ext: 'ogg' },
  'audio/ogg': { mime: 'audio/ogg', ext: 'ogg' },
  'video/ogg': { mime: 'video/ogg', ext: 'ogv' },
  'video/webm': { mime: 'video/webm', ext: 'webm' },
  'audio/webm': { mime: 'audio/webm', ext: 'webm' },
  'video/x-matroska': { mime: 'video/x-matroska', ext: 'mkv' },
  'audio/x-matroska': { mime: 'audio/x-matroska', ext: 'mka' },
  'audio/x-wav': { mime: 'audio/x-wav', ext: 'wav' },
  'audio/mpeg': { mime: 'audio/mpeg', ext: 'mp3' },
  'audio/x-flac': { mime: 'audio/flac', ext: 'flac' },
  'video/x-flv': { mime: 'video/x-flv', ext: 'flv' },
  'video/mpegts': { mime: 'video/mp2t', ext: 'ts' },
  'audio/x-mulaw': { mime: 'audio/basic', ext: 'ulaw' },
  'multipart/x-mixed-replace': { mime: 'multipart/x-mixed-replace', ext: 'mjpeg' },
};

/** MPEG-2/4 audio (AAC) travels as audio/mpeg with an mpegversion; MP3 is mpegversion 1. */
function isAac(caps: GstCaps | null): boolean {
  if (caps?.mediaType !== 'audio/mpeg') return false;
  const v = caps.first?.getNumber('mpegversion');
  return v === 2 || v === 4;
}

export function contentTypeForCaps(caps: GstCaps | null): string {
  const name = caps?.mediaType;
  if (!name) return 'application/octet-stream';
  if (isAac(caps)) return 'audio/aac';
  if (name === 'multipart/x-mixed-replace') {
    const boundary = caps?.first?.getString('boundary') ?? 'ThisRandomString';
    return `multipart/x-mixed-replace;boundary=${boundary}`;
  }
  return TYPES[name]?.mime ?? 'application/octet-stream';
}

export function extensionForCaps(caps: GstCaps | null): string {
  if (isAac(caps)) return 'aac';
  return TYPES[caps?.mediaType ?? '']?.ext ?? 'bin';
}
