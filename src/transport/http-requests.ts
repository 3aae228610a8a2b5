/** Reading GraphQL requests off plain HTTP, and answering refusals, for the stream handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationRequest } from './operations.ts';

/** A Node request's headers as a `get(name)` lookup, as the token readers take them. */
export function headersOf(req: IncomingMessage): { get(name: string): string | null } {
  return { get: (name) => (req.headers[name] as string | undefined) ?? null };
}

/** Answers `status` with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** Answers `status` with one GraphQL-shaped error carrying `code`. */
export function refuse(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, ...extra } }] });
}

/** Reads a JSON body of at most `maxBytes`; null when it is too large or not JSON. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return null;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

/** The operation in a request (GET parameters or a POST body); null when it has no query. */
export function operationOf(source: unknown): OperationRequest | null {
  if (typeof source !== 'object' || source === null) return null;
  const { query, operationName, variables, extensions } = source as Record<string, unknown>;
  if (typeof query !== 'string' || !query) return null;
  const object = (value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null);
  return { query, operationName: typeof operationName === 'string' ? operationName : null, variables: object(variables), extensions: object(extensions) };
}

/** The operation in a GET request's parameters; null when it has no query. */
export function operationFromUrl(url: URL): OperationRequest | null {
  const json = (name: string) => {
    const raw = url.searchParams.get(name);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  };
  return operationOf({ query: url.searchParams.get('query'), operationName: url.searchParams.get('operationName'), variables: json('variables'), extensions: json('extensions') });
}
