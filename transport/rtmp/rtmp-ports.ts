// The RTMP servers of this process, one per host and port: every rtmp-producer on a port adds its
// route (app and stream key) to the one server there, the first one makes it listen, the last one
// to leave closes it. Port 0 ("any free port") is never shared. Two routes with one app and key
// on a port: the second is refused (FLUX_RTMP_ROUTE_TAKEN), whatever order they start in.

import { RtmpRoute, RtmpRouteOptions, RtmpServer } from './rtmp-server';

interface Shared {
  server: RtmpServer;
  ready: Promise<number>;
}

const servers = new Map<string, Shared>();
/** Servers still closing, by key: a new server on their port waits for them. */
const closing = new Map<string, Promise<void>>();

export interface AttachedRoute {
  /** The port bound (the one asked for, or the free one picked for 0). */
  readonly port: number;
  readonly server: RtmpServer;
  /** Removes the route; the last route of a server closes it (ending its connections). */
  detach(): Promise<void>;
}

function keyOf(host: string, port: number): string {
  return `${host.replace(/^\[(.*)\]$/, '$1').toLowerCase()} ${port}`;
}

/** Adds a route on host:port, listening there first if no route of this process does yet. */
export async function attachRtmpRoute(host: string, port: number, options: RtmpRouteOptions): Promise<AttachedRoute> {
  const key = keyOf(host, port);
  let shared = port === 0 ? undefined : servers.get(key);
  if (!shared) {
    const server = new RtmpServer(host, port);
    const before = closing.get(key);
    const ready = (async () => {
      await before;
      return server.listen();
    })();
    shared = { server, ready };
    if (port !== 0) servers.set(key, shared);
  }
  const { server } = shared;
  const route: RtmpRoute = server.addRoute(options);
  let bound: number;
  try {
    bound = await shared.ready;
  } catch (e) {
    server.removeRoute(route);
    if (servers.get(key) === shared) servers.delete(key);
    throw e;
  }
  let detached = false;
  return {
    port: bound,
    server,
    detach: async () => {
      if (detached) return;
      detached = true;
      server.removeRoute(route);
      if (server.routeCount > 0) return;
      if (servers.get(key) === shared) servers.delete(key);
      const done = server.close();
      if (port !== 0) {
        closing.set(key, done);
        void done.then(() => {
          if (closing.get(key) === done) closing.delete(key);
        });
      }
      await done;
    },
  };
}
