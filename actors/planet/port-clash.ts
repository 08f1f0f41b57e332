// Port clashes in a planet: every socket the planet binds (the manager's port, the workers'
// pinned feed ports, each component's listening sockets as its type declares them) and the
// pairs that cannot both be bound. It does not check anything else (check.ts does).
//
// Two sockets clash when all of these hold:
//   1. the same protocol (TCP and UDP are separate port spaces: SRT's UDP never meets HTTP);
//   2. the same port, not 0 (0 = any free port, never a clash);
//   3. overlapping addresses: the same one, or either is 0.0.0.0 / :: (every interface); a
//      worker's feed server counts as every interface (its --feed-host is not in the planet);
//   4. not two components of one type that declares `sharesPort`, on one worker and the same
//      address (one server there takes both; they tell their clients apart); two such sharers
//      whose `shareRoute` is the same would take the same clients: FLUX_PLANET_ROUTE_CLASH;
//   5. the same machine, as far as the planet lets us know it:
//      - the same worker (always: a worker is one process on one machine);
//      - every worker on one machine (`fluxcast up`, `check --one-host`), or the machines the
//        workers logged in from (a reload: the manager knows them);
//      - both bind the same specific, non-loopback address (an address is one machine's);
//      - the manager against a worker's loopback or wildcard socket when the manager listens on
//        loopback: it is reachable from its own machine only, so its workers run there.
//   Components of two workers are not taken to share a machine otherwise: planets spread over
//   machines commonly use one port everywhere (8800 on every streaming host). The manager's rule
//   is the exception because its one port costs nothing to avoid, and a tunnelled or proxied
//   loopback manager is rare.
// A streamer behind a porter binds no socket of its own; its mount clashes are check.ts's.

import { PlanetConfig, formatPath } from '../../protocol/planet';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { isLoopbackHost, isWildcardHost } from '../../protocol/listener-urls';
import { ComponentType, ShareRoute, listenSockets } from '../components/component-type';
import type { PlanetIssue } from './check';

/** What is known about where the workers run, beyond the planet. */
export interface MachineHints {
  /** Every worker and the manager run on one machine (`fluxcast up`). */
  oneMachine?: boolean;
  /** The machine of each place (a worker name, or MANAGER_PLACE), where known (a reload: the hosts workers logged in from). */
  machines?: ReadonlyMap<string, string>;
}

/** The manager's place (worker names cannot look like this). */
export const MANAGER_PLACE = '(manager)';

/** A component of the planet whose properties passed its type's schema. */
export interface CheckedComponent {
  id: string;
  worker: string;
  type: ComponentType;
  properties: Record<string, unknown>;
  /** Its path in the planet: flows[0].components[3]. */
  at: (string | number)[];
}

interface Bound {
  /** Who binds it, as the message names it. */
  owner: string;
  /** A worker name, or MANAGER_PLACE. */
  place: string;
  protocol: 'tcp' | 'udp';
  /** null: not in the planet (a feed server's --feed-host), taken as every interface. */
  host: string | null;
  port: number;
  path: string;
  /** The component type that may share its port with its own kind (sharesPort). */
  sharingType?: string;
  /** What tells its clients apart on a shared port (shareRoute), and where a clash is reported. */
  route?: ShareRoute & { path: string };
}

function proto(b: Bound): string {
  return b.protocol === 'udp' ? 'UDP port' : 'port';
}

