// Comparing secrets without leaking their content through timing: both sides are hashed to
// fixed-length digests first, which timingSafeEqual then compares. Pure.

import { createHash, timingSafeEqual } from 'crypto';

/** True when the two strings are equal; takes the same time whatever they hold. */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}
