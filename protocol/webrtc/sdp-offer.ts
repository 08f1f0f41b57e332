// SDP offers of WHEP viewers and WHIP publishers (RFC 8866, as WebRTC writes them), pure: read
// just enough to check an offer and choose a payload type per media section (the codec we send,
// or take), and narrow the offer to those choices before the WebRTC stack answers it. A body
// that is no usable offer is a FluxError FLUX_WEBRTC_BAD_SDP (400); an offer without a codec we
// can use is FLUX_WEBRTC_NO_CODEC (406). Bounded: 64 KiB, 64 media sections, 512 formats.

import { FluxError } from '../errors';
import { WEBRTC_ERROR_CODES as E } from './errors';

export const MAX_SDP_BYTES = 64 * 1024;
const MAX_SECTIONS = 64;
const MAX_FORMATS = 512;

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface OfferedFormat {
  pt: number;
  /** Lower case: h264, vp8, opus, rtx... */
  name: string;
  clockRate: number;
  channels: number;
  fmtp: Record<string, string>;
}

export interface MediaSection {
  index: number;
  kind: string;
  port: number;
  mid: string | null;
  direction: Direction;
  formats: OfferedFormat[];
}

export interface Offer {
  sections: MediaSection[];
}

const bad = (message: string): FluxError => new FluxError(E.BAD_SDP, message);

/** Reads an offer; throws FLUX_WEBRTC_BAD_SDP when it is none WebRTC can answer. */
export function parseOffer(text: string): Offer {
  if (Buffer.byteLength(text) > MAX_SDP_BYTES) throw bad(`the offer is larger than ${MAX_SDP_BYTES} bytes`);
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw bad('an SDP offer starts with v=0');
  const sections: MediaSection[] = [];
  let sessionDirection: Direction = 'sendrecv';
  const ice = { ufrag: false, pwd: false, fingerprint: false };
  const sectionIce: Array<typeof ice> = [];
  let current: MediaSection | null = null;
  let formats = 0;
  for (const [n, line] of lines.entries()) {
    if (!/^[a-z]=/.test(line)) throw bad(`line ${n + 1} is not type=value`);
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      const m = /^(\w+) (\d+)(?:\/\d+)? ([A-Za-z0-9/]+) ?([\d ]*)$/.exec(value);
      if (!m) throw bad(`line ${n + 1}: a malformed m= line`);
      if (sections.length >= MAX_SECTIONS) throw bad(`more than ${MAX_SECTIONS} media sections`);
      const pts = m[4].trim() ? m[4].trim().split(/ +/).map(Number) : [];
      formats += pts.length;
      if (formats > MAX_FORMATS) throw bad(`more than ${MAX_FORMATS} formats`);
      current = { index: sections.length, kind: m[1], port: Number(m[2]), mid: null, direction: sessionDirection, formats: pts.map((pt) => ({ pt, name: '', clockRate: 0, channels: 1, fmtp: {} })) };
      if (!/RTP\//.test(m[3]) && m[1] !== 'application') throw bad(`line ${n + 1}: the transport ${m[3]} is not RTP`);
      sections.push(current);
      sectionIce.push({ ufrag: false, pwd: false, fingerprint: false });
      continue;
    }
    if (type !== 'a') continue;
    const target = current ? sectionIce[sectionIce.length - 1] : ice;
    if (value.startsWith('ice-ufrag:')) target.ufrag = true;
    else if (value.startsWith('ice-pwd:')) target.pwd = true;
    else if (value.startsWith('fingerprint:')) target.fingerprint = true;
    else if (value === 'sendrecv' || value === 'sendonly' || value === 'recvonly' || value === 'inactive') {
      if (current) current.direction = value;
      else sessionDirection = value;
    } else if (current && value.startsWith('mid:')) current.mid = value.slice(4);
    else if (current && value.startsWith('rtpmap:')) {
      const r = /^rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(value);
      if (!r) throw bad(`line ${n + 1}: a malformed rtpmap`);
      const f = current.formats.find((x) => x.pt === Number(r[1]));
      if (f) Object.assign(f, { name: r[2].toLowerCase(), clockRate: Number(r[3]), channels: r[4] ? Number(r[4]) : 1 });
    } else if (current && value.startsWith('fmtp:')) {
      const r = /^fmtp:(\d+) (.*)$/.exec(value);
      if (!r) throw bad(`line ${n + 1}: a malformed fmtp`);
      const f = current.formats.find((x) => x.pt === Number(r[1]));
      if (f) {
        for (const kv of r[2].split(';')) {
          const i = kv.indexOf('=');
          if (i > 0) f.fmtp[kv.slice(0, i).trim().toLowerCase()] = kv.slice(i + 1).trim();
        }
      }
    }
  }
  if (!sections.length) throw bad('the offer has no media section');
  sectionIce.forEach((si, i) => {
    if (!(si.ufrag || ice.ufrag) || !(si.pwd || ice.pwd)) throw bad(`media section ${i} has no ICE credentials (ice-ufrag, ice-pwd)`);
    if (!(si.fingerprint || ice.fingerprint)) throw bad(`media section ${i} has no DTLS fingerprint`);
  });
  return { sections };
}

