// What a component type declares: its property schema (zod, kebab-case names as in planet
// files), its eaters and feeders, the sockets it listens on, and how to create an instance. The
// planet checker and the worker use the same declaration, so a config that passes `check` is
// one the worker can run.

import { z } from 'zod';
import { Component } from '../component/component';

/** A socket a component binds, as its properties say (for `fluxcast check`'s clash rules). */
export interface ListenSocket {
  /** TCP and UDP ports are separate spaces: an SRT listener (UDP) never clashes with an HTTP port. */
  protocol: 'tcp' | 'udp';
  host: string;
  /** 0 = any free port (never clashes). */
  port: number;
  /** The property that sets the port (the path `check` reports), e.g. `port`. */
  property: string;
}

/** What tells a port-sharing component's clients apart (see ComponentType.shareRoute). */
export interface ShareRoute {
  /** Compared between the sharers of a port; may hold a secret (never printed). */
  route: string;
  /** What it is made of, for messages: `app and stream key`. */
  what: string;
  /** The property a clash is reported at: `stream-key`. */
  property: string;
}

export interface ComponentType<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly description: string;
  readonly properties: S;
  /** Eater names; a producer has none. */
  readonly eaters: readonly string[];
  /** Each eater may be left without feeds, as long as one has some (a WHEP streamer of video, audio or both). */
  readonly optionalEaters?: boolean;
  /** Feeder names; a consumer has none. */
  readonly feeders: readonly string[];
  /**
   * The sockets it binds, from its checked properties (a streamer behind a porter binds none).
   * Without it, a numeric `port` property (with `host`, default 127.0.0.1) counts as one TCP
   * socket: a type with a port is never left out of the clash check by accident.
   */
  listens?(properties: z.infer<S>): ListenSocket[];
  /**
   * Several components of this type on one worker may listen on one port (the same address) and
   * tell their clients apart themselves (e.g. RTMP stream keys): `check` lets them share it, and
   * only them.
   */
  readonly sharesPort?: boolean;
  /**
   * With sharesPort: what tells this component's clients from the others' on a shared port (an
   * RTMP app and stream key). Two sharers with the same route clash (FLUX_PLANET_ROUTE_CLASH).
   * It may hold secrets: `check` compares it, never prints it.
   */
  shareRoute?(properties: z.infer<S>): ShareRoute;
  /**
   * Every GStreamer element an instance may run, in any configuration (decoders that decodebin
   * picks included); empty for pure TypeScript types. Each needs an entry in gst-packages.json:
   * the tests check that all of them exist here, naming the Debian package of any that does not.
   */
  readonly gstElements: readonly string[];
  /**
   * Behind a porter (`porter` property): the paths it mounts there and the property that names
   * them (for `check`'s mount clashes). Without it, http-streamer and hls-streamer rules apply.
   */
  porterMounts?(properties: z.infer<S>): { property: string; paths: string[] };
  /** Its instances have listeners of their own to list and kick (an http-streamer). */
  readonly listeners?: boolean;
  create(name: string, properties: z.infer<S>): Component<z.infer<S>>;
}

export function defineComponentType<S extends z.ZodType>(t: ComponentType<S>): ComponentType<S> {
  return t;
}

/** The sockets a component of type `t` binds with these (checked) properties. */
export function listenSockets(t: ComponentType, properties: Record<string, unknown>): ListenSocket[] {
  if (t.listens) return t.listens(properties);
  const { host, port } = properties;
  return typeof port === 'number' ? [{ protocol: 'tcp', host: typeof host === 'string' ? host : '127.0.0.1', port, property: 'port' }] : [];
}

/** One TCP socket on the `host` and `port` properties. */
export function tcpOnHostPort(p: { host: string; port: number }): ListenSocket[] {
  return [{ protocol: 'tcp', host: p.host, port: p.port, property: 'port' }];
}
