// What `fluxcast check` can know of http-streamers' fallback mounts and intro files before run
// time: the fallback must be another http-streamer of the same place (the same porter, or the
// own-port streamers of the same worker: they run in one process), exactly one, with one sender
// process on both sides, and no chain of fallbacks may come back to where it began. Where the
// planet tells a stream's format (the muxer or encoder it eats from), the two must be alike and
// able to switch mid-stream (no WebM, WAV or MPEG-TS), and an intro needs an Ogg, MP3 or AAC
// stream. Everything else (a file's content, formats of sources the planet cannot see) is
// checked at run time. Issues are coded FLUX_PLANET_BAD_FALLBACK.

import { PlanetConfig, feedRefText, formatPath, parseFeedId } from '../../protocol/planet';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import type { PlanetIssue } from '../../protocol/status';
import type { CheckedComponent } from './port-clash';

type ComponentConfig = PlanetConfig['flows'][number]['components'][number];

interface Streamer {
  c: CheckedComponent;
  config: ComponentConfig;
  flow: string;
  mount: string;
  porter: string | undefined;
  fallback: string | undefined;
}

/** A stream's format as far as the planet tells it: `key` compares, `why` says it cannot switch. */
interface KnownFormat {
  key: string;
  label: string;
  why?: string;
}

const OGG_CODECS: Record<string, string> = { 'vorbis-encoder': 'Vorbis', 'opus-encoder': 'Opus', 'theora-encoder': 'Theora' };
const CANNOT = (label: string) => `${label} cannot switch mid-stream (only Ogg, MP3 and AAC can)`;

const code = PROTOCOL_ERROR_CODES.PLANET_BAD_FALLBACK;

