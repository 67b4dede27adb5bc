/**
 * Every REST call of the panel, in one place. Requests go through
 * `ServerConnection.makeRequest`, which adds the Authorization header and the XSRF token;
 * event streams are read with the same function (fetch), never with a token in a URL.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { consumeStream, IStreamHandlers, SSEParser } from './sse';
import {
  IApp,
  IAppDeployment,
  IBatchDetail,
  IBatchListItem,
  IConnection,
  IDeleteRunsResult,
  IFire,
  IJob,
  IJobStats,
  ILogPage,
  IPage,
  IPreview,
  IRun,
  IRunFilter,
  ISchedule,
  IStats,
  IWorker,
  JobInput,
  JSONValue,
  ScheduleInput
} from './types';

/** Where the API lives under the server's base URL. */
export const API_PATH = 'jobext/api/v1';

/** An error answer of the server: its `message`, `reason` and (where one input is at fault)
 * `field`, as jobext sends them. */
export class JobextError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string | null = null,
    readonly field: string | null = null
  ) {
    super(message);
    this.name = 'JobextError';
  }

  /** The message with the field it names, as shown to users. */
  get display(): string {
    return this.field ? `${this.field}: ${this.message}` : this.message;
  }

  /** True when the endpoint itself is missing (an older server), not an unknown id. */
  get notAvailable(): boolean {
    return this.status === 404 && this.reason === null;
  }
}

/** The text to show for any error the API calls may throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof JobextError) {
    return error.display;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Build a JobextError from a non-2xx response. */
export async function errorFromResponse(response: Response): Promise<JobextError> {
  let message = `${response.status} ${response.statusText || 'error'}`.trim();
  let reason: string | null = null;
  let field: string | null = null;
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') {
      if (typeof body.message === 'string' && body.message) {
        message = body.message;
      }
      // jupyter_server's own 404 for an unknown route has reason null (or none): only a
      // jobext error carries a short code.
      reason = typeof body.reason === 'string' && body.reason ? body.reason : null;
      field = typeof body.field === 'string' ? body.field : null;
    }
  } catch {
    // An HTML error page: keep the status line.
  }
  return new JobextError(response.status, message, reason, field);
}

type Query = { [key: string]: string | number | boolean | undefined | null };

/** `?a=1&b=x` of the defined values ('' when none). */
export function queryString(query: Query = {}): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Options of list calls: paging, sorting and searching as every jobext list takes them. */
export interface IListOptions {
  page?: number;
  per_page?: number;
  sort?: string;
  search?: string;
}

/** A downloaded file: its bytes and the name the server gave it. */
export interface IDownload {
  blob: Blob;
  filename: string;
  mediaType: string;
}

/** The name in a `Content-Disposition: attachment; filename="..."` header. */
export function filenameFromDisposition(header: string | null, fallback: string): string {
  if (!header) {
    return fallback;
  }
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1].trim() : fallback;
}

/** The jobext REST API, as seen from one JupyterLab tab. */
export class JobextAPI {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** The absolute URL of an API path (`runs/3/result`). */
  url(path: string, query?: Query): string {
    return URLExt.join(this.settings.baseUrl, API_PATH, path) + queryString(query);
  }

  /** Send one request; the parsed JSON answer (undefined for 204), or a JobextError. */
  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await ServerConnection.makeRequest(this.url(path, query), init, this.settings);
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // -- jobs

  listJobs(options: IListOptions = {}): Promise<IPage<IJob>> {
    return this.request('GET', 'jobs', undefined, { ...options });
  }

  getJob(name: string): Promise<IJob & { stats: IJobStats }> {
    return this.request('GET', `jobs/${encodeURIComponent(name)}`);
  }

  createJob(job: JobInput): Promise<IJob> {
    return this.request('POST', 'jobs', job);
  }

  updateJob(name: string, changes: JobInput): Promise<IJob> {
    return this.request('PATCH', `jobs/${encodeURIComponent(name)}`, changes);
  }

