import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import {
  errorMessage,
  filenameFromDisposition,
  JobextAPI,
  JobextError,
  queryString
} from '../src/api';

interface ISeen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** An API whose fetch answers from `reply` and records every request. */
function fake(reply: (req: ISeen) => Response): { api: JobextAPI; seen: ISeen[] } {
  const seen: ISeen[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://lab.test/user/a%40b/',
    token: 'secret',
    init: { cache: 'default', credentials: 'same-origin' },
    fetch: async (input: RequestInfo | URL) => {
      const request = input as Request;
      const req = {
        url: request.url,
        method: request.method,
        headers: request.headers,
        body: await request.text()
      };
      seen.push(req);
      return reply(req);
    }
  });
  return { api: new JobextAPI(settings), seen };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers }
  });

describe('JobextAPI', () => {
  it('calls the API under the base URL with the token in a header, never in the URL', async () => {
    const { api, seen } = fake(() => json({ items: [], page: 0, per_page: 50, total: 0 }));
    await api.listRuns({ job: 'etl', status: 'IN_PROGRESS', from: '' }, { per_page: 50 });
    expect(seen[0].url).toBe(
      'http://lab.test/user/a%40b/jobext/api/v1/runs?job=etl&status=IN_PROGRESS&per_page=50'
    );
    expect(seen[0].headers.get('Authorization')).toBe('token secret');
    expect(seen[0].url).not.toContain('secret');
  });

  it('sends JSON bodies and encodes names in paths', async () => {
    const { api, seen } = fake(() => json({ id: 1, status: 'queued' }, 201));
    const run = await api.enqueue('a b/c', { rows: 3 });
    expect(run.id).toBe(1);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toBe('http://lab.test/user/a%40b/jobext/api/v1/jobs/a%20b%2Fc/runs');
    expect(JSON.parse(seen[0].body)).toEqual({ args: { rows: 3 } });
  });

  it('stops with force as a query flag and answers 204 with undefined', async () => {
    const { api, seen } = fake(req =>
      req.method === 'DELETE' ? new Response(null, { status: 204 }) : json({ id: 4 })
    );
    await api.runAction(4, 'stop', true);
    expect(seen[0].url).toMatch(/\/runs\/4\/stop\?force=true$/);
    expect(await api.removeRun(4)).toBeUndefined();
  });

  it('turns error answers into JobextError with message, reason and field', async () => {
    const { api } = fake(() =>
      json({ message: 'unknown time zone', reason: 'invalid', field: 'timezone' }, 400)
    );
    const error = await api.previewSchedule('* * * * *', 'Mars/Base').catch(e => e);
    expect(error).toBeInstanceOf(JobextError);
    expect(error.status).toBe(400);
    expect(error.field).toBe('timezone');
    expect(errorMessage(error)).toBe('timezone: unknown time zone');
    expect(error.notAvailable).toBe(false);
  });

  it('tells a missing endpoint (an older server) from an unknown id', async () => {
    const { api } = fake(req =>
      req.url.includes('batches')
        ? new Response('<html>404 Not Found</html>', { status: 404, statusText: 'Not Found' })
        : json({ message: 'no run with id 9', reason: 'not_found' }, 404)
    );
    const missing = await api.listBatches().catch(e => e);
    expect(missing.notAvailable).toBe(true);
    const unknown = await api.getRun(9).catch(e => e);
    expect(unknown.notAvailable).toBe(false);
    expect(unknown.message).toBe('no run with id 9');
  });

  it('downloads a result with the name the server gives it', async () => {
    const { api, seen } = fake(
      () =>
        new Response('id\n1\n', {
          headers: {
            'Content-Type': 'text/csv',
            'Content-Disposition': 'attachment; filename="export-3.csv"'
          }
        })
    );
    const download = await api.downloadResult(3);
    expect(download.filename).toBe('export-3.csv');
    expect(await download.blob.text()).toBe('id\n1\n');
    expect(seen[0].headers.get('Authorization')).toBe('token secret');
    await api.downloadResult(3, 'html');
    expect(seen[1].url).toMatch(/\/runs\/3\/result\?format=html$/);
  });

  it('asks for a result head with a Range header', async () => {
    const { api, seen } = fake(() => new Response('a,b\n', { status: 206 }));
    expect(await api.resultHead(5, 1024)).toBe('a,b\n');
    expect(seen[0].headers.get('Range')).toBe('bytes=0-1023');
  });

  it('reads the tail of a log, and pages of it', async () => {
    const { api, seen } = fake(() =>
      json({ items: [], after: 0, limit: 500, next_after: 0, more: false })
    );
    await api.logTail(5, 500);
    await api.logs(5, 1200, 2000);
    expect(seen.map(s => s.url.replace(/^.*\/v1\//, ''))).toEqual([
      'runs/5/logs?tail=500',
      'runs/5/logs?after=1200&limit=2000'
    ]);
  });

  it('redeploys and deletes apps, keeping their runs unless told', async () => {
    const { api, seen } = fake(req =>
      req.method === 'DELETE' ? new Response(null, { status: 204 }) : json({ name: 'shop' })
    );
    await api.redeployApp('shop');
    await api.redeployApp('shop', true);
    await api.deleteApp('shop');
    await api.deleteApp('shop', true);
    expect(seen.map(s => `${s.method} ${s.url.replace(/^.*\/v1\//, '')}`)).toEqual([
      'PUT apps/shop',
      'PUT apps/shop?delete_runs=true',
      'DELETE apps/shop',
      'DELETE apps/shop?delete_runs=true'
    ]);
    expect(seen[0].body).toBe('{}');
  });

  it('reads an event stream with Last-Event-ID and returns where to resume', async () => {
    const { api, seen } = fake(
      () =>
        new Response('id: 5\nevent: log\ndata: {"text":"x"}\n\nid: 6\nevent: close\ndata: {}\n\n', {
          headers: { 'Content-Type': 'text/event-stream' }
        })
    );
    const names: string[] = [];
    let opened = false;
    const last = await api.stream(
      'runs/2/events',
      { onOpen: () => (opened = true), onEvent: e => names.push(e.event) },
      { lastEventId: '4' }
    );
    expect(opened).toBe(true);
    expect(names).toEqual(['log', 'close']);
    expect(last).toBe('6');
    expect(seen[0].headers.get('Last-Event-ID')).toBe('4');
    expect(seen[0].headers.get('Accept')).toBe('text/event-stream');
    expect(seen[0].headers.get('Authorization')).toBe('token secret');
    expect(seen[0].url).not.toContain('token');
  });
});

describe('helpers', () => {
  it('builds query strings of the defined values only', () => {
    expect(queryString({ a: 1, b: '', c: undefined, d: null, e: 'x y' })).toBe('?a=1&e=x%20y');
    expect(queryString({})).toBe('');
  });

  it('reads file names from Content-Disposition', () => {
    expect(filenameFromDisposition('attachment; filename="a.csv"', 'x')).toBe('a.csv');
    expect(filenameFromDisposition("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.csv", 'x')).toBe(
      'résumé.csv'
    );
    expect(filenameFromDisposition(null, 'fallback')).toBe('fallback');
  });
});
