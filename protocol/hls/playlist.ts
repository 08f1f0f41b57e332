// Renders the media playlist of a live HLS stream from the segmenter's state (RFC 8216, and
// its low-latency extension: EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL). Pure.

import { HlsSegmenter } from './segmenter';

export interface PlaylistOptions {
  /** URI prefix of segments and parts, relative to the playlist (`live/`). */
  prefix: string;
  lowLatency: boolean;
  partDuration: number;
}

export const segmentUri = (prefix: string, msn: number) => `${prefix}seg-${msn}.ts`;
export const partUri = (prefix: string, msn: number, index: number) => `${prefix}part-${msn}.${index}.ts`;

export function renderPlaylist(s: HlsSegmenter, o: PlaylistOptions): string {
  const target = Math.max(1, Math.ceil(Math.max(s.o.targetDuration, s.maxDurationS) - 0.001));
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${o.lowLatency ? 9 : 6}`, `#EXT-X-TARGETDURATION:${target}`];
  if (o.lowLatency) {
    lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(o.partDuration * 3).toFixed(3)}`);
    lines.push(`#EXT-X-PART-INF:PART-TARGET=${o.partDuration.toFixed(3)}`);
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${s.mediaSequence}`);
  if (s.discontinuitySequence) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${s.discontinuitySequence}`);
  const last = s.segments[s.segments.length - 1];
  const partsFrom = last ? last.msn - 2 : 0; // parts are listed for the newest segments only
  for (const seg of s.segments) {
    if (!seg.complete && (!o.lowLatency || !seg.parts.some((p) => p.complete))) break;
    if (seg.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(seg.programDateTime).toISOString()}`);
    if (o.lowLatency && seg.msn >= partsFrom) {
      for (const p of seg.parts) {
        if (!p.complete) break;
        lines.push(`#EXT-X-PART:DURATION=${p.durationS.toFixed(5)},URI="${partUri(o.prefix, p.msn, p.index)}"${p.independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    if (seg.complete) {
      lines.push(`#EXTINF:${seg.durationS.toFixed(5)},`);
      lines.push(segmentUri(o.prefix, seg.msn));
    }
  }
  if (o.lowLatency && last) {
    // The part being made: players ask for it now and get it the moment it is complete.
    const next = last.complete ? { msn: last.msn + 1, index: 0 } : { msn: last.msn, index: last.parts.filter((p) => p.complete).length };
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(o.prefix, next.msn, next.index)}"`);
  }
  return lines.join('\n') + '\n';
}
