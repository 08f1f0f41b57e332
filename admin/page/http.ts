// The web admin's calls to the manager's API: JSON in and out, the session cookie sent, the
// CSRF token on everything but GET. An answer that is not JSON reads as null.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field
export type Json = any;

let csrf: string | null = null;

export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function api(method: string, path: string, body?: string): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const r = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  const json: Json = await r.json().catch(() => null);
  return { status: r.status, json };
}

/** "CODE: message" of a refusal (or the status when the answer says nothing). */
export function refusal(r: { status: number; json: Json }): string {
  return r.json?.error ? `${r.json.error.code}: ${r.json.error.message}` : `refused (HTTP ${r.status})`;
}

/** The API path of a component: /api/v1/components/{flow}/{name}. */
export function componentPath(id: string): string {
  const [, flow, name] = id.split('/');
  return `/api/v1/components/${encodeURIComponent(flow)}/${encodeURIComponent(name)}`;
}
