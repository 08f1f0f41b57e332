// `fluxcast status --tree`: the live supervision trees, one actor per line, drawn from what
// each supervisor reports of its children (the manager's own tree, and under each connected
// worker's avatar that worker process's tree from its last report). Every level is shown,
// component avatars included; an actor that is backing off or stopped is marked so, with its
// last crash. Lines carry what the status knows of the actor: moods, feed states, listeners.

import { StatusJson } from '../protocol/status';
import { WireTreeNode } from '../protocol/wire';

interface Node {
  label: string;
  children: Node[];
}

const mark = (t: WireTreeNode) => `${t.state === 'running' ? '' : ` [${t.state}${t.lastCrash ? `: ${t.lastCrash.reason}` : ''}]`} restarts=${t.restarts}${t.dropped ? ` dropped=${t.dropped}` : ''}`;

/**
 * A worker process's own tree, labelled from the status: root → components → /flow/name →
 * feeders (→ feeder NAME → push HOST:PORT), core, eaters (→ FEED); worker; link.
 */
function workerTree(t: WireTreeNode, s: StatusJson, worker: string): Node {
  const comps = new Map(s.components.filter((c) => c.worker === worker).map((c) => [c.id, c]));
  const label = (n: WireTreeNode, path: string[]): string => {
    const c = path[1] ? comps.get(path[1]) : undefined;
    if (path.length === 1 && path[0] === 'components') return `${n.id} ${comps.get(n.id)?.mood ?? ''}`.trimEnd();
    if (c && path.length === 2 && n.id === 'core') return `core ${c.type}`;
    if (c && path.length === 3 && path[2] === 'feeders') {
      const f = c.feeders.find((x) => `feeder ${x.name}` === n.id);
      return f ? `${n.id} clients=${f.clients}` : n.id;
    }
    if (c && path.length === 3 && path[2] === 'eaters') {
      for (const e of c.eaters) {
        const f = e.feeds.find((x) => x.feedId === n.id);
        if (f) return `eater ${e.name} ${f.mode === 'feed-to' ? '⇐' : '←'} ${n.id} ${f.state}`;
      }
    }
    return n.id;
  };
  const walk = (n: WireTreeNode, path: string[]): Node => ({ label: `${label(n, path)}${mark(n)}`, children: n.children.map((ch) => walk(ch, [...path, n.id])) });
  return { label: `process (worker ${worker}'s own tree)${mark(t)}`, children: t.children.map((ch) => walk(ch, [])) };
}

export function statusTree(s: StatusJson): Node {
  const m = s.manager.tree;
  const comps = new Map(s.components.map((c) => [c.id, c]));
  const workers = new Map(s.workers.map((w) => [w.name, w]));
  const walk = (n: WireTreeNode): Node => {
    let label = n.id;
    const children = n.children.map(walk);
    if (n.id === 'planet') label = `planet ${s.planet}`;
    else if (n.id.startsWith('worker ') && workers.has(n.id.slice(7))) {
      const w = workers.get(n.id.slice(7))!;
      label = `worker ${w.name} ${w.state}${w.state === 'connected' ? ` pid=${w.pid ?? '?'} host=${w.host ?? '?'} feed-port=${w.feedPort ?? '?'}` : ''}`;
      if (w.tree) children.push(workerTree(w.tree, s, w.name));
    } else if (comps.has(n.id)) label = `${n.id} ${comps.get(n.id)!.mood}`;
    return { label: `${label}${mark(n)}`, children };
  };
  const up = s.manager.upRestarts !== undefined ? ` up-restarts=${s.manager.upRestarts}` : '';
  return { label: `manager process${up}`, children: m ? [walk(m)] : [] };
}

/** Draws a tree with box-drawing characters, one node per line. */
export function drawTree(root: Node): string {
  const lines: string[] = [root.label];
  const walk = (n: Node, prefix: string) => {
    n.children.forEach((c, i) => {
      const last = i === n.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${c.label}`);
      walk(c, prefix + (last ? '   ' : '│  '));
    });
  };
  walk(root, '');
  return lines.join('\n') + '\n';
}
