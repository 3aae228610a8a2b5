/** Reading GraphQL requests off plain HTTP, and answering refusals, for the stream handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode } from '../../domain/errors.ts';
import type { OperationRequest } from '../core/operations.ts';

/** A Node request's headers as a `get(name)` lookup, as the token readers take them. */
export function headersOf(req: IncomingMessage): { get(name: string): string | null } {
  return { get: (name) => (req.headers[name] as string | undefined) ?? null };
}

/** Answers `status` with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** Answers `error` alone: its code's HTTP status, and one GraphQL-shaped error carrying the code. */
export function refuse(res: ServerResponse, error: DomainError): void {
  sendJson(res, error.httpStatus, { errors: [{ message: error.message, extensions: { ...error.details, code: error.code } }] });
}

/** Reads a JSON body of at most `maxBytes`; a refusal when it is too large or not JSON. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `the body is larger than ${maxBytes} bytes`, { limit: maxBytes });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return new DomainError(ErrorCode.BAD_REQUEST, 'the body is not JSON');
  }
}

/** A JSON object, or null for null/absent; anything else is not an object. */
function objectOrNull(value: unknown, name: string): Record<string, unknown> | null | DomainError {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return new DomainError(ErrorCode.BAD_REQUEST, `${name} must be a JSON object`, { field: name });
}

/**
 * The operation in a request (a POST body, or GET parameters already decoded): a refusal
 * when it has no query or when `variables`, `extensions` or `operationName` are not of
 * their kind. Nothing is guessed: broken variables would otherwise run the operation
 * without the filters the client asked for.
 */
export function operationOf(source: unknown): OperationRequest | DomainError {
  if (source instanceof DomainError) return source;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return new DomainError(ErrorCode.BAD_REQUEST, 'the body must be a JSON object with a query');
  const { query, operationName, variables, extensions } = source as Record<string, unknown>;
  if (typeof query !== 'string' || !query) return new DomainError(ErrorCode.BAD_REQUEST, 'a GraphQL request with a query is required', { field: 'query' });
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return new DomainError(ErrorCode.BAD_REQUEST, 'operationName must be a string', { field: 'operationName' });
  const vars = objectOrNull(variables, 'variables');
  if (vars instanceof DomainError) return vars;
  const exts = objectOrNull(extensions, 'extensions');
  if (exts instanceof DomainError) return exts;
  return { query, operationName: typeof operationName === 'string' ? operationName : null, variables: vars, extensions: exts };
}

/** The operation in a GET request's parameters, each given at most once (see {@link operationOf}). */
export function operationFromUrl(url: URL): OperationRequest | DomainError {
  const params: Record<string, unknown> = {};
  for (const name of ['query', 'operationName', 'variables', 'extensions']) {
    const values = url.searchParams.getAll(name);
    if (values.length > 1) return new DomainError(ErrorCode.BAD_REQUEST, `${name} is given ${values.length} times`, { field: name });
    const raw = values[0];
    if (raw === undefined || (raw === '' && name !== 'query')) continue;
    if (name === 'query' || name === 'operationName') params[name] = raw;
    else {
      try {
        params[name] = JSON.parse(raw) as unknown;
      } catch {
        return new DomainError(ErrorCode.BAD_REQUEST, `${name} is not JSON`, { field: name });
      }
    }
  }
  return operationOf(params);
}
