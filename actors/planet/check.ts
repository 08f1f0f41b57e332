// Checks a planet file completely and reports every problem at once, each with its path:
// YAML syntax, structure (zod), component types and their properties, workers, duplicate
// names, eaters and the feeds they name, streamers' porters and their mounts, port clashes
// (port-clash.ts) and fallback mounts (fallback-check.ts). A planet without errors is ready to run.

import { parseDocument } from 'yaml';
import { z } from 'zod';
import { readRemoteSecret } from './remote-feeds';
import { PlanetConfig, formatPath, feedRefText, parseFeedId, planetSchema, fullFeedId } from '../../protocol/planet';
import { ComponentType } from '../components/component-type';
import { parseProperties } from '../components/common-properties';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { CheckedComponent, MachineHints, portClashes } from './port-clash';
import { fallbackIssues } from './fallback-check';

export type { PlanetIssue } from '../../protocol/status';
import type { PlanetIssue } from '../../protocol/status';

/** An issue as `check`, `reload` and `up` print it: `path: message [CODE]`. */
export function formatIssue(i: PlanetIssue): string {
  return `${i.path}: ${i.message}${i.code ? ` [${i.code}]` : ''}`;
}

export type CheckOptions = MachineHints;

export interface CheckedPlanet {
  planet: PlanetConfig | null;
  issues: PlanetIssue[];
}

function zodIssues(err: z.ZodError, prefix: (string | number)[] = []): PlanetIssue[] {
  return err.issues.map((i) => ({ path: formatPath([...prefix, ...(i.path as (string | number)[])]), message: i.message }));
}

export function checkPlanetText(text: string, types: ReadonlyMap<string, ComponentType>, options: CheckOptions = {}): CheckedPlanet {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    return { planet: null, issues: doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: e.message.split('\n')[0] })) };
  }
  return checkPlanet(doc.toJS(), types, options);
}

