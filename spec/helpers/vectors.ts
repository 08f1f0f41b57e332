// Reads the GDP conformance vectors kept in the repository (spec/fixtures/gdp-vectors, written by
// GStreamer 1.22 itself; regenerate.sh there remakes them) and turns GStreamer's normalised
// gdpdepay report (NAME.expect.txt) and our decoder's output into the same line format.

import * as fs from 'fs';
import * as path from 'path';
import { GdpDecoder, GdpFrame } from '../../protocol/gdp';
import { GdpError } from '../../protocol/errors';
import { wrapString } from '../../protocol/gst/string-escape';

/** The vectors in the checkout; FLUXCAST_GDP_VECTORS points the tests at another set (e.g. freshly regenerated). */
export const VECTOR_DIR = process.env.FLUXCAST_GDP_VECTORS ?? path.resolve(__dirname, '../fixtures/gdp-vectors');

export function listVectors(sub = ''): string[] {
  const dir = path.join(VECTOR_DIR, sub);
  // They are part of the repository: a missing folder is a broken checkout, never a reason to skip.
  if (!fs.existsSync(dir)) throw new Error(`GDP vectors not found at ${dir}`);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.gdp')).map((f) => path.join(sub, f.replace(/\.gdp$/, ''))).sort();
}

export function readVector(name: string): { bytes: Buffer; expect: string[] } {
  const bytes = fs.readFileSync(path.join(VECTOR_DIR, `${name}.gdp`));
  const expect = fs.readFileSync(path.join(VECTOR_DIR, `${name}.expect.txt`), 'utf8').split('\n').filter((l) => l.length > 0);
  return { bytes, expect };
}

const PREFIX_SINK = '/GstPipeline:pipeline0/GstFakeSink:fakesink0: last-message = ';
const PREFIX_CAPS = '/GstPipeline:pipeline0/GstGDPDepay:gdpdepay0.GstPad:src: caps = ';

/** Keeps the lines of a `gst-launch-1.0 -v ... gdpdepay ! fakesink silent=false` run that the vectors keep. */
export function normaliseGstOutput(out: string): string[] {
  const lines: string[] = [];
  const errors: string[] = [];
  for (const raw of out.split('\n')) {
    if (raw.startsWith(PREFIX_CAPS)) lines.push(raw);
    else if (raw.startsWith(PREFIX_SINK + 'event') || raw.startsWith(PREFIX_SINK + 'chain')) lines.push(raw.replace(/ 0x[0-9a-f]+$/, ''));
    else if (raw.startsWith('ERROR: from element /GstPipeline:pipeline0/GstGDPDepay') || raw.startsWith('ERROR-DETAIL:')) errors.push(raw);
  }
  return [...lines, ...errors];
}

const FLAG_NAMES: [number, string][] = [
  [0x10, 'live'], [0x20, 'decode-only'], [0x40, 'discont'], [0x80, 'resync'], [0x100, 'corrupted'],
  [0x200, 'marker'], [0x400, 'header'], [0x800, 'gap'], [0x1000, 'droppable'], [0x2000, 'delta-unit'],
  [0x4000, 'tag-memory'], [0x8000, 'sync-after'], [0x10000, 'non-droppable'],
];

function gstTime(t: bigint | null): string {
  if (t === null) return 'none';
  const ns = t % 1000000000n;
  const s = t / 1000000000n;
  return `${s / 3600n}:${String((s / 60n) % 60n).padStart(2, '0')}:${String(s % 60n).padStart(2, '0')}.${String(ns).padStart(9, '0')}`;
}

function signed64(v: bigint | null): string {
  if (v === null) return '-1';
  return BigInt.asIntN(64, v).toString();
}

/** The line fakesink/gdpdepay print for one frame (plus the caps event line after a caps packet). */
export function frameLines(f: GdpFrame): string[] {
  if (f.kind === 'caps') {
    const caps = f.text ?? '';
    return [PREFIX_CAPS + caps, `${PREFIX_SINK}event   ******* (fakesink0:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)${wrapString(caps)};)`];
  }
  if (f.kind === 'event') {
    return [`${PREFIX_SINK}event   ******* (fakesink0:sink) E (type: ${f.eventName} (${f.eventType}), ${f.text ?? ''})`];
  }
  const flags = f.bufferFlags;
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n + ' ').join('');
  return [
    `${PREFIX_SINK}chain   ******* (fakesink0:sink) (${f.payloadLength} bytes, dts: ${gstTime(f.dts)}, pts: ${gstTime(f.pts)}, ` +
      `duration: ${gstTime(f.duration)}, offset: ${signed64(f.offset)}, offset_end: ${signed64(f.offsetEnd)}, ` +
      `flags: ${flags.toString(16).padStart(8, '0')} ${names}, meta: none)`,
  ];
}

const GST_ERROR_TEXT: Record<string, string> = {
  FLUX_GDP_BAD_HEADER_CRC: 'GDP packet header does not validate',
  FLUX_GDP_BAD_PAYLOAD_CRC: 'GDP packet payload does not validate',
  FLUX_GDP_WRONG_PAYLOAD_TYPE: 'GDP packet header is of wrong type',
  FLUX_GDP_BUFFER_BEFORE_CAPS: 'Received a buffer without first receiving caps',
  FLUX_GDP_BAD_EVENT: 'could not create event from GDP packet',
  FLUX_GDP_BAD_CAPS: 'could not create caps from GDP packet',
};

/** Decodes `bytes` in chunks of `chunk` bytes and renders the report gst-launch would print. */
export function decodeToReport(bytes: Buffer, chunk = bytes.length || 1): { lines: string[]; frames: GdpFrame[]; error: GdpError | null; truncated: GdpError | null } {
  const frames: GdpFrame[] = [];
  const dec = new GdpDecoder({ onFrame: (f) => frames.push(f) });
  let error: GdpError | null = null;
  for (let i = 0; i < bytes.length && !error; i += chunk) error = dec.push(bytes.subarray(i, i + chunk));
  const truncated = error ? null : dec.end();
  const lines = frames.flatMap(frameLines);
  if (error) {
    lines.push('ERROR: from element /GstPipeline:pipeline0/GstGDPDepay:gdpdepay0: Could not decode stream.');
    lines.push(`ERROR-DETAIL: ${GST_ERROR_TEXT[error.code] ?? error.message}`);
  } else if (!dec.ended) {
    lines.push(`${PREFIX_SINK}event   ******* (fakesink0:sink) E (type: eos (28174), )`);
  }
  return { lines, frames, error, truncated };
}