  deleteJob(name: string): Promise<void> {
    return this.request('DELETE', `jobs/${encodeURIComponent(name)}`);
  }

  jobStats(name: string): Promise<IJobStats> {
    return this.request('GET', `jobs/${encodeURIComponent(name)}/stats`);
  }

  /** Start a run of a job; `args` are merged over its default args by the server. */
  enqueue(name: string, args?: JSONValue): Promise<IRun> {
    const body = args === undefined ? {} : { args };
    return this.request('POST', `jobs/${encodeURIComponent(name)}/runs`, body);
  }

  // -- runs

  listRuns(filter: IRunFilter = {}, options: IListOptions = {}): Promise<IPage<IRun>> {
    return this.request('GET', 'runs', undefined, { ...filter, ...options });
  }

  getRun(id: number): Promise<IRun> {
    return this.request('GET', `runs/${id}`);
  }

  /** `stop` (optionally forced), `pause` or `resume`: the run after it. */
  runAction(id: number, action: 'stop' | 'pause' | 'resume', force = false): Promise<IRun> {
    return this.request('POST', `runs/${id}/${action}`, undefined, force ? { force: true } : {});
  }

  /** A new run from a failed or stopped one. */
  restartRun(id: number): Promise<IRun> {
    return this.request('POST', `runs/${id}/restart`);
  }

  removeRun(id: number): Promise<void> {
    return this.request('DELETE', `runs/${id}`);
  }

  /** Remove every ended run `filter` matches (the server refuses an empty filter); runs in
   * progress and runs of batches stay, counted. */
  deleteRuns(filter: IRunFilter): Promise<IDeleteRunsResult> {
    return this.request('DELETE', 'runs', undefined, { ...filter });
  }

  /** A page of a run's log: the lines after sequence number `after`, at most `limit`. */
  logs(id: number, after = 0, limit = 1000): Promise<ILogPage> {
    return this.request('GET', `runs/${id}/logs`, undefined, { after, limit });
  }

  /** The last `lines` lines of a run's log (`next_after` is where to follow on from). */
  logTail(id: number, lines: number): Promise<ILogPage> {
    return this.request('GET', `runs/${id}/logs`, undefined, { tail: lines });
  }

  /** Download a run's result with the user's authentication (`format: 'html'` for the HTML
   * copy of an executed notebook). */
  async downloadResult(id: number, format?: string): Promise<IDownload> {
    const response = await ServerConnection.makeRequest(
      this.url(`runs/${id}/result`, { format }),
      { method: 'GET' },
      this.settings
    );
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    const blob = await response.blob();
    return {
      blob,
      filename: filenameFromDisposition(
        response.headers.get('Content-Disposition'),
        `run-${id}${format ? '.' + format : ''}`
      ),
      mediaType: response.headers.get('Content-Type') ?? 'application/octet-stream'
    };
  }

  /** The first `bytes` of a run's result as text (a CSV preview). */
  async resultHead(id: number, bytes = 65536): Promise<string> {
    const response = await ServerConnection.makeRequest(
      this.url(`runs/${id}/result`),
      { method: 'GET', headers: { Range: `bytes=0-${bytes - 1}` } },
      this.settings
    );
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return response.text();
  }

  // -- schedules

  listSchedules(options: IListOptions & { job?: string } = {}): Promise<IPage<ISchedule>> {
    return this.request('GET', 'schedules', undefined, { ...options });
  }

  createSchedule(schedule: ScheduleInput): Promise<ISchedule> {
    return this.request('POST', 'schedules', schedule);
  }

  updateSchedule(id: number, changes: ScheduleInput): Promise<ISchedule> {
    return this.request('PATCH', `schedules/${id}`, changes);
  }

  deleteSchedule(id: number): Promise<void> {
    return this.request('DELETE', `schedules/${id}`);
  }

  setScheduleActive(id: number, active: boolean): Promise<ISchedule> {
    return this.request('POST', `schedules/${id}/${active ? 'resume' : 'pause'}`);
  }

