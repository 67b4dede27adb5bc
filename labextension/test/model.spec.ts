import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { JobextAPI } from '../src/api';
import {
  filterInstant,
  groupByJob,
  JobextModel,
  mergeRun,
  runMatches,
  statusesOf,
  upsert
} from '../src/model';
import { IRun } from '../src/types';

function run(id: number, changes: Partial<IRun> = {}): IRun {
  return {
    id,
    uuid: `u${id}`,
    job: 'etl',
    kind: 'python',
    args: null,
    status: 'running',
    trigger: 'manual',
    user: null,
    scheduled_for: null,
    created_at: '2026-11-30T10:00:00.000Z',
    started_at: null,
    updated_at: '2026-11-30T10:00:00.000Z',
    ended_at: null,
    duration_s: null,
    progress: null,
    message: null,
    records_written: null,
    steps: [],
    exit_code: null,
    error: null,
    attempt: 1,
    restarted_from: null,
    restarted_as: null,
    schedule_id: null,
    batch_id: null,
    worker: null,
    result: null,
    ...changes
  };
}

describe('filters', () => {
  it('expands status groups', () => {
    expect([...statusesOf('IN_PROGRESS')].sort()).toEqual([
      'paused',
      'pausing',
      'queued',
      'running',
      'stopping'
    ]);
    expect([...statusesOf('failed,STOPPED')].sort()).toEqual(['failed', 'stopped']);
    expect(statusesOf('').size).toBe(8);
  });

  it('reads the date forms the server accepts', () => {
    expect(filterInstant('20261130')).toBe(Date.parse('2026-11-30T00:00:00Z'));
    expect(filterInstant('20261130T061500')).toBe(Date.parse('2026-11-30T06:15:00Z'));
    expect(filterInstant('2026-11-30')).toBe(Date.parse('2026-11-30T00:00:00Z'));
  });

  it('matches runs as the server filters them', () => {
    const r = run(1, { status: 'failed', batch_id: 3 });
    expect(runMatches({}, r)).toBe(true);
    expect(runMatches({ job: 'other' }, r)).toBe(false);
    expect(runMatches({ status: 'FAILED' }, r)).toBe(true);
    expect(runMatches({ status: 'IN_PROGRESS' }, r)).toBe(false);
    expect(runMatches({ batch: 3 }, r)).toBe(true);
    expect(runMatches({ from: '2026-12-01' }, r)).toBe(false);
    expect(runMatches({ to: '2026-11-30T09:00:00Z' }, r)).toBe(false);
    expect(runMatches({ from: '20261130', to: '2026-11-30T23:59:59Z' }, r)).toBe(true);
  });
});

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
    expect(model.batches.items).toEqual([{ id: 7, status: 'paused' }]);
    model.applyEvent({
      id: '3',
      event: 'worker',
      data: JSON.stringify({ id: 'w1', status: 'draining' })
    });
    expect(model.workers.items[0].status).toBe('draining');
    model.applyEvent({ id: '4', event: 'batch', data: JSON.stringify({ id: 7, deleted: true }) });
    expect(model.batches.items).toEqual([]);
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
