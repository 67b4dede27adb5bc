/**
 * The panel's state: the lists of every section, kept live by ONE server-wide event stream
 * per tab (`GET /events`: runs, jobs, batches, schedules), with polling (paused while the
 * panel is hidden) only while that stream is not connected.
 */
import { PromiseDelegate } from '@lumino/coreutils';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { actionsFromOpenAPI, FALLBACK_ACTIONS, IActionsTable } from './actions';
import { errorMessage, JobextAPI, JobextError } from './api';
import { jobMatches, runMatches } from './filters';
import { ISSEvent, StreamRefused } from './sse';
import {
  FINAL_STATUSES,
  IApp,
  IBatch,
  IBatchDetail,
  IBatchListItem,
  IJob,
  IPage,
  IRun,
  IRunFilter,
  ISchedule,
  IWorker
} from './types';

// ---------------------------------------------------------------------------- pure state logic

/** A list with `item` put in (replacing the one with the same key, or added at the front). */
export function upsert<T>(
  items: readonly T[],
  item: T,
  key: (t: T) => string | number,
  options: { add?: boolean; limit?: number } = {}
): { items: T[]; added: boolean } {
  const k = key(item);
  const index = items.findIndex(t => key(t) === k);
  if (index !== -1) {
    const copy = items.slice();
    copy[index] = item;
    return { items: copy, added: false };
  }
  if (options.add === false) {
    return { items: items.slice(), added: false };
  }
  const copy = [item, ...items];
  if (options.limit !== undefined && copy.length > options.limit) {
    copy.length = options.limit;
  }
  return { items: copy, added: true };
}

/**
 * A list sorted by `key` with `item` put in its place (replacing the one with the same key).
 * With `limit`, a list that is full keeps its first `limit` items: an item that sorts after
 * all of them is not shown (`shown` false), though it counts.
 */
export function insertSorted<T>(
  items: readonly T[],
  item: T,
  key: (t: T) => string,
  limit?: number
): { items: T[]; added: boolean; shown: boolean } {
  const k = key(item);
  const index = items.findIndex(t => key(t) === k);
  if (index !== -1) {
    const copy = items.slice();
    copy[index] = item;
    return { items: copy, added: false, shown: true };
  }
  const at = items.findIndex(t => key(t) > k);
  const copy = items.slice();
  copy.splice(at === -1 ? copy.length : at, 0, item);
  const shown = limit === undefined || at !== -1 || copy.length <= limit;
  if (limit !== undefined && copy.length > limit) {
    copy.length = limit;
  }
  return { items: copy, added: true, shown };
}

/** How long to wait before try `attempt` + 1 after `attempt` failures in a row: `first`,
 * doubled with each failure, at most `max` (in ms). */
export function backoff(attempt: number, first = 1000, max = 30000): number {
  return Math.min(max, first * 2 ** Math.min(attempt, 30));
}

/** Runs under their job, jobs in the order of their newest run. */
export function groupByJob(runs: readonly IRun[]): Array<[string, IRun[]]> {
  const groups = new Map<string, IRun[]>();
  for (const run of runs) {
    const group = groups.get(run.job);
    if (group) {
      group.push(run);
    } else {
      groups.set(run.job, [run]);
    }
  }
  return [...groups.entries()];
}

/** Merge news of a run into the run we hold: a full run replaces it; a progress event
 * (`{progress, message, records_written, steps}`) updates those fields. News older than what
 * we hold (an action's answer overtaken by the event stream) changes nothing, and a run that
 * has ended never goes back to being in progress. */
export function mergeRun(run: IRun, data: Partial<IRun>): IRun {
  if (FINAL_STATUSES.has(run.status) && data.status && !FINAL_STATUSES.has(data.status)) {
    return run;
  }
  if (
    data.updated_at &&
    run.updated_at &&
    Date.parse(data.updated_at) < Date.parse(run.updated_at)
  ) {
    return run;
  }
  return { ...run, ...data };
}

// ---------------------------------------------------------------------------- the model

/** The least time between two reads of the batch list that news of batches asks for. */
const BATCHES_MIN_INTERVAL = 1000;

/** One section's list as shown. */
export interface IListState<T> {
  items: T[];
  total: number;
  /** False when the server has no such endpoint (404): the section says so. */
  available: boolean;
  error: string | null;
  loaded: boolean;
}

