// What actors publish about themselves in the live tree (ctx.setInfo): `{ kind, read() }`, read
// by whoever reports (status, metrics) at the moment it reports. Reading never changes an actor.

import { TreeNode } from './spec';

/** What an actor published, read now, if it is of `kind`. */
export function readView<V>(published: unknown, kind: string): V | undefined {
  const info = published as { kind?: string; read?: () => V } | undefined;
  return info?.kind === kind && typeof info.read === 'function' ? info.read() : undefined;
}

/** The published view of a node of the live tree, if it is of `kind`. */
export const viewOf = <V>(n: TreeNode | undefined, kind: string): V | undefined => readView<V>(n?.info, kind);
