/**
 * The forms' values and what they become: request bodies and run args. Pure functions, unit
 * tested; the dialogs that show them are in dialogs.tsx.
 */
import { JobextError } from './api';
import { browserTimeZone, parseJsonInput } from './format';
import { IJob, ISchedule, JobInput, JobKind, JSONValue, ScheduleInput } from './types';

export interface IJobForm {
  name: string;
  kind: JobKind;
  target: string;
  description: string;
  connection: string;
  default_args: string;
  max_concurrent: string;
  queue_when_busy: boolean;
  timeout_s: string;
  retries: string;
  restartable: boolean;
}

export const TARGET_HINTS: { [kind in JobKind]: string } = {
  python: 'package.module:callable, importable from the server root',
  notebook: 'path of a notebook under the server root',
  query: 'SQL with :name bind parameters',
  shell: 'a command line'
};

export function jobForm(job?: Partial<IJob>): IJobForm {
  return {
    name: job?.name ?? '',
    kind: job?.kind ?? 'python',
    target: job?.target ?? '',
    description: job?.description ?? '',
    connection: job?.connection ?? '',
    default_args:
      job?.default_args === undefined || job.default_args === null
        ? ''
        : JSON.stringify(job.default_args, null, 1),
    max_concurrent: String(job?.max_concurrent ?? 1),
    queue_when_busy: job?.queue_when_busy ?? false,
    timeout_s: job?.timeout_s ? String(job.timeout_s) : '',
    retries: String(job?.retries ?? 0),
    restartable: job?.restartable ?? true
  };
}

function numberOrNull(field: string, text: string): number | null {
  if (!text.trim()) {
    return null;
  }
  const value = Number(text);
  if (!isFinite(value)) {
    throw new JobextError(400, 'must be a number', 'invalid', field);
  }
  return value;
}

/** The request body of a job form (throws a JobextError naming a field typed wrong). */
export function jobInput(form: IJobForm, editing: boolean): JobInput {
  let defaultArgs: unknown;
  try {
    defaultArgs = parseJsonInput(form.default_args);
  } catch (e) {
    throw new JobextError(400, (e as Error).message, 'invalid', 'default_args');
  }
  const input: JobInput = {
    target: form.target,
    description: form.description,
    default_args: (defaultArgs ?? null) as JSONValue,
    max_concurrent: numberOrNull('max_concurrent', form.max_concurrent) ?? 1,
    queue_when_busy: form.queue_when_busy,
    timeout_s: numberOrNull('timeout_s', form.timeout_s),
    retries: numberOrNull('retries', form.retries) ?? 0,
    restartable: form.restartable
  };
  if (form.kind === 'query') {
    input.connection = form.connection || null;
  }
  if (!editing) {
    input.name = form.name.trim();
    input.kind = form.kind;
  }
  return input;
}

export interface IRunForm {
  /** One text per default arg (for object default_args). */
  fields: { [key: string]: string };
  /** Extra / overriding args as JSON (or the argument string of a shell job). */
  json: string;
}

/** The form of a job's args: one field per key of an object `default_args`. */
export function runForm(job: IJob): IRunForm {
  const fields: { [key: string]: string } = {};
  const defaults = job.default_args;
  if (defaults && typeof defaults === 'object' && !Array.isArray(defaults)) {
    for (const [key, value] of Object.entries(defaults)) {
      fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return { fields, json: '' };
}

/**
 * The args of a run form: each field whose text differs from the default, typed as the
 * default is (a number stays a number), then the JSON object over them. Undefined: no args
 * (the job's defaults as they are).
 */
export function runArgs(job: IJob, form: IRunForm): JSONValue | undefined {
  const defaults = job.default_args;
  const args: { [key: string]: JSONValue } = {};
  if (defaults && typeof defaults === 'object' && !Array.isArray(defaults)) {
    for (const [key, text] of Object.entries(form.fields)) {
      const original = defaults[key];
      const originalText = typeof original === 'string' ? original : JSON.stringify(original);
      if (text === originalText) {
        continue;
      }
      if (typeof original === 'string') {
        args[key] = text;
      } else {
        try {
          args[key] = JSON.parse(text);
        } catch {
          throw new JobextError(400, `not valid JSON: ${text}`, 'invalid', key);
        }
      }
    }
  }
  let extra: unknown;
  if (job.kind === 'shell' && form.json.trim() && !/^[[{"]/.test(form.json.trim())) {
    extra = form.json.trim();
  } else {
    try {
      extra = parseJsonInput(form.json);
    } catch (e) {
      throw new JobextError(400, (e as Error).message, 'invalid', 'args');
    }
  }
  if (
    extra !== undefined &&
    (typeof extra !== 'object' || extra === null || Array.isArray(extra))
  ) {
    return Object.keys(args).length ? { ...args } : (extra as JSONValue);
  }
  const merged = { ...args, ...((extra as { [key: string]: JSONValue }) ?? {}) };
  return Object.keys(merged).length ? merged : undefined;
}

export interface IScheduleForm {
  job: string;
  cron: string;
  timezone: string;
  args: string;
  misfire: 'skip' | 'once' | 'all';
  overlap: 'forbid' | 'allow' | 'replace';
  description: string;
}

export function scheduleForm(schedule?: Partial<ISchedule>): IScheduleForm {
  return {
    job: schedule?.job ?? '',
    cron: schedule?.cron ?? '0 6 * * 1-5',
    timezone: schedule?.timezone ?? browserTimeZone(),
    args:
      schedule?.args === undefined || schedule.args === null ? '' : JSON.stringify(schedule.args),
    misfire: schedule?.misfire ?? 'skip',
    overlap: schedule?.overlap ?? 'forbid',
    description: schedule?.description ?? ''
  };
}

export function scheduleInput(form: IScheduleForm, editing: boolean): ScheduleInput {
  let args: unknown;
  try {
    args = parseJsonInput(form.args);
  } catch (e) {
    throw new JobextError(400, (e as Error).message, 'invalid', 'args');
  }
  const input: ScheduleInput = {
    cron: form.cron.trim(),
    timezone: form.timezone,
    args: (args ?? null) as JSONValue,
    misfire: form.misfire,
    overlap: form.overlap,
    description: form.description
  };
  if (!editing) {
    input.job = form.job;
  }
  return input;
}
