/**
 * `iterate(request)` on top of a `subscribe(request, sink)`: results are queued until the
 * loop asks for them; `return()` (a `break`) disposes the subscription.
 */
import type { OperationRequest, ResultSink } from './operation.ts';

type Subscribe<T> = (request: OperationRequest, sink: ResultSink<T>) => () => void;

/** Makes an `iterate` that goes through `subscribe`, so it gets the same behaviour. */
export function iterateOver<T>(subscribe: Subscribe<T>): (request: OperationRequest) => AsyncIterableIterator<T> {
  return (request) => {
    const queued: T[] = [];
    let failure: { error: unknown } | null = null;
    let done = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    const dispose = subscribe(request, {
      next: (value) => {
        queued.push(value);
        notify();
      },
      error: (error) => {
        failure = { error };
        notify();
      },
      complete: () => {
        done = true;
        notify();
      },
    });
    const iterator: AsyncIterableIterator<T> = {
      async next() {
        for (;;) {
          if (queued.length) return { value: queued.shift()!, done: false };
          if (failure) throw failure.error;
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
      async return() {
        done = true;
        dispose();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  };
}
