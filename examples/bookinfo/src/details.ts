// details v1 (Istio's details.rb without the external book service, which needs the internet).
import type { RequestListener } from 'node:http';
import { guarded, requestUrl, sendJson, sendNotFound } from './http-util.js';
import { startWorkload, type StartOptions, type RunningWorkload } from './workload-runtime.js';

/** The book details, in the key order the original emits. */
export function bookDetails(id: number): Record<string, string | number> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

// Ruby's Integer(): optional sign, digits, surrounding whitespace allowed; anything else is an error.
const INTEGER = /^\s*[+-]?\d+\s*$/;

export function createDetailsHandler(): RequestListener {
  return guarded(async (req, res) => {
    const path = requestUrl(req).pathname;
    if (path === '/health') {
      sendJson(res, 200, { status: 'Details is healthy' });
      return;
    }
    // WEBrick mounts `/details` as a prefix: `/details`, `/details/x`, `/details/a/1` all land here.
    if (path !== '/details' && !path.startsWith('/details/')) {
      sendNotFound(res);
      return;
    }
    const last = path.split('/').filter(Boolean).pop() ?? '';
    if (!INTEGER.test(last)) {
      sendJson(res, 400, { error: 'please provide numeric product id' });
      return;
    }
    sendJson(res, 200, bookDetails(parseInt(last, 10)));
  });
}

export function startDetails(opts: StartOptions = {}): Promise<RunningWorkload> {
  return startWorkload('details', () => createDetailsHandler(), opts);
}
