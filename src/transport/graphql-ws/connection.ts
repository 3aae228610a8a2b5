/**
 * One graphql-transport-ws connection, independent of the socket library: messages in
 * through {@link GraphQLWsConnection.receive}, frames out through a {@link Sink}. It keeps
 * the protocol's rules and close codes (docs/ARCHITECTURE.md, "Wire frames") and is built
 * on graphql-ws's own message primitives; it exists so that a live result is serialized
 * once and every subscriber's `next` frame is that text with its operation id around it.
 */
import { CloseCode, MessageType, parseMessage, stringifyMessage, type SubscribePayload } from 'graphql-ws';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Principal } from '../../domain/principal.ts';
import { resultJson } from '../../graphql/live-results-plugin.ts';
import type { OperationStart } from '../operations.ts';
import type { Sink } from '../sink.ts';

/** What the connection asks of its server. */
export interface ConnectionHooks {
  /** Checks `connection_init`'s payload: the caller, or why the connection is refused. */
  connect(params: Readonly<Record<string, unknown>> | undefined): Promise<{ principal: Principal } | { refuse: { code: number; reason: string } }>;
  /** Starts operation `id` for `principal`. */
  start(id: string, request: SubscribePayload, principal: Principal): Promise<OperationStart>;
  /** Operation `id` ended, however it ended (once per started operation). */
  ended(id: string): void;
  /** Something failed that is not the client's doing; returns the reference given to the client. */
  failed(error: unknown): string;
}

/** An operation in progress; its identity tells a stale continuation from a reused id. */
interface Operation {
  results: AsyncIterableIterator<ExecutionResult> | null;
}

/** The socket is open; 4400 etc. are graphql-ws's, `reason`s are what its client shows. */
export class GraphQLWsConnection {
  private initReceived = false;
  private principal: Principal | null = null;
  private readonly operations = new Map<string, Operation>();
  private initTimer: NodeJS.Timeout | null;
  private isClosed = false;

  constructor(
    private readonly sink: Sink,
    private readonly hooks: ConnectionHooks,
    initTimeoutMs: number,
  ) {
    this.initTimer =
      initTimeoutMs > 0
        ? setTimeout(() => {
            if (!this.initReceived) this.sink.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
          }, initTimeoutMs)
        : null;
  }

  /** The authenticated caller, once `connection_init` was accepted. */
  get caller(): Principal | null {
    return this.principal;
  }

  /** Handles one text message from the client. */
  async receive(data: string): Promise<void> {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return this.sink.close(CloseCode.BadRequest, 'Invalid message received');
    }
    try {
      switch (message.type) {
        case MessageType.ConnectionInit:
          return await this.init(message.payload);
        case MessageType.Ping:
          return this.sink.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
        case MessageType.Pong:
          return;
        case MessageType.Subscribe:
          return await this.subscribe(message.id, message.payload);
        case MessageType.Complete:
          return await this.complete(message.id);
        default:
          return this.sink.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
      }
    } catch (error) {
      this.sink.close(CloseCode.InternalServerError, `Internal server error (reference ${this.hooks.failed(error)})`);
    }
  }

  /** The socket closed: ends every operation. */
  async closed(): Promise<void> {
    this.isClosed = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    const running = [...this.operations];
    this.operations.clear();
    for (const [id] of running) this.hooks.ended(id);
    await Promise.all(running.map(([, operation]) => operation.results?.return?.()));
  }

  private async init(payload: Readonly<Record<string, unknown>> | undefined): Promise<void> {
    if (this.initReceived) return this.sink.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    this.initReceived = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = null;
    const outcome = await this.hooks.connect(payload);
    if (this.isClosed) return;
    if ('refuse' in outcome) return this.sink.close(outcome.refuse.code, outcome.refuse.reason);
    this.principal = outcome.principal;
    this.sink.send(stringifyMessage({ type: MessageType.ConnectionAck }));
  }

  private async subscribe(id: string, request: SubscribePayload): Promise<void> {
    const principal = this.principal;
    if (!principal) return this.sink.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.sink.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const operation: Operation = { results: null };
    this.operations.set(id, operation);
    let start: OperationStart;
    try {
      start = await this.hooks.start(id, request, principal);
    } catch (error) {
      this.end(id, operation);
      throw error;
    }
    const current = this.operations.get(id) === operation;
    if (start.kind === 'stream') {
      if (!current) {
        // Completed by the client (or the socket closed) while it was starting.
        await start.results.return?.();
        return;
      }
      operation.results = start.results;
      return this.pump(id, operation, start.results);
    }
    if (!current) return;
    if (start.kind === 'errors') this.sendErrors(id, start.errors);
    else {
      this.sink.send(nextFrame(id, start.result));
      this.sink.send(stringifyMessage({ id, type: MessageType.Complete }));
    }
    this.end(id, operation);
  }

  /** Sends each result as it comes; completes when the stream does, unless the client did first. */
  private async pump(id: string, operation: Operation, results: AsyncIterableIterator<ExecutionResult>): Promise<void> {
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    try {
      for (;;) {
        const step = await results.next();
        if (this.operations.get(id) !== operation) return;
        if (step.done) break;
        this.sink.send(`${prefix}${resultJson(step.value)}}`);
      }
      this.sink.send(stringifyMessage({ id, type: MessageType.Complete }));
    } catch (error) {
      if (this.operations.get(id) !== operation) return;
      // A stream that throws is our failure, not the client's: say so with a reference.
      this.sendErrors(id, [{ message: `Internal server error (reference ${this.hooks.failed(error)})`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    }
    this.end(id, operation);
  }

  private async complete(id: string): Promise<void> {
    const operation = this.operations.get(id);
    if (!operation) return;
    this.end(id, operation);
    await operation.results?.return?.();
  }

  private end(id: string, operation: Operation): void {
    if (this.operations.get(id) !== operation) return;
    this.operations.delete(id);
    this.hooks.ended(id);
  }

  private sendErrors(id: string, errors: readonly (GraphQLError | { message: string; extensions?: Record<string, unknown> })[]): void {
    const payload = errors.map((error) => ('toJSON' in error ? error.toJSON() : error));
    this.sink.send(stringifyMessage({ id, type: MessageType.Error, payload: payload as never }));
  }
}

/** A `next` frame for a one-off result (queries and mutations sent over the socket). */
function nextFrame(id: string, result: ExecutionResult): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${JSON.stringify(result)}}`;
}