function emptyList<T>(): IListState<T> {
  return { items: [], total: 0, available: true, error: null, loaded: false };
}

/** How the lists are kept live. */
export type LiveMode = 'connecting' | 'events' | 'polling';

export type Section = 'jobs' | 'runs' | 'schedules' | 'batches' | 'workers' | 'apps';

/** The sections an event of the server-wide stream changes: a deleted job takes its runs and
 * schedules with it; a `reset` reads everything again anyway. */
export function sectionsOf(event: string, deleted: boolean): Section[] {
  switch (event) {
    case 'run':
    case 'progress':
      return ['runs'];
    case 'batch':
      return ['batches'];
    case 'schedule':
      return ['schedules'];
    case 'worker':
      return ['workers'];
    case 'app':
      return ['apps'];
    case 'job':
      return deleted ? ['jobs', 'runs', 'schedules'] : ['jobs'];
    default:
      return [];
  }
}

export class JobextModel {
  constructor(
    readonly api: JobextAPI,
    options: { refreshInterval?: number } = {}
  ) {
    this._interval = (options.refreshInterval ?? 5) * 1000;
  }

  /** Emitted whenever anything shown changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with a run whenever news of it arrives (event or poll). */
  get runUpdated(): ISignal<this, IRun> {
    return this._runUpdated;
  }

  /** Emitted once when a run that this tab started reaches a final status. */
  get runEnded(): ISignal<this, IRun> {
    return this._runEnded;
  }

  actions: IActionsTable = FALLBACK_ACTIONS;
  live: LiveMode = 'connecting';
  jobs: IListState<IJob> = emptyList();
  runs: IListState<IRun> = emptyList();
  schedules: IListState<ISchedule> = emptyList();
  /** Each with its sub-job counts, runs running now and lag, which the list read brings (no
   * batch is read on its own). */
  batches: IListState<IBatchListItem> = emptyList();
  workers: IListState<IWorker> = emptyList();
  apps: IListState<IApp> = emptyList();

  jobSearch = '';
  runFilter: IRunFilter = {};
  runsGrouped = false;
  perPage = 50;
  /** A refresh or stream error to show at the top of the panel. */
  error: string | null = null;

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Read the actions table, fill every list and start following the server. */
  async start(): Promise<void> {
    try {
      this.actions = actionsFromOpenAPI(await this.api.openapi());
    } catch {
      this.actions = FALLBACK_ACTIONS;
    }
    // The lists are read once the stream is open: whatever changes after that arrives as an
    // event, so nothing falls between the two.
    const opened = new PromiseDelegate<void>();
    void this._follow(opened);
    await Promise.race([opened.promise, new Promise(resolve => setTimeout(resolve, 3000))]);
    // A stream that opens only after this read (a slow server) did not carry what changed in
    // between: its first opening reads the lists again.
    this._listsRead = true;
    await this.refresh();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._abort.abort();
    this._poll?.dispose();
    clearTimeout(this._batchesTimer ?? undefined);
    this._batchesTimer = null;
    for (const timer of this._retryTimers.values()) {
      clearTimeout(timer);
    }
    this._retryTimers.clear();
    Signal.clearData(this);
  }

