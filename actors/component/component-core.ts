// A component's core: the actor that owns the Component instance (its media work, its child
// process, its mood and messages), a child of the component's supervisor between its feeders
// and its eaters. Lifecycle, in the manner of gstelement.h:
//   init:   the component is created from its spec (sleeping; invalid properties: sad at
//           once, for good) and plugged into the port; it asks itself to start.
//   start:  component.start() (waking → setup). Setup that fails for a reason a restart may
//           cure (a port in use) is a crash, for the supervisor's backoff and intensity; a
//           PermanentError leaves it sad with no restart. Once set up it tells its supervisor,
//           which opens the eaters.
//   feed news (from the eaters): feedConnected / feedDisconnected, which the component's
//           hooks turn into happy / hungry (or a watchdog's switch).
//   a crash of the component (its child died, its data path threw): this incarnation ends;
//           the supervisor restarts it (and the eaters after it), the feeders stay.
//   end (any reason): unplugged, component.stop() (EOS to its child, then SIGKILL).

import { ComponentSpec, ListenersResult } from '../../protocol/wire';
import { ListenersQuestion, answerListeners } from '../worker/listeners';
import { PROTOCOL_ERROR_CODES } from '../../protocol/errors';
import { COMPONENT_TYPES } from '../components/registry';
import { parseProperties } from '../components/common-properties';
import { LogFn, messageLevel } from '../log';
import { ActorDef, ChildSpec, Ctx, UnknownMessageError } from '../supervision';
import { Component, ComponentDetails } from './component';
import { ComponentPort, FeedNews } from './component-port';
import { taskSpec } from './component-tasks';
import { ComponentMessage, Mood } from './mood';

export interface CoreArgs {
  spec: ComponentSpec;
  port: ComponentPort;
  log?: LogFn;
  /** The worker's advertised address: listeners reach sockets bound on every interface there. */
  advertiseHost?: string;
}

export type CoreMsg = { type: 'start' } | FeedNews | { type: 'listeners'; q: ListenersQuestion; reply: (r: ListenersResult) => void };

/** What the core publishes: the component as status shows it. */
export interface CoreView {
  kind: 'core';
  mood: Mood;
  messages: ComponentMessage[];
  details: ComponentDetails | undefined;
  /** Setup failed for good (bad properties, a missing plugin). */
  permanent: boolean;
}

/** Creates the component of a spec (sleeping); invalid properties make it sad at once. */
export function createComponent(spec: ComponentSpec, advertiseHost?: string): Component {
  const t = COMPONENT_TYPES.get(spec.type);
  if (!t) throw new Error(`unknown component type '${spec.type}'`);
  const props = parseProperties(t, spec.properties);
  const c = t.create(spec.id.split('/')[2], props.success ? props.own : {}) as Component;
  c.flow = spec.id.split('/')[1];
  if (advertiseHost) c.advertiseHost = advertiseHost;
  if (!props.success) {
    c.failedPermanently = true;
    c.fail(`invalid properties: ${props.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return c;
}

const view = (c: Component): CoreView => ({ kind: 'core', mood: c.mood, messages: c.messages.slice(-20), details: c.details(), permanent: c.failedPermanently });

export function coreDef(a: CoreArgs): ActorDef<Component, CoreMsg> {
  return {
    // Its children are its component's tasks, each under a supervisor of its own: one that gives up crashes the core.
    flags: { intensity: 0 },
    init(ctx: Ctx<CoreMsg>) {
      const c = createComponent(a.spec, a.advertiseHost);
      c.taskHost = { start: (spec) => void ctx.startChild(taskSpec(spec) as ChildSpec), stop: (id) => ctx.deleteChild(`task ${id}`) };
      const publish = () => ctx.setInfo({ kind: 'core', read: () => view(c) });
      c.on('mood', publish);
      // One call makes a message: what status shows, and the log line, with the component's id.
      c.on('message', (m) => {
        a.log?.(m.text, messageLevel(m.level), { component: a.spec.id });
        publish();
      });
      c.on('crash', (error) => ctx.crash(error));
      for (const f of a.spec.feeders) c.connectOutput(f, (frame) => a.port.output(f, frame));
      c.feedFlow = (feed) => a.port.flow(feed);
      c.connectUpstream((eater) => a.port.requestKeyUnit(eater));
      for (const [eater, feeds] of Object.entries(a.spec.eaters)) for (const feed of feeds) c.addFeed(eater, feed);
      a.port.plugCore(c, (e) => ctx.crash(e));
      ctx.defer(async () => {
        a.port.unplugCore(c);
        await c.stop();
      });
      publish();
      if (!c.failedPermanently) ctx.tell({ type: 'start' });
      return c;
    },
    async receive(c, msg, ctx) {
      switch (msg.type) {
        case 'start': {
          if (c.mood !== 'sleeping') return c;
          await c.start();
          if (!ctx.alive()) return c;
          const mood = c.mood as Mood; // start() moved it on
          if (mood === 'sad' && !c.failedPermanently) {
            // Setup failed (a port in use, a device away...): a crash, for the supervisor to retry.
            throw new Error(c.messages[c.messages.length - 1]?.text ?? 'setup failed');
          }
          if (mood === 'sad') return c;
          a.port.ready = true;
          a.port.coreReady();
          return c;
        }
        case 'feed-up':
          c.feedConnected(msg.eater, msg.feed);
          return c;
        case 'feed-down': {
          const wasUp = c.eaters.get(msg.eater)?.feeds.get(msg.feed)?.connected ?? false;
          c.feedDisconnected(msg.eater, msg.feed);
          if (!msg.note) return c;
          // An upstream that is not there yet (it is starting, its worker is logging in) is no alarm.
          if (!wasUp && (msg.code === PROTOCOL_ERROR_CODES.FEED_UNKNOWN_FEED || msg.code === PROTOCOL_ERROR_CODES.FEED_REFUSED)) c.addMessage('info', `feed ${msg.feed}: waiting for the upstream (${msg.reason})`);
          else c.addMessage('warning', `feed ${msg.feed} disconnected: ${msg.reason}`);
          return c;
        }
        case 'listeners':
          // Answered when ready (sender processes may take a moment); the mailbox moves on.
          void answerListeners(c, a.spec.type, msg.q).then(msg.reply);
          return c;
        default:
          throw new UnknownMessageError(`component ${a.spec.id}`, msg);
      }
    },
  };
}

export const coreSpec = (a: CoreArgs): ChildSpec<CoreArgs> => ({ id: 'core', args: a, restart: 'permanent', shutdown: 10000, start: coreDef });
