// Every component type fluxcast knows, by type name.
import { ComponentType } from './component-type';
import { httpStreamerType } from './http-streamer';
import { diskConsumerType } from './disk-consumer';

export const COMPONENT_TYPES: ReadonlyMap<string, ComponentType> = new Map<string, ComponentType>(
  [httpStreamerType, diskConsumerType].map((t) => [t.type, t as unknown as ComponentType]),
);
