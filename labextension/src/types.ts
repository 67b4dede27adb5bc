/** The JSON shapes of jobext's REST API (see DESIGN.md, "REST API"). */

export type JobKind = 'python' | 'notebook' | 'query' | 'shell';

export type RunStatus =
  'queued' | 'running' | 'pausing' | 'paused' | 'stopping' | 'succeeded' | 'failed' | 'stopped';

export const RUN_STATUSES: RunStatus[] = [
  'queued',
  'running',
  'pausing',
  'paused',
  'stopping',
  'succeeded',
  'failed',
  'stopped'
];

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'stopped']);

export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface IPage<T> {
  items: T[];
  page: number;
  per_page: number;
  total: number;
}

export interface IJob {
  name: string;
  kind: JobKind;
  target: string;
  description: string;
  connection: string | null;
  kernel: string | null;
  default_args: JSONValue;
  options: { [key: string]: JSONValue } | null;
  max_concurrent: number;
  queue_when_busy: boolean;
  timeout_s: number | null;
  retries: number;
  retry_backoff_s: number;
  restartable: boolean;
  keep_runs: number | null;
  keep_days: number | null;
  /** The app whose code declares it (it changes only by redeploying the app), if any. */
  app?: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** The fields of `POST /jobs` (and, less name and kind, of `PATCH /jobs/{name}`). */
export type JobInput = Partial<Omit<IJob, 'app' | 'created_by' | 'created_at' | 'updated_at'>>;

export interface IJobStats {
  total: number;
  succeeded: number;
  failed: number;
  stopped: number;
  in_progress?: number;
  average_duration_s: number | null;
  latest_run: IRun | null;
  next_run_at: string | null;
}

export interface IStep {
  name: string;
  status: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface IRunResult {
  filename: string;
  size: number | null;
  media_type: string | null;
  url: string;
}

export interface IRun {
  id: number;
  uuid: string;
  job: string;
  kind: JobKind;
  args: JSONValue;
  status: RunStatus;
  trigger: string;
  user: string | null;
  scheduled_for: string | null;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  ended_at: string | null;
  duration_s: number | null;
  progress: number | null;
  message: string | null;
  records_written: number | null;
  steps: IStep[];
  exit_code: number | null;
  error: string | null;
  attempt: number;
  restarted_from: number | null;
  restarted_as: number | null;
  schedule_id: number | null;
  batch_id: number | null;
  worker: string | null;
  result: IRunResult | null;
}

export interface ILogLine {
  seq: number;
  ts: string;
  stream: string | null;
  level: string | null;
  text: string;
}

export interface ILogPage {
  items: ILogLine[];
  after: number;
  limit: number;
  next_after: number;
  more: boolean;
}

export interface ISchedule {
  id: number;
  job: string;
  cron: string;
  timezone: string;
  args: JSONValue;
  active: boolean;
  misfire: 'skip' | 'once' | 'all';
  misfire_grace_s: number;
  overlap: 'forbid' | 'allow' | 'replace';
  description: string;
  created_by: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
  last_fire_at: string | null;
  next_fire_times: string[];
}

export type ScheduleInput = Partial<
  Pick<
    ISchedule,
    'job' | 'cron' | 'timezone' | 'args' | 'active' | 'misfire' | 'overlap' | 'description'
  >
>;

export interface IPreview {
  cron: string;
  timezone: string;
  after: string;
  fire_times: string[];
  local_times?: string[];
}

export interface IFire {
  scheduled_for: string;
  claimed_at: string;
  server: string | null;
  outcome: string;
  run_id: number | null;
  message: string | null;
}

export interface ISubJob {
  id: number;
  status: string;
  iteration: number | null;
  done?: number;
  failures: number;
  run_id: number | null;
}

/** A batch as `batch` events have it (the fields of its row). */
export interface IBatch {
  id: number;
  job: string;
  status: string;
  error: string | null;
  args?: JSONValue;
  start_time: string | null;
  stop_time: string | null;
  created_at?: string;
  updated_at?: string;
  created_by?: string | null;
  concurrent: number;
  jobs_per_second: number | null;
  iterations: number | null;
  failures: number;
  failures_to_ignore: number;
  /** Absent when iterations is null (sub-jobs run until stopped). */
  percent_complete?: number | null;
  worker: string | null;
  driven_by?: string | null;
}

/** A batch as `GET /batches` and `GET /jobs/{name}/batches` list it: with its counts, runs
 * running now and lag. */
export interface IBatchListItem extends IBatch {
  /** Sub-jobs by status (a sub-job in an iteration has its run's status). */
  counts: { [status: string]: number };
  /** Runs running now (running, pausing, paused or stopping: each holds a worker slot). */
  concurrent_jobs: number;
  /** How far behind its pace it is: seconds its longest-waiting sub-job has been due (0 when
   * none waits). */
  lag_s: number;
}

/** One batch as `GET /batches/{id}` (and the directives) answer it: a list item with a page of
 * its sub-jobs. */
export interface IBatchDetail extends IBatchListItem {
  sub_jobs: ISubJob[];
  sub_jobs_page?: number;
  sub_jobs_per_page?: number;
  sub_jobs_total?: number;
}

/** A host at a worker's last heartbeat (psutil): bytes; loads are shares of all cores. */
export interface IHostStats {
  memory?: {
    physical?: { free?: number; total?: number };
    swap?: { free?: number; total?: number };
  };
  cpu?: {
    process?: { load?: number; time_s?: number };
    system?: { load?: number; load_average?: number | null };
  };
}

export type WorkerStatus = 'ready' | 'draining' | 'offline';

/** Where runs execute: a server's local executor or a Dask worker (`GET /workers`). */
export interface IWorker {
  id: string;
  name: string;
  kind: 'local' | 'dask' | string;
  host: string;
  pid: number | null;
  status: WorkerStatus | string;
  started_at: string;
  /** Its last heartbeat. */
  last_seen: string;
  offline_at: string | null;
  /** Runs it executes at once. */
  slots: number;
  /** Runs it holds now (`runs` are their ids). */
  running: number;
  runs: number[];
  os_name: string;
  os_version: string;
  cpu_arch: string;
  cpu_cores: number | null;
  stats: IHostStats | null;
  totals: { succeeded: number; failed: number };
}

/** One job of an app, as the app shows it. */
export interface IAppJob {
  name: string;
  kind: JobKind;
  target: string;
  description: string;
  /** The schedule its code declares. */
  schedule: {
    id: number;
    cron: string;
    timezone: string;
    active: boolean;
    next_fire_at: string | null;
  } | null;
}

/** Jobs deployed from code (`GET /apps`). */
export interface IApp {
  name: string;
  module: string | null;
  path: string | null;
  digest: string;
  files: string[];
  jobs: IAppJob[];
  created_by: string | null;
  created_at: string;
  deployed_by: string | null;
  deployed_at: string;
  /** Why the last redeployment failed (it changed nothing). */
  error: string | null;
  error_at: string | null;
}

/** What `PUT /apps/{name}` answers: the app, and its job names by what the deployment did. */
export interface IAppDeployment extends IApp {
  changes: { added: string[]; updated: string[]; removed: string[]; unchanged: string[] };
}

/** `GET /stats`. */
export interface IStats {
  jobs: number;
  /** Active schedules. */
  schedules: number;
  batches: { [status: string]: number };
  workers: number;
  apps?: number;
  runs: { [status: string]: number };
}

export interface IConnection {
  name: string;
  dialect: string;
  host: string | null;
  database: string | null;
}

/** What `DELETE /runs` did: how many went, and how many matched but stayed. */
export interface IDeleteRunsResult {
  deleted: number;
  in_progress: number;
  in_batches: number;
}

/** Filters of `GET /runs`. */
export interface IRunFilter {
  job?: string;
  status?: string;
  from?: string;
  to?: string;
  batch?: number;
  schedule?: number;
  search?: string;
}
