/** How times, durations, sizes, counts and CSV text are shown. Pure functions, unit tested. */
import { IAppDeployment, IHostStats } from './types';

/** `1.2 s`, `3 min 5 s`, `2 h 4 min`; '' for null. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) {
    return `${h} h ${m} min`;
  }
  return `${m} min ${s} s`;
}

/** A time in a zone (the browser's when none), as `2026-11-30 14:05:09`. */
export function formatTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23'
  }).formatToParts(date);
  const get = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** A time as short as is clear: `14:05:09` today, `2026-11-29 14:05` on another day. */
export function formatShortTime(iso: string | null | undefined, now: Date = new Date()): string {
  const full = formatTime(iso);
  if (!full) {
    return '';
  }
  return full.slice(0, 10) === formatTime(now.toISOString()).slice(0, 10)
    ? full.slice(11)
    : full.slice(0, 16);
}

/** The zone's short name at that instant (`CET`, `GMT+1`). */
export function zoneAbbreviation(iso: string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(
    new Date(iso)
  );
  return parts.find(p => p.type === 'timeZoneName')?.value ?? '';
}

/** The browser's IANA time zone. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The IANA zones the browser knows (for the schedule editor's picker). */
export function timeZones(): string[] {
  const withValues = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = withValues.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** `12 B`, `3.4 kB`, `1.2 MB`. */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The last `lines` lines of a text (a traceback's end). */
export function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

/**
 * The first `maxRows` rows of CSV text (RFC 4180: quoted fields, doubled quotes, line breaks
 * inside quotes). A last row cut off by a partial read is dropped.
 */
export function parseCsv(text: string, maxRows: number, complete = false): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length && rows.length < maxRows) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') {
        i++;
      }
    } else {
      field += c;
    }
    i++;
  }
  if (complete && rows.length < maxRows && (field !== '' || row.length > 0)) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Parse a JSON text typed by a user; '' is undefined. Throws with a short reason. */
export function parseJsonInput(text: string): unknown {
  if (!text.trim()) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
}

/** The order sub-job statuses are shown in: waiting, busy, done; others after, by name. */
const COUNT_ORDER = [
  'pending',
  'queued',
  'running',
  'pausing',
  'paused',
  'held',
  'stopping',
  'succeeded',
  'completed',
  'failed',
  'stopped'
];

/** `{status: count}` as shown: the statuses with sub-jobs in them, in COUNT_ORDER. */
export function orderedCounts(counts: { [status: string]: number }): Array<[string, number]> {
  const rank = (status: string) => {
    const i = COUNT_ORDER.indexOf(status);
    return i === -1 ? COUNT_ORDER.length : i;
  };
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What a worker's host stats show: CPU busy (the system's, and the worker's own processes')
 * as shares of all cores, physical memory in use; null where the stats say nothing. */
export function hostMeters(stats: IHostStats | null | undefined): {
  cpu: number | null;
  cpuOwn: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
} {
  const share = (value: unknown) =>
    typeof value === 'number' && isFinite(value) ? Math.max(0, Math.min(1, value)) : null;
  const physical = stats?.memory?.physical;
  const total = typeof physical?.total === 'number' && physical.total > 0 ? physical.total : null;
  const free = typeof physical?.free === 'number' ? physical.free : null;
  return {
    cpu: share(stats?.cpu?.system?.load),
    cpuOwn: share(stats?.cpu?.process?.load),
    memoryUsed: total !== null && free !== null ? Math.max(0, total - free) : null,
    memoryTotal: total
  };
}

/** What a redeployment did, in words: `2 updated, 1 added, 1 removed` (or `nothing changed`). */
export function deploymentSummary(changes: IAppDeployment['changes']): string {
  const parts = (['added', 'updated', 'removed'] as const)
    .filter(what => changes[what].length)
    .map(what => `${changes[what].length} ${what} (${changes[what].join(', ')})`);
  return parts.length ? parts.join(', ') : 'nothing changed';
}