  /** Whether the panel is shown: polling stops while it is not (the event stream goes on:
   * a panel that comes into view is current already). */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible && this._poll) {
      void this._poll.refresh();
    }
  }

  setRefreshInterval(seconds: number): void {
    this._interval = Math.max(1, seconds) * 1000;
    if (this._poll) {
      this._poll.frequency = { ...this._poll.frequency, interval: this._interval };
    }
  }

  /** Remember a run this tab started: its end is notified. */
  watch(run: IRun): void {
    this._mine.set(run.id, run.status);
    this._applyRun(run);
  }

  isMine(id: number): boolean {
    return this._mine.has(id);
  }

  async refresh(sections: Section[] = ['jobs', 'runs', 'schedules', 'batches', 'workers', 'apps']) {
    await Promise.all(sections.map(s => this._load(s)));
    this._changed.emit();
  }

  setJobSearch(search: string): Promise<void> {
    this.jobSearch = search;
    return this.refresh(['jobs']);
  }

  setRunFilter(filter: IRunFilter): Promise<void> {
    this.runFilter = filter;
    return this.refresh(['runs']);
  }

  setGrouped(grouped: boolean): void {
    this.runsGrouped = grouped;
    this._changed.emit();
  }

  /** Apply one event of the server-wide stream. */
  applyEvent(event: ISSEvent): void {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!data || typeof data !== 'object') {
      return;
    }
    const deleted = (data as { deleted?: boolean }).deleted === true;
    const id = (data as { id?: string | number }).id;
    const changes = sectionsOf(event.event, deleted);
    for (const read of this._reads) {
      if (changes.includes(read.section)) {
        read.news.push(event);
      }
    }
    switch (event.event) {
      case 'run':
        if (deleted) {
          // Removed (by this tab, another, or retention): it leaves the list at once.
          this.runs = this._without(this.runs, r => r.id === id);
          this._mine.delete(id as number);
        } else {
          this._applyRun(data as IRun);
        }
        break;
      case 'progress': {
        // {id, progress, message, records_written, steps}: news of a run we may be showing.
        const held = this.runs.items.find(r => r.id === id);
        if (held) {
          this._applyRun(mergeRun(held, data as Partial<IRun>));
        }
        break;
      }
      case 'batch':
        if (deleted) {
          this.batches = this._without(this.batches, b => b.id === id);
        } else {
          this.applyBatch(data as IBatch);
        }
        break;
      case 'schedule':
        this.schedules = deleted
          ? this._without(this.schedules, s => s.id === id)
          : this._upsertList(this.schedules, data as ISchedule, s => s.id);
        break;
      case 'worker':
        this.workers = deleted
          ? this._without(this.workers, w => w.id === id)
          : this._upsertList(this.workers, data as IWorker, w => w.id);
        break;
      case 'app':
        this.apps = deleted
          ? this._without(this.apps, a => a.name === (data as { name?: string }).name)
          : this._sorted(this.apps, data as IApp);
        break;
      case 'job':
        if (deleted) {
          this._jobDeleted((data as { name?: string }).name);
        } else {
          this._jobChanged(data as IJob);
        }
        break;
      case 'reset':
        // The server could not replay what we missed: read everything again.
        void this.refresh();
        return;
      default:
        return;
    }
    this._changed.emit();
  }

  /** A batch changed: an event (its row's fields: the counts, runs running and lag it had stay
   * until the list is read again, soon) or a directive's answer (a list item's fields, and a
   * page of sub-jobs that the list does not keep). */
  applyBatch(batch: IBatch | IBatchListItem | IBatchDetail): void {
    const held = this.batches.items.find(b => b.id === batch.id);
    const item: Partial<IBatchDetail> = {
      counts: {},
      concurrent_jobs: 0,
      lag_s: 0,
      ...held,
      ...batch
    };
    delete item.sub_jobs;
    delete item.sub_jobs_page;
    delete item.sub_jobs_per_page;
    delete item.sub_jobs_total;
    this.batches = this._upsertList(this.batches, item as IBatchListItem, b => b.id);
    if (!('counts' in batch)) {
      this._refreshBatchesSoon();
    }
    this._changed.emit();
  }

  /** A run just changed here (an action's answer): show it at once. */
  applyRun(run: IRun): void {
    this._applyRun(run);
    this._changed.emit();
  }

  /** The list less the items that `gone` picks. */
  private _without<T>(list: IListState<T>, gone: (t: T) => boolean): IListState<T> {
    const items = list.items.filter(t => !gone(t));
    if (items.length === list.items.length) {
      return list;
    }
    return { ...list, items, total: list.total - (list.items.length - items.length) };
  }

  /** A job registered or changed: in its place in the (searched, name-sorted) page. */
  private _jobChanged(job: IJob): void {
    const held = this.jobs.items.some(j => j.name === job.name);
    if (!held && !jobMatches(this.jobSearch, job)) {
      return;
    }
    this.jobs = this._sorted(this.jobs, job);
  }

  /** The list (sorted by name) with `item` in its place. */
  private _sorted<T extends { name: string }>(list: IListState<T>, item: T): IListState<T> {
    const { items, added } = insertSorted(list.items, item, t => t.name, this.perPage);
    return { ...list, items, total: list.total + (added ? 1 : 0) };
  }

  /** A job deleted: the server deleted its runs, schedules and batches with it. */
  private _jobDeleted(name: string | undefined): void {
    const before = this.jobs;
    this.jobs = this._without(this.jobs, j => j.name === name);
    this.runs = this._without(this.runs, r => r.job === name);
    this.schedules = this._without(this.schedules, s => s.job === name);
    if (this.jobs !== before && this.jobs.total > this.jobs.items.length) {
      // One page of a longer list: the next job moves up into it.
      void this.refresh(['jobs']);
    }
  }

  private _upsertList<T>(
    list: IListState<T>,
    item: T,
    key: (t: T) => string | number,
    add = true
  ): IListState<T> {
    const { items, added } = upsert(list.items, item, key, { add, limit: this.perPage });
    return { ...list, items, total: list.total + (added ? 1 : 0) };
  }

  private _applyRun(news: IRun): void {
    const held = this.runs.items.find(r => r.id === news.id);
    const run = held ? mergeRun(held, news) : news;
    const matches = runMatches(this.runFilter, run);
    const present = this.runs.items.some(r => r.id === run.id);
    if (matches || present) {
      // A run that no longer matches the filter stays until the next refresh: rows do not
      // jump away under the user's pointer.
      this.runs = this._upsertList(this.runs, run, r => r.id, matches);
    }
    // A run of a listed batch changes its sub-job counts: the list brings them.
    if (run.batch_id !== null && this.batches.items.some(b => b.id === run.batch_id)) {
      this._refreshBatchesSoon();
    }
    this._runUpdated.emit(run);
    const before = this._mine.get(run.id);
    if (before !== undefined && !FINAL_STATUSES.has(before) && FINAL_STATUSES.has(run.status)) {
      this._mine.set(run.id, run.status);
      this._runEnded.emit(run);
    } else if (before !== undefined) {
      this._mine.set(run.id, run.status);
    }
  }

  private async _load(section: Section): Promise<void> {
    const page = { per_page: this.perPage };
    // What the stream says of this section while the list is read: the list, read before
    // some of it happened, would otherwise overwrite it (a job registered meanwhile vanished).
    const read = { section, news: [] as ISSEvent[] };
    this._reads.add(read);
    try {
      switch (section) {
        case 'jobs':
          this.jobs = this._loaded(
            await this.api.listJobs({ ...page, sort: 'name', search: this.jobSearch })
          );
          break;
        case 'runs':
          this.runs = this._loaded(await this.api.listRuns(this.runFilter, page));
          // Open run details hear of what a refresh found (where no event stream told them).
          for (const run of this.runs.items) {
            this._runUpdated.emit(run);
          }
          break;
        case 'schedules':
          this.schedules = this._loaded(await this.api.listSchedules(page));
          break;
        case 'batches': {
          this._batchesReads++;
          this._batchesReadAt = Date.now();
          try {
            this.batches = this._loaded(await this.api.listBatches(page));
            // A batch behind its pace falls further behind with no news of it: read the list
            // again (at most once a second) while one does, so the lag shown stays true.
            if (this.batches.items.some(b => (b.lag_s ?? 0) > 0)) {
              this._batchesAgain = true;
            }
          } finally {
            this._batchesReads--;
            if (this._batchesAgain && !this._batchesReads) {
              this._batchesAgain = false;
              this._refreshBatchesSoon();
            }
          }
          break;
        }
        case 'workers':
          this.workers = this._loaded(await this.api.listWorkers(page));
          break;
        case 'apps':
          this.apps = this._loaded(await this.api.listApps({ ...page, sort: 'name' }));
          break;
      }
    } catch (error) {
      const notAvailable = error instanceof JobextError && error.notAvailable;
      const state = {
        ...this[section],
        loaded: true,
        available: !notAvailable,
        error: notAvailable ? null : errorMessage(error)
      };
      (this as unknown as { [key: string]: unknown })[section] = state;
      if (!notAvailable) {
        this._retrySoon(section);
      }
      return;
    } finally {
      this._reads.delete(read);
    }
    this._failedReads.delete(section);
    for (const event of read.news) {
      this.applyEvent(event);
    }
  }

  /** Read a section again after its read failed, while the event stream is what keeps the
   * lists live (a poll reads them again anyway): after 1 s, then 2, 4… up to 30 s between
   * tries, until one succeeds. Without it, a list whose read failed would stay empty until
   * news of it arrived. */
  private _retrySoon(section: Section): void {
    if (this._disposed || this._retryTimers.has(section)) {
      return;
    }
    const failures = (this._failedReads.get(section) ?? 0) + 1;
    this._failedReads.set(section, failures);
    const delay = backoff(failures - 1);
    const timer = setTimeout(() => {
      this._retryTimers.delete(section);
      if (!this._disposed && !this._poll) {
        void this.refresh([section]);
      }
    }, delay);
    this._retryTimers.set(section, timer);
  }

  /** Read the batch list again soon (their counts or lag changed): one read at a time, at
   * most one a second, however much news of batches and their runs arrives meanwhile. */
  private _refreshBatchesSoon(): void {
    if (this._disposed || this._batchesTimer !== null) {
      return;
    }
    if (this._batchesReads) {
      this._batchesAgain = true;
      return;
    }
    const wait = Math.max(0, this._batchesReadAt + BATCHES_MIN_INTERVAL - Date.now());
    this._batchesTimer = setTimeout(() => {
      this._batchesTimer = null;
      if (this._batchesReads) {
        this._batchesAgain = true;
      } else {
        void this.refresh(['batches']);
      }
    }, wait);
  }

  private _loaded<T>(page: IPage<T>): IListState<T> {
    return { items: page.items, total: page.total, available: true, error: null, loaded: true };
  }

  /** Follow `/events`; fall back to polling where the server has none. */
  private async _follow(opened: PromiseDelegate<void>): Promise<void> {
    let lastEventId = '';
    let failures = 0;
    while (!this._disposed) {
      try {
        lastEventId = await this.api.stream(
          'events',
          {
            onOpen: () => {
              opened.resolve();
              const reconnected = failures > 0;
              const late = !this._streamOpened && this._listsRead;
              this._streamOpened = true;
              failures = 0;
              this.live = 'events';
              this.error = null;
              this._poll?.dispose();
              this._poll = null;
              this._changed.emit();
              if (reconnected || late) {
                void this.refresh();
              }
            },
            onEvent: event => this.applyEvent(event)
          },
          { lastEventId, signal: this._abort.signal }
        );
      } catch (error) {
        opened.resolve();
        if (this._disposed) {
          return;
        }
        if (error instanceof StreamRefused && (error.status === 404 || error.status === 405)) {
          this._startPolling();
          return;
        }
        failures++;
        this.error = `live updates interrupted: ${errorMessage(error)}; retrying`;
        this._startPolling();
      }
      // The server ended the stream (a restart) or it broke: reconnect after a pause.
      const delay = backoff(failures);
      await new Promise(resolve => setTimeout(resolve, delay));
    }
  }

  private _startPolling(): void {
    this.live = 'polling';
    this._changed.emit();
    if (this._poll) {
      return;
    }
    this._poll = new Poll({
      auto: true,
      factory: () => this._pollOnce(),
      frequency: { interval: this._interval, backoff: true, max: 60000 },
      name: 'jobext:lists',
      standby: () => (this._visible ? 'when-hidden' : true)
    });
  }

  private async _pollOnce(): Promise<void> {
    await this.refresh();
    // Runs this tab started that the list (filtered, paged) does not show: ask for each.
    const shown = new Set(this.runs.items.map(r => r.id));
    const open = [...this._mine.entries()].filter(
      ([id, status]) => !FINAL_STATUSES.has(status) && !shown.has(id)
    );
    for (const [id] of open) {
      try {
        this._applyRun(await this.api.getRun(id));
      } catch {
        this._mine.delete(id);
      }
    }
    for (const run of this.runs.items) {
      if (this._mine.has(run.id)) {
        this._applyRun(run);
      }
    }
  }

  private _abort = new AbortController();
  private _changed = new Signal<this, void>(this);
  private _runUpdated = new Signal<this, IRun>(this);
  private _runEnded = new Signal<this, IRun>(this);
  private _disposed = false;
  private _interval: number;
  private _mine = new Map<number, string>();
  private _poll: Poll | null = null;
  private _visible = true;
  private _batchesTimer: ReturnType<typeof setTimeout> | null = null;
  private _batchesReadAt = -Infinity;
  private _batchesReads = 0;
  private _batchesAgain = false;
  private _listsRead = false;
  private _streamOpened = false;
  private _failedReads = new Map<Section, number>();
  private _retryTimers = new Map<Section, ReturnType<typeof setTimeout>>();
  private _reads = new Set<{ section: Section; news: ISSEvent[] }>();
}
