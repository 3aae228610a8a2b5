/** A bare graphql-sse single-connection client, for tests that must control its stream. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { expect } from 'vitest';
import type { RunningServer } from './server.ts';

const STREAM_PATH = '/graphql/stream';

/** PUTs a stream reservation with `bearer`. */
export function reserve(server: RunningServer, bearer: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.port}${STREAM_PATH}`, { method: 'PUT', headers: { authorization: `Bearer ${bearer}` } });
}

/**
 * A bare single-connection client: reserves, opens the stream with Node's http client (so
 * a test can stop reading it), and posts operations to it.
 */
export async function openStream(server: RunningServer, bearer: string) {
  const reservation = await (await reserve(server, bearer)).text();
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    httpRequest(`http://127.0.0.1:${server.port}${STREAM_PATH}`, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': reservation } }, resolve)
      .on('error', reject)
      .end();
  });
  expect(response.statusCode).toBe(200);
  const parsed: { event: string; id?: string; payload?: any }[] = [];
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event) parsed.push({ event, ...(data ? JSON.parse(data) : {}) });
    }
  });
  return {
    response,
    frames: () => parsed,
    nexts: () => parsed.filter((frame) => frame.event === 'next'),
    post: (operationId: string, query: string) =>
      fetch(`http://127.0.0.1:${server.port}${STREAM_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': reservation, authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ query, extensions: { operationId } }),
      }),
    close: () => response.destroy(),
  };
}
