// `fluxcast status --tree`: the live supervision trees drawn from the status JSON, one actor per
// line with its state and supervised restarts: the manager's (manager, planet, worker and
// component avatars) and, under each connected worker, that worker process's own (link,
// component actors with their feeder, push and eater actors).

import { StatusJson } from '../actors/manager/status';

interface Node {
  label: string;
  children: Node[];
}

const restarts = (n: number) => `restarts=${n}`;

export function statusTree(s: StatusJson): Node {
  const workers: Node[] = s.workers.map((w) => {
    const placed = s.components.filter((c) => c.worker === w.name);
    const components: Node[] = placed.map((c) => ({
      label: `${c.id} ${c.mood} ${restarts(c.restarts)}`,
      children: [
        ...c.feeders.map((f) => ({
          label: `feeder ${f.name} ${f.state} clients=${f.clients} ${restarts(f.restarts)}`,
          children: f.pushes.map((p) => ({ label: `push → ${p.target} ${p.state} ${restarts(p.restarts)}`, children: [] })),
        })),
        ...c.eaters.flatMap((e) => e.feeds.map((f) => ({ label: `eater ${e.name} ${f.mode === 'feed-to' ? '⇐' : '←'} ${f.feedId} ${f.state} ${restarts(f.restarts)}`, children: [] }))),
      ],
    }));
    const where = w.state === 'connected' ? ` pid=${w.pid ?? '?'} host=${w.host ?? '?'} feed-port=${w.feedPort ?? '?'}` : '';
    const proc: Node[] = w.process ? [{ label: `process worker ${restarts(w.process.restarts)} ─ link ${restarts(w.process.linkRestarts)}`, children: [] }] : [];
    return { label: `worker ${w.name} ${w.state}${where} ${restarts(w.restarts)}`, children: [...proc, ...components] };
  });
  return {
    label: `manager ${restarts(s.manager.restarts)}`,
    children: [{ label: `planet ${s.planet} ${restarts(s.manager.planetRestarts)}`, children: workers }],
  };
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
