// Properties every component type accepts beside its own (`check-interval`), validated here for
// all of them: the planet checker, `fluxcast launch` and the worker parse a component's
// properties through parseProperties, so a type's own schema never has to list them. Pure.

import { z } from 'zod';
import { ComponentType } from './component-type';

export const commonPropertiesSchema = z
  .object({
    /** ms: this component's eaters' check interval, overriding the worker's --check-interval. */
    'check-interval': z.number().int().min(100).max(600000).optional(),
  })
  .strict();
export type CommonProperties = z.infer<typeof commonPropertiesSchema>;

const COMMON_KEYS = new Set(Object.keys(commonPropertiesSchema.shape));

export type ParsedProperties =
  | { success: true; /** own and common, defaults filled in (what a planet keeps) */ data: Record<string, unknown>; /** the type's own, for create() */ own: unknown; common: CommonProperties }
  | { success: false; error: z.ZodError };

/** Parses a component's properties: the common ones here, the rest by its type's schema; every issue at once. */
export function parseProperties(t: ComponentType, raw: unknown): ParsedProperties {
  const input = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : raw;
  let own: unknown = input;
  const common: Record<string, unknown> = {};
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) (COMMON_KEYS.has(k) ? common : rest)[k] = v;
    own = rest;
  }
  const o = t.properties.safeParse(own);
  const c = commonPropertiesSchema.safeParse(common);
  if (!o.success || !c.success) return { success: false, error: new z.ZodError([...(o.success ? [] : o.error.issues), ...(c.success ? [] : c.error.issues)]) };
  const data = { ...(o.data as Record<string, unknown>), ...c.data };
  return { success: true, data, own: o.data, common: c.data };
}

/** A spec's `check-interval` when it sets a valid one (the worker's applies otherwise). */
export function checkIntervalOf(properties: Record<string, unknown>): number | undefined {
  const r = commonPropertiesSchema.shape['check-interval'].safeParse(properties['check-interval']);
  return r.success ? r.data : undefined;
}
