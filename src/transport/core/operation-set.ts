/**
 * The operations running on one connection (a graphql-ws socket or a graphql-sse
 * stream), whatever the wire: each result is written to the connection's {@link Sink} as
 * the transport's frame around the result's shared JSON text, so a live result is
 * serialized once however many subscribers it reaches (docs/ARCHITECTURE.md, "Render once,
 * send many").
 */
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { ReadyResults } from '../../graphql/render-once.ts';
import { resultJson } from '../../graphql/result-text.ts';
import type { OperationStart } from './operations.ts';
import type { Sink } from './sink.ts';
import type { Resumable } from '../../streams/resumable.ts';
import { ErrorCode } from '../../domain/errors.ts';

/** An error as it goes on the wire. */
export type WireError = ReturnType<GraphQLError['toJSON']>;

/** How a transport frames an operation's messages; `id` arrives JSON-encoded. */
export interface FrameFormat {
  /** `result` is the shared result object (read only: `json` is its text). */
  next(idJson: string, resultJson: string, result: ExecutionResult): string;
  complete(idJson: string): string;
  error(idJson: string, errors: readonly WireError[]): string;
}

/**
 * A running operation; its identity tells a stale continuation from a reused id. It is
 * also what its parked stream resumes (`whenReady`), so a waiting operation holds no closure.
 */
class Operation implements Resumable {
  results: AsyncIterableIterator<ExecutionResult> | null = null;
  /** The results' `takeNow`/`whenReady`, when they have them. */
  ready: ReadyResults | null = null;
  readonly idJson: string;

  constructor(
    readonly id: string,
    private readonly set: OperationSet,
  ) {
    this.idJson = JSON.stringify(id);
  }

  /** More may be ready: send it. */
  resume(): void {
    this.set.drain(this);
  }
}

export class OperationSet {
  private readonly operations = new Map<string, Operation>();

  constructor(
    private readonly sink: Sink,
    private readonly format: FrameFormat,
    private readonly hooks: {
      /** Operation `id` ended, however it ended (once per opened operation). */
      ended(id: string): void;
      /** A failure on the server's side; returns the reference the client is given. */
      failed(error: unknown): string;
    },
  ) {}

  has(id: string): boolean {
    return this.operations.has(id);
  }

  /**
   * Opens operation `id` with `start`. Returns its refusal (validation, a limit) without
   * sending anything, or null once it is accepted: its results then flow to the sink, and
   * a `complete` follows the last one unless the client completed it first. Throws when
   * `start` fails on the server's side.
   */
  async open(id: string, start: () => Promise<OperationStart>): Promise<readonly GraphQLError[] | null> {
    const operation = new Operation(id, this);
    this.operations.set(id, operation);
    let started: OperationStart;
    try {
      started = await start();
    } catch (error) {
      this.end(operation);
      throw error;
    }
    const current = this.isRunning(operation);
    if (started.kind === 'errors') {
      this.end(operation);
      return started.errors;
    }
    if (started.kind === 'result') {
      if (current) {
        this.sink.send(this.format.next(operation.idJson, JSON.stringify(started.result), started.result));
        this.sink.send(this.format.complete(operation.idJson));
      }
      this.end(operation);
      return null;
    }
    if (!current) {
      // Completed by the client (or the connection closed) while it was starting.
      await started.results.return?.();
      return null;
    }
    this.pump(operation, started.results);
    return null;
  }

  /** The client completed `id`: no more results for it. */
  async complete(id: string): Promise<void> {
    const operation = this.operations.get(id);
    if (!operation) return;
    this.end(operation);
    await operation.results?.return?.();
  }

  /** The connection closed: ends every operation. */
  async closeAll(): Promise<void> {
    const running = [...this.operations];
    this.operations.clear();
    for (const [id] of running) this.hooks.ended(id);
    await Promise.all(running.map(([, operation]) => operation.results?.return?.()));
  }

  /**
   * Sends each result as it comes; completes when the stream does, unless the client did
   * first. What is ready goes out at once; a stream that can park (`whenReady`) waits with
   * the operation itself to resume, so a waiting subscription holds no promise or closure;
   * only a log read, an execution or a stream without `takeNow` goes through `next()`.
   */
  private pump(operation: Operation, results: AsyncIterableIterator<ExecutionResult>): void {
    operation.results = results;
    operation.ready = (results as Partial<ReadyResults>).takeNow ? (results as unknown as ReadyResults) : null;
    this.drain(operation);
  }

  /** Sends what `operation` has ready, then parks it or asks its `next()`. Its own `resume` calls this. */
  drain(operation: Operation): void {
    const { ready, results } = operation;
    try {
      for (;;) {
        if (!this.isRunning(operation)) return;
        const step = ready?.takeNow();
        if (step) {
          if (!this.send(operation, step)) return;
          continue;
        }
        if (ready?.whenReady(operation)) return;
        results!
          .next()
          .then((next) => {
            if (this.isRunning(operation) && this.send(operation, next)) this.drain(operation);
          })
          .catch((error: unknown) => this.failed(operation, error));
        return;
      }
    } catch (error) {
      this.failed(operation, error);
    }
  }

  /** Sends `step` of `operation`; false once the stream is done (its `complete` sent). */
  private send(operation: Operation, step: IteratorResult<ExecutionResult>): boolean {
    if (step.done) {
      this.sink.send(this.format.complete(operation.idJson));
      this.end(operation);
      return false;
    }
    this.sink.send(this.format.next(operation.idJson, resultJson(step.value), step.value));
    return true;
  }

  /** A stream that throws is our failure, not the client's: say so with a reference. */
  private failed(operation: Operation, error: unknown): void {
    if (!this.isRunning(operation)) return;
    const reference = this.hooks.failed(error);
    this.sink.send(this.format.error(operation.idJson, [{ message: `Internal server error (reference ${reference})`, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }]));
    this.end(operation);
  }

  /** True while `operation` is the one running under its id (not completed, closed or replaced). */
  private isRunning(operation: Operation): boolean {
    return this.operations.get(operation.id) === operation;
  }

  private end(operation: Operation): void {
    if (!this.isRunning(operation)) return;
    this.operations.delete(operation.id);
    this.hooks.ended(operation.id);
  }
}
