/** What both stock clients (graphql-ws, graphql-sse) take and give: a request and a sink for its results. */

/** A sink as graphql-ws and graphql-sse define it. */
export interface ResultSink<T = unknown> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** The request both clients send. */
export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}
