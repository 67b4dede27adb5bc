import { describe, expect, it } from 'vitest';

import { jobForm, jobInput, runArgs, runForm, scheduleForm, scheduleInput } from '../src/forms';
import {
  deploymentSummary,
  formatDuration,
  formatShortTime,
  formatTime,
  hostMeters,
  orderedCounts,
  parseCsv,
  tail
} from '../src/format';
import { IJob } from '../src/types';

const job = (changes: Partial<IJob> = {}): IJob =>
  ({
    name: 'etl',
    kind: 'python',
    target: 'etl:export',
    description: '',
    default_args: { rows: 3, name: 'x', flags: [1] },
    max_concurrent: 1,
    ...changes
  }) as IJob;

describe('run form', () => {
  it('sends only the args that differ from the defaults, typed as the defaults are', () => {
    const j = job();
    const form = runForm(j);
    expect(form.fields).toEqual({ rows: '3', name: 'x', flags: '[1]' });
    expect(runArgs(j, form)).toBeUndefined();
    expect(runArgs(j, { ...form, fields: { ...form.fields, rows: '10', name: '42' } })).toEqual({
      rows: 10,
      name: '42'
    });
    expect(runArgs(j, { ...form, json: '{"extra": true, "rows": 1}' })).toEqual({
      extra: true,
      rows: 1
    });
  });

  it('names the field that is not valid JSON', () => {
    const j = job();
    expect(() => runArgs(j, { fields: { rows: 'ten' }, json: '' })).toThrow(
      expect.objectContaining({ field: 'rows' })
    );
    expect(() => runArgs(j, { fields: {}, json: '{' })).toThrow(
      expect.objectContaining({ field: 'args' })
    );
  });

  it('passes a shell job its argument string', () => {
    const j = job({ kind: 'shell', default_args: null });
    expect(runArgs(j, { fields: {}, json: '--fast input.txt' })).toBe('--fast input.txt');
    expect(runArgs(j, { fields: {}, json: '["a", "b"]' })).toEqual(['a', 'b']);
  });
});

describe('job and schedule forms', () => {
  it('a new job sends name and kind, an edit does not', () => {
    const form = {
      ...jobForm(),
      name: ' n ',
      target: 't:f',
      default_args: '{"a": 1}',
      timeout_s: '30'
    };
    expect(jobInput(form, false)).toMatchObject({
      name: 'n',
      kind: 'python',
      default_args: { a: 1 },
      timeout_s: 30
    });
    expect(jobInput(form, true)).not.toHaveProperty('name');
    expect(() => jobInput({ ...form, default_args: '{x' }, false)).toThrow(
      expect.objectContaining({ field: 'default_args' })
    );
  });

  it('a schedule defaults to a weekday morning in the browser zone', () => {
    const form = scheduleForm();
    expect(form.cron).toBe('0 6 * * 1-5');
    expect(form.timezone).toBeTruthy();
    expect(scheduleInput({ ...form, job: 'etl', args: '' }, false)).toMatchObject({
      job: 'etl',
      args: null
    });
    expect(scheduleInput({ ...form, job: 'etl' }, true)).not.toHaveProperty('job');
  });
});

describe('format', () => {
  it('durations', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(1.234)).toBe('1.2 s');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(7500)).toBe('2 h 5 min');
  });

  it('times in a zone', () => {
    expect(formatTime('2026-10-25T00:30:00.000Z', 'Europe/Berlin')).toBe('2026-10-25 02:30:00');
    expect(formatTime('2026-10-25T01:30:00.000Z', 'Europe/Berlin')).toBe('2026-10-25 02:30:00');
    expect(formatTime(null)).toBe('');
  });

  it('short times: the time today, the date and minute on other days', () => {
    const now = new Date('2026-11-30T15:00:00Z');
    const today = formatShortTime('2026-11-30T14:05:09Z', now);
    expect(today).toMatch(/^\d\d:05:09$/);
    expect(formatShortTime('2026-10-01T14:05:09Z', now)).toMatch(/^2026-10-0[12] \d\d:05$/);
    expect(formatShortTime(null, now)).toBe('');
  });

  it('CSV heads, with quotes and a cut last row', () => {
    expect(parseCsv('a,b\n1,"x, ""y"""\n2,z\n3,cut', 10)).toEqual([
      ['a', 'b'],
      ['1', 'x, "y"'],
      ['2', 'z']
    ]);
    expect(parseCsv('a\n1', 10, true)).toEqual([['a'], ['1']]);
    expect(parseCsv('a\n1\n2\n', 2)).toEqual([['a'], ['1']]);
  });

  it('the end of a traceback', () => {
    expect(tail('a\nb\nc\n', 2)).toBe('b\nc');
  });

  it("a worker's CPU and memory from its host stats", () => {
    expect(
      hostMeters({
        memory: { physical: { free: 3e9, total: 8e9 } },
        cpu: { process: { load: 0.05 }, system: { load: 0.25, load_average: 1.2 } }
      })
    ).toEqual({ cpu: 0.25, cpuOwn: 0.05, memoryUsed: 5e9, memoryTotal: 8e9 });
    expect(hostMeters(null)).toEqual({
      cpu: null,
      cpuOwn: null,
      memoryUsed: null,
      memoryTotal: null
    });
    expect(hostMeters({ cpu: { system: { load: 1.7 } } }).cpu).toBe(1);
  });

  it('what a redeployment did', () => {
    expect(
      deploymentSummary({ added: ['a'], updated: ['b', 'c'], removed: [], unchanged: ['d'] })
    ).toBe('1 added (a), 2 updated (b, c)');
    expect(deploymentSummary({ added: [], updated: [], removed: [], unchanged: ['d'] })).toBe(
      'nothing changed'
    );
  });

  it('sub-job counts: waiting, busy, done, then any other status; none of zero', () => {
    expect(
      orderedCounts({ completed: 3, zzz: 1, running: 2, pending: 0, failed: 1, aaa: 1 })
    ).toEqual([
      ['running', 2],
      ['completed', 3],
      ['failed', 1],
      ['aaa', 1],
      ['zzz', 1]
    ]);
  });
});
