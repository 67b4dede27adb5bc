/**
 * The server's list filters as the panel applies them to things that arrive by event rather
 * than by a list request (a run that changed, a job registered in another tab), and the
 * filters of "clear finished". Pure functions, unit tested.
 */
import { IDeleteRunsResult, IJob, IRun, IRunFilter, RUN_STATUSES } from './types';

/** Status group names the server accepts in filters (OpenSpecimen's spelling). */
export const STATUS_GROUPS: { [group: string]: string[] } = {
  IN_PROGRESS: ['queued', 'running', 'pausing', 'paused', 'stopping'],
  SUCCEEDED: ['succeeded'],
  FAILED: ['failed'],
  STOPPED: ['stopped'],
  FINISHED: ['succeeded', 'failed', 'stopped']
};

/** The statuses a `status` filter value names ('' or undefined: all). */
export function statusesOf(filter: string | undefined): Set<string> {
  if (!filter) {
    return new Set(RUN_STATUSES);
  }
  const wanted = new Set<string>();
  for (const part of filter.split(',').map(p => p.trim())) {
    for (const status of STATUS_GROUPS[part] ?? [part.toLowerCase()]) {
      wanted.add(status);
    }
  }
  return wanted;
}

/** The instant a `from`/`to` filter value names (`2026-11-30`, `20261130T061500`, ISO). */
export function filterInstant(value: string): number {
  const compact = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?$/.exec(value);
  if (compact) {
    const [, y, mo, d, h = '00', mi = '00', s = '00'] = compact;
    return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return Date.parse(`${value}T00:00:00Z`);
  }
  return Date.parse(value);
}

/** True when a run belongs in a list shown with this filter (the server's rules, for runs
 * that arrive by event rather than by a list request). */
export function runMatches(filter: IRunFilter, run: IRun): boolean {
  if (filter.job && run.job !== filter.job) {
    return false;
  }
  if (filter.status && !statusesOf(filter.status).has(run.status)) {
    return false;
  }
  if (filter.batch !== undefined && run.batch_id !== filter.batch) {
    return false;
  }
  if (filter.schedule !== undefined && run.schedule_id !== filter.schedule) {
    return false;
  }
  const created = Date.parse(run.created_at);
  if (filter.from && created < filterInstant(filter.from)) {
    return false;
  }
  if (filter.to && created > filterInstant(filter.to)) {
    return false;
  }
  if (filter.search && !run.job.toLowerCase().includes(filter.search.toLowerCase())) {
    return false;
  }
  return true;
}

/** True when a job belongs in the job list searched for `search` (the server matches name,
 * description and target). */
export function jobMatches(search: string, job: IJob): boolean {
  const wanted = search.trim().toLowerCase();
  if (!wanted) {
    return true;
  }
  return [job.name, job.description ?? '', job.target].some(text =>
    text.toLowerCase().includes(wanted)
  );
}

const FINISHED = STATUS_GROUPS.FINISHED;

/**
 * The filter of `DELETE /runs` that clears the finished runs of `filter` (of job `job` when
 * given): the same filter with `status` narrowed to its finished statuses, spelled out. Null
 * when the filter can match no finished run (`IN_PROGRESS`), so there is nothing to clear.
 */
export function clearFinishedFilter(filter: IRunFilter, job?: string): IRunFilter | null {
  const wanted = statusesOf(filter.status);
  const statuses = FINISHED.filter(s => wanted.has(s));
  if (statuses.length === 0) {
    return null;
  }
  const clear: IRunFilter = { ...filter, status: statuses.join(',') };
  if (job !== undefined) {
    clear.job = job;
  }
  return clear;
}

/** The runs a filter names, in words: `failed runs of job "etl" created from 2026-11-01`. */
export function describeRunFilter(filter: IRunFilter): string {
  const statuses = statusesOf(filter.status);
  const named = RUN_STATUSES.filter(s => statuses.has(s));
  let what = named.length === RUN_STATUSES.length ? 'runs' : `${listWords(named, 'or')} runs`;
  if (filter.job) {
    what += ` of job "${filter.job}"`;
  }
  if (filter.batch !== undefined) {
    what += ` of batch #${filter.batch}`;
  }
  if (filter.schedule !== undefined) {
    what += ` of schedule #${filter.schedule}`;
  }
  if (filter.search) {
    what += ` matching "${filter.search}"`;
  }
  if (filter.from && filter.to) {
    what += ` created from ${filter.from} to ${filter.to}`;
  } else if (filter.from) {
    what += ` created from ${filter.from}`;
  } else if (filter.to) {
    what += ` created until ${filter.to}`;
  }
  return what;
}

/** What `DELETE /runs` did, in words. */
export function clearedMessage(result: IDeleteRunsResult): string {
  const parts = [`Removed ${plural(result.deleted, 'finished run')}.`];
  const stay = (n: number) => (n === 1 ? 'stays' : 'stay');
  if (result.in_progress) {
    parts.push(`${plural(result.in_progress, 'run')} in progress ${stay(result.in_progress)}.`);
  }
  if (result.in_batches) {
    parts.push(
      `${plural(result.in_batches, 'run')} of batches ${stay(result.in_batches)} ` +
        '(they go with their batch).'
    );
  }
  return parts.join(' ');
}

/** `1 run`, `2 runs`. */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}

/** `a`, `a or b`, `a, b or c`. */
function listWords(words: string[], last: string): string {
  if (words.length <= 1) {
    return words.join('');
  }
  return `${words.slice(0, -1).join(', ')} ${last} ${words[words.length - 1]}`;
}
