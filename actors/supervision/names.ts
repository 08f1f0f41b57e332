// Actor names: nact allows only [a-z0-9-$_.+!*'(),] in a name, ids are free text.

/** A valid nact actor name for any text. */
export function actorName(text: string): string {
  return encodeURIComponent(text).replace(/~/g, '%7E').replace(/%/g, '$');
}
