import { describe, expect, it } from 'vitest';

import {
  clearedMessage,
  clearFinishedFilter,
  describeRunFilter,
  filterInstant,
  jobMatches,
  runMatches,
  statusesOf
} from '../src/filters';
import { job, run } from './fixtures';

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

describe('the filters of "clear finished"', () => {
  it('narrows the status to the finished statuses the filter allows, spelled out', () => {
    expect(clearFinishedFilter({})).toEqual({ status: 'succeeded,failed,stopped' });
    expect(clearFinishedFilter({ status: 'FAILED', from: '2026-11-01' })).toEqual({
      status: 'failed',
      from: '2026-11-01'
    });
    expect(clearFinishedFilter({ status: 'running,stopped' }, 'etl')).toEqual({
      status: 'stopped',
      job: 'etl'
    });
    // the job of a group replaces the filter's
    expect(clearFinishedFilter({ job: 'a' }, 'b')?.job).toBe('b');
  });

  it('has nothing to clear in a list of runs in progress', () => {
    expect(clearFinishedFilter({ status: 'IN_PROGRESS' })).toBeNull();
    expect(clearFinishedFilter({ status: 'queued' }, 'etl')).toBeNull();
  });

  it('says which runs go in words', () => {
    expect(describeRunFilter({ status: 'succeeded,failed,stopped', job: 'etl' })).toBe(
      'succeeded, failed or stopped runs of job "etl"'
    );
    expect(describeRunFilter({ status: 'failed', from: '2026-11-01', to: '2026-11-02' })).toBe(
      'failed runs created from 2026-11-01 to 2026-11-02'
    );
    expect(describeRunFilter({ batch: 3 })).toBe('runs of batch #3');
  });
});

describe('job search', () => {
  it('matches name, description and target as the server does, in any case', () => {
    const j = job('nightly-export', { description: 'CSV for Finance', target: 'etl:run' });
    expect(jobMatches('', j)).toBe(true);
    expect(jobMatches('EXPORT', j)).toBe(true);
    expect(jobMatches('finance', j)).toBe(true);
    expect(jobMatches('etl:', j)).toBe(true);
    expect(jobMatches('import', j)).toBe(false);
  });
});

describe('what clear finished says afterwards', () => {
  it('counts what went and what stayed', () => {
    expect(clearedMessage({ deleted: 1, in_progress: 0, in_batches: 0 })).toBe(
      'Removed 1 finished run.'
    );
    expect(clearedMessage({ deleted: 1200, in_progress: 2, in_batches: 1 })).toBe(
      'Removed 1,200 finished runs. 2 runs in progress stay. 1 run of batches stays (they go with their batch).'
    );
  });
});
