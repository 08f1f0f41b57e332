// The secret of a remote feed (another planet's feed, eaten by a relay): given inline, or read
// by the manager from `secret-file` (the planet is the manager's file; workers get the secret
// with the eat-from order, over their authenticated link). `check` reads it the same way.

import * as fs from 'fs';
import { FeedRef } from '../../protocol/planet';

export const MIN_REMOTE_SECRET = 16;

/** The secret, or an error message saying why there is none to use. */
export function readRemoteSecret(ref: FeedRef): { secret: string } | { error: string } {
  if (typeof ref === 'string' || !ref.remote) return { error: 'not a remote feed' };
  if (ref.secret) return { secret: ref.secret };
  const file = ref['secret-file'] as string;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    return { error: `cannot read secret-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (text.length < MIN_REMOTE_SECRET) return { error: `the secret in ${file} is shorter than ${MIN_REMOTE_SECRET} characters` };
  return { secret: text };
}

/** The secret of a remote feed `check` accepted. */
export function remoteFeedSecret(ref: FeedRef): string {
  const r = readRemoteSecret(ref);
  if ('error' in r) throw new Error(r.error);
  return r.secret;
}