function norm(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function overlap(a: string | null, b: string | null): boolean {
  if (a === null || b === null || isWildcardHost(a) || isWildcardHost(b)) return true;
  const x = norm(a);
  const y = norm(b);
  if (x === y) return true;
  // `localhost` is 127.0.0.1 and ::1.
  return (x === 'localhost' && isLoopbackHost(y)) || (y === 'localhost' && isLoopbackHost(x));
}

/** Why `a` and `b` are on one machine, '' for the same place, or null when the planet does not say they are. */
function sameMachine(a: Bound, b: Bound, managerHost: string, hints: MachineHints): string | null {
  if (a.place === b.place) return '';
  if (hints.oneMachine) return 'every worker runs on this machine';
  const ma = hints.machines?.get(a.place);
  if (ma !== undefined && ma === hints.machines?.get(b.place)) return `both on ${ma}`;
  if (a.host !== null && b.host !== null && !isWildcardHost(a.host) && !isLoopbackHost(a.host) && norm(a.host) === norm(b.host)) return `both bind ${a.host}`;
  const other = a.place === MANAGER_PLACE ? b : b.place === MANAGER_PLACE ? a : null;
  if (other && isLoopbackHost(managerHost) && (other.host === null || isWildcardHost(other.host) || isLoopbackHost(other.host))) {
    return 'a manager on loopback is reached from its own machine only, so its workers run there';
  }
  return null;
}

/** Every socket the planet binds, in planet order: the manager, pinned feed ports, components. */
function boundSockets(planet: PlanetConfig, components: readonly CheckedComponent[]): Bound[] {
  const out: Bound[] = [{ owner: `the manager on ${planet.manager.host}:${planet.manager.port}`, place: MANAGER_PLACE, protocol: 'tcp', host: planet.manager.host, port: planet.manager.port, path: 'manager.port' }];
  planet.workers.forEach((w, i) => {
    const port = w['feed-port'];
    if (port !== undefined) out.push({ owner: `the feed server of ${w.name}`, place: w.name, protocol: 'tcp', host: null, port, path: formatPath(['workers', i, 'feed-port']) });
  });
  for (const c of components) {
    const shared = c.type.sharesPort ? c.type.shareRoute?.(c.properties) : undefined;
    const route = shared ? { ...shared, path: formatPath([...c.at, 'properties', shared.property]) } : undefined;
    for (const s of listenSockets(c.type, c.properties)) {
      out.push({ owner: `${c.id} (${c.type.type})`, place: c.worker, protocol: s.protocol, host: s.host, port: s.port, path: formatPath([...c.at, 'properties', s.property]), sharingType: c.type.sharesPort ? c.type.type : undefined, route });
    }
  }
  return out;
}

/** One issue per socket that clashes with an earlier one (the first it clashes with), coded FLUX_PLANET_PORT_CLASH. */
export function portClashes(planet: PlanetConfig, components: readonly CheckedComponent[], hints: MachineHints = {}): PlanetIssue[] {
  // Only sockets of one protocol and port can clash: compare within those groups, in planet order.
  const earlier = new Map<string, Bound[]>();
  const issues: PlanetIssue[] = [];
  for (const b of boundSockets(planet, components)) {
    if (b.port === 0) continue;
    const key = `${b.protocol} ${b.port}`;
    const group = earlier.get(key) ?? [];
    earlier.set(key, group);
    for (const a of group) {
      if (!overlap(a.host, b.host)) continue;
      if (a.sharingType && a.sharingType === b.sharingType && a.place === b.place && a.host !== null && b.host !== null && norm(a.host) === norm(b.host)) {
        if (a.route && b.route && a.route.route === b.route.route) {
          issues.push({ path: b.route.path, code: PROTOCOL_ERROR_CODES.PLANET_ROUTE_CLASH, message: `${b.owner} shares ${proto(b)} ${b.port} on ${b.place} with ${a.owner} and has the same ${b.route.what}: their clients could not be told apart` });
          break;
        }
        continue;
      }
      const why = sameMachine(a, b, planet.manager.host, hints);
      if (why === null) continue;
      const where = a.place === b.place || a.place === MANAGER_PLACE ? '' : ` on ${a.place}`;
      issues.push({ path: b.path, code: PROTOCOL_ERROR_CODES.PLANET_PORT_CLASH, message: `${proto(b)} ${b.port} on ${b.place} is also used by ${a.owner}${where}${why ? ` (${why})` : ''}` });
      break;
    }
    group.push(b);
  }
  return issues;
}
