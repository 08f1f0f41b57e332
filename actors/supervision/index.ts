// OTP supervision on nact, in one small module: child specs as data, strategies, intensity per
// supervisor, escalation to the process root, teardown on every exit, bounded mailboxes.
export * from './spec';
export { SUPERVISION_ERROR_CODES, UnknownMessageError } from './errors';
export { RestartWindow } from './intensity';
export * from './flags';
export { readView, viewOf } from './views';
export { actorName } from './names';
export { Node } from './node';
export type { RuntimeHooks } from './node';
export { startRoot } from './root';
export type { Root, RootOptions } from './root';
