// `fluxcast launch DESCRIPTION`: components wired directly in one process, without a manager
// or workers (like flumotion-launch). Checks types and properties first (errors name the
// column), starts consumers before producers, prints what runs and the URLs; Ctrl-C stops all.

import { FluxError } from '../protocol/errors';
import { LAUNCH_ERROR_CODE, LaunchGraph, parseLaunch } from '../protocol/launch-syntax';
import { COMPONENT_TYPES } from '../actors/components/registry';
import { Component } from '../actors/component/component';
import { HttpStreamer } from '../actors/components/http-streamer';

export interface Launched {
  components: Map<string, Component>;
  stop(): Promise<void>;
}

/** Validates the graph against the component types and creates the wired components. */
export function buildLaunch(graph: LaunchGraph): Map<string, Component> {
  const made = new Map<string, Component>();
  for (const c of graph.components) {
    const t = COMPONENT_TYPES.get(c.type);
    if (!t) throw new FluxError(LAUNCH_ERROR_CODE, `unknown component type '${c.type}' (column ${c.column}); known: ${[...COMPONENT_TYPES.keys()].sort().join(', ')}`);
    const parsed = t.properties.safeParse(c.properties);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = String(issue.path[0] ?? (issue as { keys?: string[] }).keys?.[0] ?? '');
      const column = c.propertyColumns[key] ?? c.column;
      throw new FluxError(LAUNCH_ERROR_CODE, `${c.name}: ${key ? `property '${key}': ` : ''}${issue.message} (column ${column})`);
    }
    made.set(c.name, t.create(c.name, parsed.data) as Component);
  }
  for (const l of graph.links) {
    const from = graph.components.find((c) => c.name === l.from.component)!;
    const to = graph.components.find((c) => c.name === l.to.component)!;
    const ft = COMPONENT_TYPES.get(from.type)!;
    const tt = COMPONENT_TYPES.get(to.type)!;
    if (!ft.feeders.includes(l.from.feeder)) throw new FluxError(LAUNCH_ERROR_CODE, `${from.name} (${from.type}) has no feeder '${l.from.feeder}' (column ${l.column})`);
    if (!tt.eaters.includes(l.to.eater)) throw new FluxError(LAUNCH_ERROR_CODE, `${to.name} (${to.type}) has no eater '${l.to.eater}' (column ${l.column})`);
    const feed = `/launch/${from.name}:${l.from.feeder}`;
    const src = made.get(from.name)!;
    const dst = made.get(to.name)!;
    dst.addFeed(l.to.eater, feed);
    // Direct feeds: frames go from one component to the next by a function call.
    const previous = outputs.get(src)?.get(l.from.feeder) ?? [];
    const sinks = [...previous, (f: Parameters<Component['eat']>[2]) => dst.eat(l.to.eater, feed, f)];
    if (!outputs.has(src)) outputs.set(src, new Map());
    outputs.get(src)!.set(l.from.feeder, sinks);
    src.connectOutput(l.from.feeder, (f) => {
      for (const s of sinks) s(f);
    });
  }
  for (const c of graph.components) {
    const t = COMPONENT_TYPES.get(c.type)!;
    for (const eater of t.eaters) {
      if (!made.get(c.name)!.eaters.get(eater)?.feeds.size) throw new FluxError(LAUNCH_ERROR_CODE, `${c.name} (${c.type}): eater '${eater}' is not linked (column ${c.column})`);
    }
  }
  return made;
}

const outputs = new Map<Component, Map<string, Array<(f: Parameters<Component['eat']>[2]) => void>>>();

export async function startLaunch(description: string, print: (line: string) => void): Promise<Launched> {
  const graph = parseLaunch(description);
  const components = buildLaunch(graph);
  // Every feed inside launch is direct, so it is connected from the start.
  for (const c of components.values()) for (const [eater, e] of c.eaters) for (const feed of e.feeds.keys()) c.feedConnected(eater, feed);
  const order = [...components.values()].reverse(); // consumers first, producers last
  for (const c of order) {
    c.on('mood', (m) => print(`${c.name}: ${m}`));
    c.on('message', (m) => m.level !== 'info' && print(`${c.name}: ${m.level}: ${m.text}`));
    await c.start();
  }
  for (const c of components.values()) {
    print(`started ${c.name} (${graph.components.find((g) => g.name === c.name)?.type}): ${c.mood}`);
    if (c instanceof HttpStreamer) print(`  listen at ${c.url}`);
  }
  return {
    components,
    stop: async () => {
      for (const c of components.values()) await c.stop();
    },
  };
}
