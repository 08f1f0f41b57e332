// The container formats a source may send fluxcast (an Icecast source client, a pulled HTTP
// stream), by Content-Type, and how each is cut into buffers with sync points: a GStreamer
// parser in a child process (Ogg pages with their header pages as streamheader, MP3 and AAC
// frames), or fluxcast's own WebM splitter (Cluster boundaries).

export type IngestFormat =
  | { name: string; kind: 'gst'; chain: string }
  | { name: string; kind: 'webm'; media: 'video/webm' | 'audio/webm' };

const OGG: IngestFormat = { name: 'ogg', kind: 'gst', chain: 'oggparse' };
// id3demux drops an ID3v2 tag at the start (ffmpeg and many encoders write one) and passes
// anything else through; the parser then finds frame boundaries.
const MP3: IngestFormat = { name: 'mp3', kind: 'gst', chain: 'id3demux ! mpegaudioparse' };
const AAC: IngestFormat = { name: 'aac', kind: 'gst', chain: 'id3demux ! aacparse ! audio/mpeg,stream-format=adts' };

const BY_TYPE: Record<string, IngestFormat> = {
  'application/ogg': OGG, 'audio/ogg': OGG, 'video/ogg': OGG, 'audio/opus': OGG, 'audio/vorbis': OGG, 'audio/x-ogg': OGG,
  'audio/mpeg': MP3, 'audio/mp3': MP3, 'audio/mpeg3': MP3, 'audio/x-mpeg': MP3,
  'audio/aac': AAC, 'audio/aacp': AAC, 'audio/x-aac': AAC, 'audio/x-hx-aac-adts': AAC,
  'video/webm': { name: 'webm', kind: 'webm', media: 'video/webm' },
  'audio/webm': { name: 'webm', kind: 'webm', media: 'audio/webm' },
};

/** Every format a source may be parsed as. */
export const INGEST_FORMATS: readonly IngestFormat[] = [...new Set(Object.values(BY_TYPE))];

/** The Content-Types accepted, for messages and the README. */
export const INGEST_CONTENT_TYPES = Object.keys(BY_TYPE);

/** The format for a Content-Type header (parameters ignored), or null when it is not supported. */
export function ingestFormat(contentType: string | undefined): IngestFormat | null {
  if (!contentType) return null;
  const media = contentType.split(';')[0].trim().toLowerCase();
  return BY_TYPE[media] ?? null;
}

const WEBM_VIDEO: IngestFormat = { name: 'webm', kind: 'webm', media: 'video/webm' };

/**
 * The format the first bytes show, when they contradict the declared one: Ogg and WebM carry
 * their magic ("OggS", the EBML header). ffmpeg's icecast:// says audio/mpeg unless told
 * otherwise, so an Ogg stream often arrives labelled MP3. Anything else keeps its label.
 */
export function sniffFormat(declared: IngestFormat, head: Buffer): IngestFormat {
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'OggS') return declared.name === 'ogg' ? declared : OGG;
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return declared.kind === 'webm' ? declared : WEBM_VIDEO;
  return declared;
}
