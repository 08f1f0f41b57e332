// What a component type declares: its property schema (zod, kebab-case names as in planet
// files), its eaters and feeders, and how to create an instance. The planet checker and the
// worker use the same declaration, so a config that passes `check` is one the worker can run.

import { z } from 'zod';
import { Component } from '../component/component';

export interface ComponentType<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly description: string;
  readonly properties: S;
  /** Eater names; a producer has none. */
  readonly eaters: readonly string[];
  /** Feeder names; a consumer has none. */
  readonly feeders: readonly string[];
  /** Its instances have listeners of their own to list and kick (an http-streamer). */
  readonly listeners?: boolean;
  create(name: string, properties: z.infer<S>): Component<z.infer<S>>;
}

export function defineComponentType<S extends z.ZodType>(t: ComponentType<S>): ComponentType<S> {
  return t;
}