export function checkPlanet(raw: unknown, types: ReadonlyMap<string, ComponentType>, options: CheckOptions = {}): CheckedPlanet {
  const parsed = planetSchema.safeParse(raw);
  if (!parsed.success) return { planet: null, issues: zodIssues(parsed.error) };
  const planet = parsed.data;
  const issues: PlanetIssue[] = [];
  const workers = new Set<string>();
  planet.workers.forEach((w, i) => {
    if (workers.has(w.name)) issues.push({ path: `workers[${i}].name`, message: `duplicate worker '${w.name}'` });
    workers.add(w.name);
  });
  const groups: Array<{ flow: string; prefix: (string | number)[]; components: PlanetConfig['flows'][number]['components'] }> = [
    { flow: 'atmosphere', prefix: ['atmosphere'], components: planet.atmosphere.components },
    ...planet.flows.map((f, i) => ({ flow: f.name, prefix: ['flows', i] as (string | number)[], components: f.components })),
  ];
  const flowNames = new Set<string>();
  planet.flows.forEach((f, i) => {
    if (flowNames.has(f.name) || f.name === 'atmosphere') issues.push({ path: `flows[${i}].name`, message: `duplicate flow '${f.name}'` });
    flowNames.add(f.name);
  });
  // Every feeder that exists: /flow/component:feeder.
  const feeders = new Set<string>();
  for (const g of groups) {
    for (const c of g.components) {
      const t = types.get(c.type);
      if (t) for (const f of t.feeders) feeders.add(fullFeedId({ flow: g.flow, component: c.name, feeder: f }));
    }
  }
  /** Components whose properties passed their type's schema (defaults filled in). */
  const checked: CheckedComponent[] = [];
  for (const g of groups) {
    const names = new Set<string>();
    g.components.forEach((c, ci) => {
      const at = [...g.prefix, 'components', ci];
      if (names.has(c.name)) issues.push({ path: formatPath([...at, 'name']), message: `duplicate component '${c.name}' in ${g.flow}` });
      names.add(c.name);
      if (!workers.has(c.worker)) issues.push({ path: formatPath([...at, 'worker']), message: `unknown worker '${c.worker}'` });
      const t = types.get(c.type);
      if (!t) {
        issues.push({ path: formatPath([...at, 'type']), message: `unknown component type '${c.type}' (known: ${[...types.keys()].sort().join(', ')})` });
        return;
      }
      const props = parseProperties(t, c.properties);
      if (!props.success) issues.push(...zodIssues(props.error, [...at, 'properties']));
      else {
        c.properties = props.data as Record<string, unknown>;
        checked.push({ id: `/${g.flow}/${c.name}`, worker: c.worker, type: t, properties: c.properties, at });
      }
      if (t.optionalEaters) {
        if (!t.eaters.some((e) => c.eaters[e]?.length)) issues.push({ path: formatPath([...at, 'eaters']), message: `${c.type} needs a feed on at least one of its eaters (${t.eaters.join(', ')})` });
      } else {
        for (const eater of t.eaters) {
          if (!(c.eaters[eater]?.length)) issues.push({ path: formatPath([...at, 'eaters', eater]), message: `eater '${eater}' of ${c.type} has no feed` });
        }
      }
      for (const [eater, refs] of Object.entries(c.eaters)) {
        if (!t.eaters.includes(eater)) {
          issues.push({ path: formatPath([...at, 'eaters', eater]), message: t.eaters.length ? `${c.type} has no eater '${eater}' (it has: ${t.eaters.join(', ')})` : `${c.type} is a producer and eats nothing` });
          continue;
        }
        refs.forEach((ref, ri) => {
          const text = feedRefText(ref);
          const id = parseFeedId(text, g.flow);
          const where = formatPath([...at, 'eaters', eater, ri]);
          if (!id) issues.push({ path: where, message: `malformed feed id '${text}'` });
          else if (typeof ref !== 'string' && ref.remote) {
            // Another planet's feed: this planet cannot know it; its secret must be there.
            const sec = readRemoteSecret(ref);
            if ('error' in sec) issues.push({ path: formatPath([...at, 'eaters', eater, ri, 'secret-file']), message: sec.error });
          } else if (!feeders.has(fullFeedId(id))) issues.push({ path: where, message: `unknown feed '${text.includes(':') ? text : text + ':default'}'` });
        });
      }
    });
  }
  // A streamer behind a porter: the porter must be in its flow, on its worker, and each path
  // it mounts (an hls-streamer: its playlist and the prefix of its segments) its own there.
  for (const g of groups) {
    const mounted = new Map<string, string>(); // porter name + ' ' + path → who mounts it
    g.components.forEach((c, ci) => {
      const p = c.properties as Record<string, unknown>;
      const porter = p.porter;
      const declared = types.get(c.type)?.porterMounts;
      if ((c.type !== 'http-streamer' && c.type !== 'hls-streamer' && !declared) || typeof porter !== 'string') return;
      const where = formatPath([...g.prefix, 'components', ci, 'properties', 'porter']);
      const target = g.components.find((x) => x.name === porter);
      const code = PROTOCOL_ERROR_CODES.PLANET_BAD_PORTER;
      if (!target || target.type !== 'porter') issues.push({ path: where, code, message: `no porter '${porter}' in flow ${g.flow}` });
      else if (target.worker !== c.worker) issues.push({ path: where, code, message: `porter '${porter}' runs on ${target.worker}, not on ${c.worker} with this streamer` });
      else if ((target.properties as Record<string, unknown>)['tls-cert-file'] && Number(p.processes ?? 1) > 1) {
        issues.push({ path: where, code, message: `porter '${porter}' speaks HTTPS: its streamers need processes: 1 (a TLS session cannot move to another process)` });
      }
      const own = declared?.(p);
      const mount = p['mount-point'];
      if (!own && typeof mount !== 'string') return;
      const paths = own ? own.paths : c.type === 'hls-streamer' ? [mount as string, `${(mount as string).replace(/\.m3u8$/, '')}/`] : [mount as string];
      for (const path of paths) {
        const other = mounted.get(`${porter} ${path}`);
        if (other) {
          issues.push({ path: formatPath([...g.prefix, 'components', ci, 'properties', own?.property ?? 'mount-point']), code: PROTOCOL_ERROR_CODES.PLANET_MOUNT_CLASH, message: `porter '${porter}' already has ${path} mounted by ${other}` });
          break;
        }
        mounted.set(`${porter} ${path}`, `/${g.flow}/${c.name} (${c.type})`);
      }
    });
  }
  issues.push(...portClashes(planet, checked, options));
  issues.push(...fallbackIssues(planet, checked));
  return { planet: issues.length ? null : planet, issues };
}
