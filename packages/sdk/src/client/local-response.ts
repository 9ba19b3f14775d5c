// A response the calling workload makes itself (a VirtualService redirect or direct response), in the
// shape the transport's responses have: status, lower-case headers, and a body that is a Readable with
// undici's text(), json() and arrayBuffer(), so both edges and every stage treat it like an upstream's.
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type { OutboundResponse } from './pipeline.js';

export function localResponse(statusCode: number, headers: Record<string, string | string[] | undefined>, body: Uint8Array): OutboundResponse {
  const stream = new Readable({ read() {} });
  if (body.length > 0) stream.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  stream.push(null);
  const bytes = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const readable = Object.assign(stream, {
    text: async () => (await bytes()).toString('utf8'),
    json: async (): Promise<unknown> => JSON.parse((await bytes()).toString('utf8')),
    arrayBuffer: async (): Promise<ArrayBuffer> => {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  });
  return { statusCode, statusText: STATUS_CODES[statusCode], headers, body: readable };
}