  previewSchedule(cron: string, timezone: string, count = 5): Promise<IPreview> {
    return this.request('POST', 'schedules/preview', { cron, timezone, count });
  }

  scheduleFires(id: number, options: IListOptions = {}): Promise<IPage<IFire>> {
    return this.request('GET', `schedules/${id}/fires`, undefined, { ...options });
  }

  // -- batches and workers (newer servers)

  /** A page of batches, each with its sub-job `counts`, `concurrent_jobs` and `lag_s`. */
  listBatches(options: IListOptions & { job?: string } = {}): Promise<IPage<IBatchListItem>> {
    const { job, ...rest } = options;
    const path = job ? `jobs/${encodeURIComponent(job)}/batches` : 'batches';
    return this.request('GET', path, undefined, { ...rest });
  }

  /** One batch as the lists show it, with a page of its sub-jobs (`subJobsPerPage` of them). */
  getBatch(id: number, subJobsPerPage?: number): Promise<IBatchDetail> {
    return this.request('GET', `batches/${id}`, undefined, {
      sub_jobs_per_page: subJobsPerPage
    });
  }

  /** A directive; the batch after it, as `getBatch` has it. */
  batchDirective(
    id: number,
    directive: 'start' | 'stop' | 'pause' | 'unpause',
    jobsPerSecond?: number
  ): Promise<IBatchDetail> {
    return this.request('POST', `batches/${id}/${directive}`, undefined, {
      jobs_per_second: jobsPerSecond
    });
  }

  listWorkers(options: IListOptions = {}): Promise<IPage<IWorker>> {
    return this.request('GET', 'workers', undefined, { ...options });
  }

  workerAction(id: string, action: 'drain' | 'resume'): Promise<IWorker> {
    return this.request('POST', `workers/${encodeURIComponent(id)}/${action}`);
  }

  // -- apps

  listApps(options: IListOptions = {}): Promise<IPage<IApp>> {
    return this.request('GET', 'apps', undefined, { ...options });
  }

  /** Import an app's code again and sync its jobs; the jobs that go keep their runs unless
   * `deleteRuns`. */
  redeployApp(name: string, deleteRuns = false): Promise<IAppDeployment> {
    return this.request(
      'PUT',
      `apps/${encodeURIComponent(name)}`,
      {},
      {
        delete_runs: deleteRuns || undefined
      }
    );
  }

  /** Delete an app and its jobs (their runs are kept unless `deleteRuns`). */
  deleteApp(name: string, deleteRuns = false): Promise<void> {
    return this.request('DELETE', `apps/${encodeURIComponent(name)}`, undefined, {
      delete_runs: deleteRuns || undefined
    });
  }

  // -- the rest

  stats(): Promise<IStats> {
    return this.request('GET', 'stats');
  }

  connections(): Promise<{ items: IConnection[] }> {
    return this.request('GET', 'connections');
  }

  openapi(): Promise<{ [key: string]: unknown }> {
    return this.request('GET', 'openapi.json');
  }

  // -- event streams

  /**
   * Read an event stream (`events`, `runs/{id}/events`) once, from `lastEventId` on, until
   * the server ends it or `signal` aborts; resolves with the id to resume from. A refused
   * stream (404 on an older server, 403) rejects with a `StreamRefused`.
   */
  async stream(
    path: string,
    handlers: IStreamHandlers,
    options: { lastEventId?: string; signal?: AbortSignal } = {}
  ): Promise<string> {
    const headers: { [key: string]: string } = {
      Accept: 'text/event-stream',
      'Cache-Control': 'no-cache'
    };
    if (options.lastEventId) {
      headers['Last-Event-ID'] = options.lastEventId;
    }
    const response = await ServerConnection.makeRequest(
      this.url(path),
      { method: 'GET', headers, signal: options.signal, cache: 'no-store' },
      this.settings
    );
    const parser = new SSEParser();
    parser.lastEventId = options.lastEventId ?? '';
    await consumeStream(response, handlers, parser);
    return parser.lastEventId;
  }
}
