import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it, vi } from 'vitest';

import { JobextAPI } from '../src/api';
import { backoff, groupByJob, insertSorted, JobextModel, mergeRun, upsert } from '../src/model';
import { IJob, IRun } from '../src/types';
import { job, run } from './fixtures';

describe('list updates', () => {
  it('replaces in place or adds at the front, within the page size', () => {
    const key = (r: IRun) => r.id;
    const list = [run(2), run(1)];
    const replaced = upsert(list, run(1, { status: 'succeeded' }), key);
    expect(replaced.added).toBe(false);
    expect(replaced.items.map(r => r.status)).toEqual(['running', 'succeeded']);
    const added = upsert(list, run(3), key, { limit: 2 });
    expect(added.items.map(r => r.id)).toEqual([3, 2]);
    expect(upsert(list, run(3), key, { add: false }).items).toHaveLength(2);
  });

  it('never lets older news of a run overwrite newer', () => {
    const stopped = run(1, { status: 'stopped', updated_at: '2026-11-30T10:00:02.000Z' });
    const stopping = run(1, { status: 'stopping', updated_at: '2026-11-30T10:00:01.000Z' });
    expect(mergeRun(stopped, stopping)).toBe(stopped);
    expect(mergeRun(stopped, { ...stopping, updated_at: '2026-11-30T10:00:03.000Z' })).toBe(
      stopped
    );
    expect(mergeRun(stopping, stopped).status).toBe('stopped');
    expect(mergeRun(stopping, { progress: 0.5 }).progress).toBe(0.5);
  });

  it('puts an item in its sorted place, within a full page only if it sorts inside it', () => {
    const name = (j: IJob) => j.name;
    const list = [job('a'), job('c')];
    expect(insertSorted(list, job('b'), name).items.map(name)).toEqual(['a', 'b', 'c']);
    expect(insertSorted(list, job('d'), name).items.map(name)).toEqual(['a', 'c', 'd']);
    const changed = insertSorted(list, job('c', { description: 'x' }), name);
    expect(changed.added).toBe(false);
    expect(changed.items[1].description).toBe('x');
    const full = insertSorted(list, job('b'), name, 2);
    expect(full.items.map(name)).toEqual(['a', 'b']);
    expect(full).toMatchObject({ added: true, shown: true });
    expect(insertSorted(list, job('d'), name, 2)).toMatchObject({
      added: true,
      shown: false,
      items: list
    });
  });

  it('backs off by doubling, up to its longest pause', () => {
    expect([0, 1, 2, 4, 5, 60].map(n => backoff(n))).toEqual([
      1000, 2000, 4000, 16000, 30000, 30000
    ]);
    expect([0, 3, 5].map(n => backoff(n, 500, 15000))).toEqual([500, 4000, 15000]);
  });

  it('groups runs under their job in the order of their newest run', () => {
    const groups = groupByJob([run(3, { job: 'b' }), run(2, { job: 'a' }), run(1, { job: 'b' })]);
    expect(groups.map(([job, runs]) => [job, runs.map(r => r.id)])).toEqual([
      ['b', [3, 1]],
      ['a', [2]]
    ]);
  });
});