export function fallbackIssues(planet: PlanetConfig, checked: readonly CheckedComponent[]): PlanetIssue[] {
  const configs = new Map<string, { config: ComponentConfig; flow: string }>();
  for (const [flow, components] of [['atmosphere', planet.atmosphere.components] as const, ...planet.flows.map((f) => [f.name, f.components] as const)]) {
    for (const config of components) configs.set(`/${flow}/${config.name}`, { config, flow });
  }
  const streamers: Streamer[] = [];
  for (const c of checked) {
    const found = configs.get(c.id);
    if (c.type.type !== 'http-streamer' || !found) continue;
    const p = c.properties;
    streamers.push({ c, config: found.config, flow: found.flow, mount: String(p['mount-point']), porter: p.porter as string | undefined, fallback: p['fallback-mount'] as string | undefined });
  }

  /** The format of the stream a component sends, when its type tells it (depth-bounded through watchdogs). */
  const formatOf = (id: string, depth = 0): KnownFormat | null => {
    const found = configs.get(id);
    if (!found || depth > 8) return null;
    const { config, flow } = found;
    const upstream = (eater: string) =>
      (config.eaters[eater] ?? []).map((ref) => {
        const f = typeof ref === 'string' || !ref.remote ? parseFeedId(feedRefText(ref), flow) : null;
        return f ? `/${f.flow}/${f.component}` : null;
      });
    switch (config.type) {
      case 'ogg-muxer': {
        const feeds = upstream('default');
        if (feeds.length > 1) return { key: 'ogg-multi', label: `Ogg of ${feeds.length} streams`, why: `only single-stream Ogg can be chained (this one muxes ${feeds.length} feeds)` };
        const codec = feeds[0] ? OGG_CODECS[configs.get(feeds[0])?.config.type ?? ''] : undefined;
        return codec ? { key: `ogg/${codec}`, label: `Ogg/${codec}` } : { key: 'ogg', label: 'Ogg' };
      }
      case 'webm-muxer':
        return { key: 'webm', label: 'WebM', why: 'WebM cannot be chained: a player cannot take a second WebM header mid-stream' };
      case 'mp3-encoder':
        return { key: 'mp3', label: 'MP3' };
      case 'aac-encoder':
        return { key: 'aac', label: 'AAC' };
      case 'wav-muxer':
        return { key: 'wav', label: 'WAV', why: CANNOT('WAV') };
      case 'mpegts-muxer':
        return { key: 'mpegts', label: 'MPEG-TS', why: CANNOT('MPEG-TS') };
      case 'watchdog': {
        const [master, backup] = [upstream('master')[0], upstream('backup')[0]].map((x) => (x ? formatOf(x, depth + 1) : null));
        return master && backup && master.key === backup.key ? master : null;
      }
      default:
        return null;
    }
  };
  const streamFormat = (s: Streamer): KnownFormat | null => {
    const ref = s.config.eaters.default?.[0];
    const f = ref !== undefined && (typeof ref === 'string' || !ref.remote) ? parseFeedId(feedRefText(ref), s.flow) : null;
    return f ? formatOf(`/${f.flow}/${f.component}`) : null;
  };
  const alike = (a: KnownFormat, b: KnownFormat) => a.key === b.key || (a.key === 'ogg' && b.key.startsWith('ogg/')) || (b.key === 'ogg' && a.key.startsWith('ogg/'));

  const issues: PlanetIssue[] = [];
  const where = (s: Streamer, property: string) => formatPath([...s.c.at, 'properties', property]);
  const place = (s: Streamer) => (s.porter ? `behind porter '${s.porter}' of flow ${s.flow}` : `on ${s.c.worker} with a port of its own`);
  /** The streamers a fallback mount may name: the same porter's, or the own-port ones of the same worker. */
  const candidates = (s: Streamer, mount: string) =>
    streamers.filter((t) => t.mount === mount && (s.porter ? t.porter === s.porter && t.flow === s.flow : !t.porter && t.c.worker === s.c.worker));

  const next = new Map<Streamer, Streamer>();
  for (const s of streamers) {
    const f = streamFormat(s);
    if (s.c.properties['intro-file'] !== undefined && f?.why) issues.push({ path: where(s, 'intro-file'), code, message: `an intro needs an Ogg, MP3 or AAC stream: ${f.why}` });
    if (!s.fallback) continue;
    const found = candidates(s, s.fallback);
    const at = where(s, 'fallback-mount');
    if (found.length === 0) {
      issues.push({ path: at, code, message: `no http-streamer serves ${s.fallback} ${place(s)}: a fallback must be served by the same worker process` });
      continue;
    }
    if (found.length > 1) {
      issues.push({ path: at, code, message: `${found.length} http-streamers serve ${s.fallback} ${place(s)} (${found.map((t) => t.c.id).join(', ')}): the fallback is ambiguous` });
      continue;
    }
    // Never itself: its schema refuses a fallback-mount equal to its mount-point, and two of its mount here are ambiguous.
    const t = found[0];
    if (Number(t.c.properties.processes ?? 1) > 1) issues.push({ path: at, code, message: `fallback ${s.fallback} (${t.c.id}) has processes: ${t.c.properties.processes}: a fallback needs processes: 1 (a listener cannot move between sender processes)` });
    const g = streamFormat(t);
    const cannot = f?.why ?? g?.why;
    if (cannot) issues.push({ path: at, code, message: `${s.c.id} cannot fall back to ${t.c.id}: ${cannot}` });
    else if (f && g && !alike(f, g)) issues.push({ path: at, code, message: `fallback ${s.fallback} (${t.c.id}) streams ${g.label}, ${s.c.id} ${f.label}: a listener's player cannot follow` });
    next.set(s, t);
  }
  // A chain of fallbacks must end: one that comes back to where it began is refused once, at its first member.
  const reported = new Set<Streamer>();
  for (const s of streamers) {
    const path: Streamer[] = [];
    for (let x: Streamer | undefined = s; x && !path.includes(x); x = next.get(x)) path.push(x);
    const last = path[path.length - 1];
    const back = next.get(last);
    if (back !== s || path.some((x) => reported.has(x))) continue;
    for (const x of path) reported.add(x);
    issues.push({ path: where(s, 'fallback-mount'), code, message: `fallback cycle: ${[...path, s].map((x) => `${x.mount} (${x.c.id})`).join(' → ')}` });
  }
  return issues;
}