/** What one side has to send (WHEP) or wants to take (WHIP) in a media section. */
export interface CodecWish {
  kind: 'video' | 'audio';
  /** h264, vp8 or opus. */
  codec: string;
  /** H.264: the stream's profile_idc (2 hex digits, e.g. 42, 4d, 64), when known. */
  profileIdc?: string;
}

/** Whether an offered format carries `wish` (name, clock rate, H.264 packetization mode 1 and profile). */
export function formatFits(f: OfferedFormat, wish: CodecWish): boolean {
  if (f.name !== wish.codec) return false;
  if (wish.codec === 'opus') return f.clockRate === 48000;
  if (f.clockRate !== 90000) return false;
  if (wish.codec !== 'h264') return true;
  if ((f.fmtp['packetization-mode'] ?? '0') !== '1') return false;
  if (!wish.profileIdc) return true;
  const offered = (f.fmtp['profile-level-id'] ?? '42001f').slice(0, 2).toLowerCase();
  return offered === wish.profileIdc.toLowerCase();
}

export interface Choice {
  section: number;
  kind: 'video' | 'audio';
  codec: string;
  pt: number;
  format: OfferedFormat;
}

/**
 * For each audio and video section the offerer wants to receive (`receive`: WHEP) or send (WHIP),
 * the first offered format that fits one of `wishes` of its kind, wishes in order of preference.
 * Sections that fit nothing are left out (their answer rejects them).
 */
export function chooseFormats(offer: Offer, wishes: readonly CodecWish[], offererSends: boolean): Choice[] {
  const out: Choice[] = [];
  const taken = new Set<string>();
  for (const s of offer.sections) {
    if (s.kind !== 'video' && s.kind !== 'audio') continue;
    if (s.port === 0 || taken.has(s.kind)) continue;
    const ok = offererSends ? s.direction === 'sendonly' || s.direction === 'sendrecv' : s.direction === 'recvonly' || s.direction === 'sendrecv';
    if (!ok) continue;
    for (const w of wishes.filter((x) => x.kind === s.kind)) {
      const f = s.formats.find((x) => formatFits(x, w));
      if (f) {
        out.push({ section: s.index, kind: s.kind, codec: w.codec, pt: f.pt, format: f });
        taken.add(s.kind);
        break;
      }
    }
  }
  return out;
}

/**
 * The offer with each chosen section narrowed to its chosen payload type (its rtpmap, fmtp and
 * rtcp-fb lines kept, other formats' dropped) and every other audio or video section marked
 * unused (port 0), so the stack answers with exactly our choices.
 */
export function narrowOffer(text: string, offer: Offer, choices: readonly Choice[]): string {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let section = -1;
  let keep: number | null = null;
  let media = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      section++;
      const s = offer.sections[section];
      media = s.kind === 'video' || s.kind === 'audio';
      const c = choices.find((x) => x.section === section);
      keep = c ? c.pt : null;
      const parts = line.split(' ');
      if (media && c) out.push(`${parts[0]} ${parts[1]} ${parts[2]} ${c.pt}`);
      else if (media) out.push(`${parts[0]} 0 ${parts[2]} ${parts[3] ?? '0'}`);
      else out.push(line);
      continue;
    }
    if (section >= 0 && media) {
      const m = /^a=(rtpmap|fmtp|rtcp-fb):(\d+|\*)/.exec(line);
      if (m && m[2] !== '*' && Number(m[2]) !== keep) continue;
    }
    out.push(line);
  }
  return out.join('\r\n');
}

/**
 * The answer with its host candidates' addresses replaced by `advertise` (a public or NAT
 * address, or a DNS name): an ICE-lite server never sends checks, so the address in its
 * candidates is only where the browser sends its own.
 */
export function advertiseCandidates(answer: string, advertise: string): string {
  return answer
    .split(/\r?\n/)
    .map((l) => {
      const m = /^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ host.*)$/.exec(l);
      return m ? `${m[1]}${advertise}${m[3]}` : l;
    })
    .join('\r\n');
}