describe('JobextModel', () => {
  const api = new JobextAPI(ServerConnection.makeSettings({ baseUrl: 'http://lab.test/' }));

  it('applies run events to the list the filter shows', () => {
    const model = new JobextModel(api);
    model.runFilter = { status: 'IN_PROGRESS' };
    model.runs = { items: [run(1)], total: 1, available: true, error: null, loaded: true };
    let changes = 0;
    model.changed.connect(() => changes++);
    model.applyEvent({ id: '1', event: 'run', data: JSON.stringify(run(2)) });
    expect(model.runs.items.map(r => r.id)).toEqual([2, 1]);
    expect(model.runs.total).toBe(2);
    // a finished run that is not shown does not join an in-progress list...
    model.applyEvent({
      id: '2',
      event: 'run',
      data: JSON.stringify(run(3, { status: 'succeeded' }))
    });
    expect(model.runs.items.map(r => r.id)).toEqual([2, 1]);
    // ...but one that is shown is updated in place
    model.applyEvent({
      id: '3',
      event: 'run',
      data: JSON.stringify(run(1, { status: 'succeeded' }))
    });
    expect(model.runs.items.find(r => r.id === 1)?.status).toBe('succeeded');
    model.applyEvent({ id: '4', event: 'run', data: 'not json' });
    expect(changes).toBe(3);
    // a removed run leaves the list, whatever the filter
    model.applyEvent({ id: '5', event: 'run', data: JSON.stringify({ id: 2, deleted: true }) });
    expect(model.runs.items.map(r => r.id)).toEqual([1]);
    expect(model.runs.total).toBe(1);
    expect(changes).toBe(4);
  });

  it('updates batches, schedules and workers, and drops removed things', () => {
    const model = new JobextModel(api);
    model.applyEvent({
      id: '1',
      event: 'batch',
      data: JSON.stringify({ id: 7, status: 'running' })
    });
    model.applyEvent({
      id: '2',
      event: 'batch',
      data: JSON.stringify({ id: 7, status: 'paused' })
    });
    // (the counts, runs running and lag it had stay until the list is read again: none yet)
    expect(model.batches.items).toEqual([
      { id: 7, status: 'paused', counts: {}, concurrent_jobs: 0, lag_s: 0 }
    ]);
    model.applyEvent({
      id: '3',
      event: 'worker',
      data: JSON.stringify({ id: 'w1', status: 'draining' })
    });
    expect(model.workers.items[0].status).toBe('draining');
    model.applyEvent({ id: '4', event: 'batch', data: JSON.stringify({ id: 7, deleted: true }) });
    expect(model.batches.items).toEqual([]);
    model.dispose();
  });

  it('keeps the job list live from job events, as searched and sorted', () => {
    const model = new JobextModel(api);
    const page = <T>(items: T[]) => ({
      items,
      total: items.length,
      available: true,
      error: null,
      loaded: true
    });
    model.jobs = page([job('b'), job('d')]);
    model.runs = page([run(1, { job: 'd' }), run(2, { job: 'b' })]);
    const event = (data: unknown) =>
      model.applyEvent({ id: '1', event: 'job', data: JSON.stringify(data) });
    event(job('c'));
    expect(model.jobs.items.map(j => j.name)).toEqual(['b', 'c', 'd']);
    expect(model.jobs.total).toBe(3);
    event(job('c', { description: 'changed' }));
    expect(model.jobs.items[1].description).toBe('changed');
    expect(model.jobs.total).toBe(3);
    // deleting a job deletes its runs (and schedules) on the server: they leave the lists
    event({ name: 'd', deleted: true });
    expect(model.jobs.items.map(j => j.name)).toEqual(['b', 'c']);
    expect(model.runs.items.map(r => r.id)).toEqual([2]);
    // a search shows only the jobs it matches
    model.jobSearch = 'export';
    event(job('a'));
    event(job('nightly-export'));
    expect(model.jobs.items.map(j => j.name)).toEqual(['b', 'c', 'nightly-export']);
  });

  /** An API whose batch list is `items()` at each read; `asked` is every request's path (a
   * read of one batch, `batches/{id}`, would be asked too). */
  function batchesAPI(items: () => object[]): { api: JobextAPI; asked: string[] } {
    const asked: string[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://lab.test/',
      init: { cache: 'default', credentials: 'same-origin' },
      fetch: async (input: RequestInfo | URL) => {
        const path = (input as Request).url.replace(/^.*\/v1\//, '');
        asked.push(path);
        const id = /^batches\/(\d+)/.exec(path)?.[1];
        const listed = id ? [] : items();
        const body = id
          ? { id: Number(id), status: 'running', counts: {}, lag_s: 5, sub_jobs: [] }
          : { items: listed, page: 0, per_page: 50, total: listed.length };
        return new Response(JSON.stringify(body), {
          headers: { 'Content-Type': 'application/json' }
        });
      }
    });
    return { api: new JobextAPI(settings), asked };
  }

  it('shows what the batch list brings, read again at most once a second', async () => {
    let reads = 0;
    const { api, asked } = batchesAPI(() => [
      {
        id: 7,
        job: 'etl',
        status: 'running',
        counts: { running: ++reads, pending: 1 },
        concurrent_jobs: reads,
        lag_s: 0
      }
    ]);
    const model = new JobextModel(api);
    await model.refresh(['batches']);
    expect(model.batches.items[0]).toMatchObject({
      counts: { running: 1, pending: 1 },
      concurrent_jobs: 1,
      lag_s: 0
    });
    expect(asked).toEqual(['batches?per_page=50']);
    // a flood of news of the batch's runs: one more read of the list, a second after the first
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      model.applyRun(run(i, { batch_id: 7, status: 'succeeded' }));
    }
    model.applyRun(run(1000, { batch_id: 8, status: 'succeeded' }));
    await vi.waitFor(
      () => expect(model.batches.items[0].counts).toEqual({ running: 2, pending: 1 }),
      {
        timeout: 3000
      }
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(model.batches.items[0]).toMatchObject({ concurrent_jobs: 2, lag_s: 0 });
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(asked).toEqual(['batches?per_page=50', 'batches?per_page=50']);
    // a flood of batch events (no counts, no lag): what is held stays, and the list is read
    // once more, a second after the last read
    for (let i = 0; i < 100; i++) {
      model.applyEvent({
        id: `b-${i}`,
        event: 'batch',
        data: JSON.stringify({ id: 7, status: i % 2 ? 'running' : 'paused' })
      });
    }
    expect(model.batches.items[0]).toMatchObject({
      status: 'running',
      counts: { running: 2, pending: 1 },
      lag_s: 0
    });
    await vi.waitFor(() => expect(asked).toHaveLength(3), { timeout: 3000 });
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(asked).toHaveLength(3);
    // a directive's answer carries a list item's fields (and a page of sub-jobs, not kept):
    // nothing is read
    model.applyBatch({
      id: 7,
      status: 'paused',
      counts: { held: 3 },
      concurrent_jobs: 0,
      lag_s: 0,
      sub_jobs: [],
      sub_jobs_page: 0
    } as never);
    expect(model.batches.items[0]).toMatchObject({ counts: { held: 3 }, lag_s: 0 });
    expect(model.batches.items[0]).not.toHaveProperty('sub_jobs');
    model.applyEvent({ id: '2', event: 'batch', data: JSON.stringify({ id: 7, deleted: true }) });
    expect(model.batches.items).toEqual([]);
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(asked).toHaveLength(3);
    expect(asked.filter(path => /^batches\/\d/.test(path))).toEqual([]);
    model.dispose();
  });

  it('reads the list once a second while a batch lags behind its pace, and only then', async () => {
    const lags = [2.5, 3.5, 0];
    let reads = 0;
    const { api, asked } = batchesAPI(() => [
      {
        id: 7,
        job: 'etl',
        status: 'running',
        counts: { running: 2, queued: 1 },
        concurrent_jobs: 2,
        lag_s: lags[Math.min(reads++, lags.length - 1)]
      }
    ]);
    const model = new JobextModel(api);
    await model.refresh(['batches']);
    expect(model.batches.items[0].lag_s).toBe(2.5);
    // no news of it, yet its lag grows: the list (never the batch alone) is read again
    await vi.waitFor(() => expect(model.batches.items[0].lag_s).toBe(3.5), { timeout: 3000 });
    await vi.waitFor(() => expect(model.batches.items[0].lag_s).toBe(0), { timeout: 3000 });
    await new Promise(resolve => setTimeout(resolve, 1300));
    expect(asked).toEqual(Array(3).fill('batches?per_page=50'));
    model.dispose();
  });

  it('reads a list again after its read failed, backing off, until it succeeds', async () => {
    const asked: number[] = [];
    const replies = [503, 500, 200];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://lab.test/',
      init: { cache: 'default', credentials: 'same-origin' },
      fetch: async () => {
        asked.push(Date.now());
        const status = replies[Math.min(asked.length - 1, replies.length - 1)];
        const body =
          status === 200
            ? { items: [run(1)], page: 0, per_page: 50, total: 1 }
            : { message: 'database is locked' };
        return new Response(JSON.stringify(body), {
          status,
          headers: { 'Content-Type': 'application/json' }
        });
      }
    });
    const model = new JobextModel(new JobextAPI(settings));
    await model.refresh(['runs']);
    expect(model.runs.error).toContain('database is locked');
    expect(model.runs.items).toEqual([]);
    // no event and no poll: the list is read again, 1 s then 2 s later
    await vi.waitFor(() => expect(model.runs.items.map(r => r.id)).toEqual([1]), {
      timeout: 5000
    });
    expect(model.runs.error).toBeNull();
    expect(asked).toHaveLength(3);
    expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(900);
    expect(asked[2] - asked[1]).toBeGreaterThanOrEqual(1900);
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(asked).toHaveLength(3); // read once it worked: nothing more
    model.dispose();
  });

  it('reads the lists again when the event stream opens only after they were read', async () => {
    // A slow server: the stream opens 3.5 s after it was asked for, later than the model waits
    // before it reads the lists. A job made in between comes with no event: the stream's
    // first opening reads the lists again.
    const jobs: IJob[] = [];
    const asked: string[] = [];
    let stream: ReadableStreamDefaultController<Uint8Array> | null = null;
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://lab.test/',
      init: { cache: 'default', credentials: 'same-origin' },
      fetch: async (input: RequestInfo | URL) => {
        const path = (input as Request).url.replace(/^.*\/v1\//, '').split('?')[0];
        asked.push(path);
        if (path === 'events') {
          await new Promise(resolve => setTimeout(resolve, 3500));
          const body = new ReadableStream<Uint8Array>({ start: c => void (stream = c) });
          return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
        }
        if (path === 'openapi.json') {
          return new Response('{}', { status: 404 });
        }
        const items = path === 'jobs' ? jobs.slice() : [];
        return new Response(JSON.stringify({ items, page: 0, per_page: 50, total: items.length }), {
          headers: { 'Content-Type': 'application/json' }
        });
      }
    });
    const model = new JobextModel(new JobextAPI(settings));
    await model.start();
    expect(model.jobs.items).toEqual([]);
    jobs.push(job('made-meanwhile'));
    await vi.waitFor(() => expect(model.live).toBe('events'), { timeout: 3000 });
    await vi.waitFor(() => expect(model.jobs.items.map(j => j.name)).toEqual(['made-meanwhile']), {
      timeout: 2000
    });
    expect(asked.filter(path => path === 'jobs')).toHaveLength(2);
    model.dispose();
    (stream as ReadableStreamDefaultController<Uint8Array> | null)?.close();
  });

  it('keeps what the stream said while a list was read, over the older list', async () => {
    // The list is read (its reply made before a job was registered) while the job's event
    // arrives: the reply must not wipe out the job, nor bring back one deleted meanwhile.
    let reply: ((jobs: IJob[]) => void) | null = null;
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://lab.test/',
      init: { cache: 'default', credentials: 'same-origin' },
      fetch: async () => {
        const items = await new Promise<IJob[]>(resolve => (reply = resolve));
        return new Response(JSON.stringify({ items, page: 0, per_page: 50, total: items.length }), {
          headers: { 'Content-Type': 'application/json' }
        });
      }
    });
    const model = new JobextModel(new JobextAPI(settings));
    const reading = model.refresh(['jobs']);
    await vi.waitFor(() => expect(reply).not.toBeNull());
    const event = (data: unknown) =>
      model.applyEvent({ id: '1', event: 'job', data: JSON.stringify(data) });
    event(job('made-meanwhile'));
    event({ name: 'gone', deleted: true });
    (reply as unknown as (jobs: IJob[]) => void)([job('gone'), job('kept')]);
    await reading;
    expect(model.jobs.items.map(j => j.name)).toEqual(['kept', 'made-meanwhile']);
    expect(model.jobs.total).toBe(2);
    // Once read, news is applied once, as before.
    event(job('later'));
    expect(model.jobs.items.map(j => j.name)).toEqual(['kept', 'later', 'made-meanwhile']);
    model.dispose();
  });

  it('keeps apps live from app events, by name', () => {
    const model = new JobextModel(api);
    const app = (name: string) => ({ name, jobs: [], deployed_at: '2026-12-01T00:00:00Z' });
    model.applyEvent({ id: '1', event: 'app', data: JSON.stringify(app('shop')) });
    model.applyEvent({ id: '2', event: 'app', data: JSON.stringify(app('etl')) });
    model.applyEvent({ id: '3', event: 'app', data: JSON.stringify(app('shop')) });
    expect(model.apps.items.map(a => a.name)).toEqual(['etl', 'shop']);
    expect(model.apps.total).toBe(2);
    model.applyEvent({ id: '4', event: 'app', data: '{"name": "etl", "deleted": true}' });
    expect(model.apps.items.map(a => a.name)).toEqual(['shop']);
  });

  it('merges progress events into the runs it shows', () => {
    const model = new JobextModel(api);
    model.runs = { items: [run(1)], total: 1, available: true, error: null, loaded: true };
    const seen: Array<number | null> = [];
    model.runUpdated.connect((_, r) => seen.push(r.progress));
    model.applyEvent({
      id: 'e-1',
      event: 'progress',
      data: JSON.stringify({ id: 1, progress: 0.5, message: 'half' })
    });
    model.applyEvent({
      id: 'e-2',
      event: 'progress',
      data: JSON.stringify({ id: 9, progress: 0.1 })
    });
    expect(model.runs.items[0]).toMatchObject({
      progress: 0.5,
      message: 'half',
      status: 'running'
    });
    expect(seen).toEqual([0.5]);
  });

  it('tells once when a run this tab started ends', () => {
    const model = new JobextModel(api);
    const ended: number[] = [];
    model.runEnded.connect((_, r) => ended.push(r.id));
    model.watch(run(5, { status: 'queued' }));
    model.applyRun(run(5, { status: 'running' }));
    model.applyRun(run(5, { status: 'failed' }));
    model.applyRun(run(5, { status: 'failed' }));
    model.applyRun(run(6, { status: 'failed' }));
    expect(ended).toEqual([5]);
  });
});
