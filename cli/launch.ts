// `fluxcast launch DESCRIPTION`: components wired in one process, without a manager (like
// flumotion-launch). It checks types, properties and links first (errors name the column),
// then runs a worker without a manager link: the same worker, component, eater and feeder
// actors under the same supervision policies as in a planet, with feeds over a feed server on
// 127.0.0.1 (a free port, a random secret). It prints moods as they change, each streamer's
// URLs (HTTP and HLS) once it is happy, and sad components with their reason; Ctrl-C stops everything.

import { randomBytes } from 'crypto';
import { FluxError } from '../protocol/errors';
import { LAUNCH_ERROR_CODE, LaunchGraph, parseLaunch } from '../protocol/launch-syntax';
import { ComponentSpec, ComponentState } from '../protocol/wire';
import { COMPONENT_TYPES } from '../actors/components/registry';
import { parseProperties } from '../actors/components/common-properties';
import { Worker } from '../actors/worker/worker';
import { LogFn } from '../actors/log';

export const LAUNCH_FLOW = 'launch';

/** Validates the graph against the component types; returns the specs, consumers first. */
export function launchSpecs(graph: LaunchGraph): ComponentSpec[] {
  const specs = new Map<string, ComponentSpec>();
  for (const c of graph.components) {
    const t = COMPONENT_TYPES.get(c.type);
    if (!t) throw new FluxError(LAUNCH_ERROR_CODE, `unknown component type '${c.type}' (column ${c.column}); known: ${[...COMPONENT_TYPES.keys()].sort().join(', ')}`);
    const parsed = parseProperties(t, c.properties);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = String(issue.path[0] ?? (issue as { keys?: string[] }).keys?.[0] ?? '');
      const column = c.propertyColumns[key] ?? c.column;
      throw new FluxError(LAUNCH_ERROR_CODE, `${c.name}: ${key ? `property '${key}': ` : ''}${issue.message} (column ${column})`);
    }
    specs.set(c.name, { id: `/${LAUNCH_FLOW}/${c.name}`, type: c.type, properties: c.properties, eaters: {}, pushed: [], feeders: [...t.feeders] });
  }
  for (const l of graph.links) {
    const from = graph.components.find((c) => c.name === l.from.component)!;
    const to = graph.components.find((c) => c.name === l.to.component)!;
    if (!COMPONENT_TYPES.get(from.type)!.feeders.includes(l.from.feeder)) throw new FluxError(LAUNCH_ERROR_CODE, `${from.name} (${from.type}) has no feeder '${l.from.feeder}' (column ${l.column})`);
    if (!COMPONENT_TYPES.get(to.type)!.eaters.includes(l.to.eater)) throw new FluxError(LAUNCH_ERROR_CODE, `${to.name} (${to.type}) has no eater '${l.to.eater}' (column ${l.column})`);
    const eaters = specs.get(to.name)!.eaters;
    (eaters[l.to.eater] ??= []).push(`/${LAUNCH_FLOW}/${from.name}:${l.from.feeder}`);
  }
  for (const c of graph.components) {
    for (const eater of COMPONENT_TYPES.get(c.type)!.eaters) {
      if (!specs.get(c.name)!.eaters[eater]?.length) throw new FluxError(LAUNCH_ERROR_CODE, `${c.name} (${c.type}): eater '${eater}' is not linked (column ${c.column})`);
    }
  }
  return [...specs.values()].reverse();
}

export interface Launched {
  worker: Worker;
  stop(): Promise<void>;
}

export async function startLaunch(description: string, print: (line: string) => void, log: LogFn = () => undefined): Promise<Launched> {
  const specs = launchSpecs(parseLaunch(description));
  const moods = new Map<string, string>();
  const announced = new Map<string, string>();
  const onReport = (states: ComponentState[]) => {
    for (const s of states) {
      const name = s.id.split('/')[2];
      if (moods.get(s.id) !== s.mood) {
        moods.set(s.id, s.mood);
        const last = s.messages[s.messages.length - 1];
        print(`${name}: ${s.mood}${s.mood === 'sad' && last ? ` (${last.text})` : ''}`);
      }
      // A streamer's URLs (details.urls, the primary first) once it is happy, again if they change.
      const urls = s.details?.urls ?? [];
      if (s.mood === 'happy' && urls.length && announced.get(s.id) !== urls.join(' ')) {
        announced.set(s.id, urls.join(' '));
        for (const u of urls) print(`  listen at ${u}`);
      }
    }
  };
  const worker = new Worker({
    name: 'launch',
    managerUrl: null,
    secret: randomBytes(24).toString('hex'),
    feedHost: '127.0.0.1',
    feedPort: 0,
    checkIntervalMs: 1500,
    log,
    onReport,
  });
  await worker.start();
  for (const spec of specs) {
    worker.command({ type: 'start', spec });
    print(`started ${spec.id.split('/')[2]} (${spec.type})`);
  }
  for (const spec of specs) {
    for (const [eater, feeds] of Object.entries(spec.eaters)) {
      for (const feed of feeds) worker.command({ type: 'eat-from', id: spec.id, eater, feed, host: '127.0.0.1', port: worker.feedPort });
    }
  }
  return { worker, stop: () => worker.shutdown() };
}
