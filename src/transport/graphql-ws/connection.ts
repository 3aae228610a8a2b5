/**
 * One graphql-transport-ws connection, independent of the socket library: messages in
 * through {@link GraphQLWsConnection.receive}, frames out through a {@link Sink}. It keeps
 * the protocol's rules and close codes (docs/ARCHITECTURE.md, "Wire frames") and is built
 * on graphql-ws's own message primitives; it exists so that a live result is serialized
 * once and every subscriber's `next` frame is that text with its operation id around it.
 */
import { MessageType, parseMessage, stringifyMessage, type SubscribePayload } from 'graphql-ws';
import { CLOSES } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import type { OperationStart } from '../core/operations.ts';
import { OperationSet, type FrameFormat } from '../core/operation-set.ts';
import type { Sink } from '../core/sink.ts';

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

/** The socket is open; 4400 etc. are graphql-ws's, `reason`s are what its client shows. */
export class GraphQLWsConnection {
  private initReceived = false;
  private principal: Principal | null = null;
  private readonly operations: OperationSet;
  private initTimer: NodeJS.Timeout | null;
  private isClosed = false;

  constructor(
    private readonly sink: Sink,
    private readonly hooks: ConnectionHooks,
    initTimeoutMs: number,
  ) {
    this.operations = new OperationSet(sink, WS_FRAMES, hooks);
    this.initTimer =
      initTimeoutMs > 0
        ? setTimeout(() => {
            if (!this.initReceived) this.sink.close(CLOSES.initTimeout.code, 'Connection initialisation timeout');
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
      return this.sink.close(CLOSES.badRequest.code, 'Invalid message received');
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
          return this.sink.close(CLOSES.badRequest.code, `Unexpected message of type ${message.type} received`);
      }
    } catch (error) {
      this.sink.close(CLOSES.internalError.code, `Internal server error (reference ${this.hooks.failed(error)})`);
    }
  }

  /** The socket closed: ends every operation. */
  async closed(): Promise<void> {
    this.isClosed = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    await this.operations.closeAll();
  }

  private async init(payload: Readonly<Record<string, unknown>> | undefined): Promise<void> {
    if (this.initReceived) return this.sink.close(CLOSES.tooManyInits.code, 'Too many initialisation requests');
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
    if (!principal) return this.sink.close(CLOSES.unauthorized.code, 'Unauthorized');
    if (this.operations.has(id)) return this.sink.close(CLOSES.subscriberExists.code, `Subscriber for ${id} already exists`);
    const refused = await this.operations.open(id, () => this.hooks.start(id, request, principal));
    if (refused) this.sink.send(WS_FRAMES.error(JSON.stringify(id), refused.map((error) => error.toJSON())));
  }

  private async complete(id: string): Promise<void> {
    await this.operations.complete(id);
  }
}

/** graphql-transport-ws frames, built around the result's JSON text. */
const WS_FRAMES: FrameFormat = {
  next: (id, result) => `{"id":${id},"type":"next","payload":${result}}`,
  complete: (id) => `{"id":${id},"type":"complete"}`,
  error: (id, errors) => `{"id":${id},"type":"error","payload":${JSON.stringify(errors)}}`,
};
