/** Where a bearer token can come from on each transport. */

/** `Authorization: Bearer …`, else `?token=` (EventSource can't set headers). */
export function tokenFromRequest(headers: { get(name: string): string | null }, url: string): string | null {
  const header = headers.get('authorization');
  if (header) return bearer(header);
  return new URL(url, 'http://localhost').searchParams.get('token');
}

/** graphql-ws: the `connection_init` payload's `authorization`, else `?token=` on the upgrade URL. */
export function tokenFromConnection(params: Readonly<Record<string, unknown>> | undefined, upgradeUrl: string | undefined): string | null {
  const value = params?.authorization ?? params?.Authorization;
  if (typeof value === 'string' && value) return bearer(value);
  return upgradeUrl ? new URL(upgradeUrl, 'http://localhost').searchParams.get('token') : null;
}

function bearer(value: string): string {
  return value.replace(/^Bearer\s+/i, '').trim();
}
