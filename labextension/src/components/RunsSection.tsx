/** The Runs section: filters, live status and progress, grouped or flat, bulk stop / remove,
 * and "clear finished" (the server removes what the filter matches, not just the page shown). */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { allowed } from '../actions';
import { errorMessage } from '../api';
import { confirm } from '../dialogs';
import { clearedMessage, clearFinishedFilter, describeRunFilter, plural } from '../filters';
import { groupByJob } from '../model';
import { formatDuration, formatShortTime } from '../format';
import { FINAL_STATUSES, IRun, IRunFilter } from '../types';
import { ActionButton, Empty, ErrorLine, ProgressBar, StatusBadge } from './common';
import { IPanelContext } from './context';

const STATUS_CHOICES: Array<[string, string]> = [
  ['', 'any status'],
  ['IN_PROGRESS', 'in progress'],
  ['queued', 'queued'],
  ['running', 'running'],
  ['paused', 'paused'],
  ['succeeded', 'succeeded'],
  ['failed', 'failed'],
  ['stopped', 'stopped'],
  ['FINISHED', 'finished']
];

/**
 * Remove the finished runs that the current filter matches (of `job` only, when given) with
 * `DELETE /runs`, after a confirmation that says which and how many; then say what went and
 * what stayed.
 */
export async function clearFinished(ctx: IPanelContext, job?: string): Promise<void> {
  const filter = clearFinishedFilter(ctx.model.runFilter, job);
  if (!filter) {
    return;
  }
  const what = describeRunFilter(filter);
  let matching: number | null = null;
  try {
    matching = (await ctx.api.listRuns(filter, { per_page: 1 })).total;
  } catch {
    // ask without the count
  }
  if (matching === 0) {
    Notification.info(`There are no ${what} to remove.`, { autoClose: 5000 });
    return;
  }
  const count = matching === null ? 'These runs' : plural(matching, 'run');
  const confirmed = await confirm(
    job ? `Clear the finished runs of ${job}?` : 'Clear the finished runs?',
    `${count} go with their logs and results: the ${what} (all of them, not only those ` +
      'shown here). Runs in progress stay, and so do runs of batches (they go with their batch).',
    'Remove'
  );
  if (!confirmed) {
    return;
  }
  try {
    Notification.success(clearedMessage(await ctx.api.deleteRuns(filter)), { autoClose: 8000 });
  } catch (e) {
    Notification.error(`Clear finished: ${errorMessage(e)}`, { autoClose: 10000 });
  }
  await ctx.model.refresh(['runs']);
}

function RunRow(props: {
  ctx: IPanelContext;
  run: IRun;
  selected: boolean;
  onSelect: (selected: boolean) => void;
  showJob: boolean;
}) {
  const { ctx, run } = props;
  const inProgress = !FINAL_STATUSES.has(run.status);
  return (
    <li
      className="jp-jobext-item jp-jobext-run"
      data-run={run.id}
      data-status={run.status}
      onClick={() => ctx.openRun(run.id)}
      title={run.message ?? run.error ?? ''}
    >
      <div className="jp-jobext-item-head">
        <input
          type="checkbox"
          checked={props.selected}
          aria-label={`select run ${run.id}`}
          onClick={e => e.stopPropagation()}
          onChange={e => props.onSelect(e.target.checked)}
        />
        <StatusBadge status={run.status} />
        <span className="jp-jobext-name">{props.showJob ? run.job : `#${run.id}`}</span>
        <span className="jp-jobext-duration">{formatDuration(run.duration_s)}</span>
      </div>
      {inProgress && run.progress !== null ? (
        <div className="jp-jobext-item-sub">
          <ProgressBar value={run.progress} label={run.message ?? undefined} />
          {run.message && <span className="jp-jobext-message">{run.message}</span>}
        </div>
      ) : (
        <div className="jp-jobext-item-sub">
          {props.showJob ? `#${run.id}` : ''}
          {run.trigger !== 'manual' ? ` · ${run.trigger}` : ''}
          {run.ended_at ? ` · ended ${formatShortTime(run.ended_at)}` : ''}
          {!run.ended_at && run.started_at ? ` · started ${formatShortTime(run.started_at)}` : ''}
        </div>
      )}
    </li>
  );
}

function Filters(props: { ctx: IPanelContext }) {
  const { model } = props.ctx;
  const filter = model.runFilter;
  const set = (changes: Partial<IRunFilter>) => {
    const next: IRunFilter = { ...filter, ...changes };
    for (const key of Object.keys(next) as Array<keyof IRunFilter>) {
      if (next[key] === '' || next[key] === undefined) {
        delete next[key];
      }
    }
    void model.setRunFilter(next);
  };
  return (
    <div className="jp-jobext-filters">
      <select
        className="jp-mod-styled"
        name="filter-job"
        value={filter.job ?? ''}
        onChange={e => set({ job: e.target.value })}
        aria-label="job"
      >
        <option value="">all jobs</option>
        {model.jobs.items.map(j => (
          <option key={j.name} value={j.name}>
            {j.name}
          </option>
        ))}
        {filter.job && !model.jobs.items.some(j => j.name === filter.job) && (
          <option value={filter.job}>{filter.job}</option>
        )}
      </select>
      <select
        className="jp-mod-styled"
        name="filter-status"
        value={filter.status ?? ''}
        onChange={e => set({ status: e.target.value })}
        aria-label="status"
      >
        {STATUS_CHOICES.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <input
        className="jp-mod-styled"
        type="date"
        name="filter-from"
        title="created on or after (UTC)"
        value={filter.from ?? ''}
        onChange={e => set({ from: e.target.value })}
      />
      <input
        className="jp-mod-styled"
        type="date"
        name="filter-to"
        title="created before the end of (UTC)"
        value={filter.to ? filter.to.slice(0, 10) : ''}
        onChange={e => set({ to: e.target.value ? `${e.target.value}T23:59:59Z` : '' })}
      />
    </div>
  );
}

export function RunsSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const { model, api } = ctx;
  const [selected, setSelected] = React.useState<Set<number>>(new Set());
  const list = model.runs;
  const runs = list.items;
  const chosen = runs.filter(r => selected.has(r.id));
  const table = model.actions;
  const stoppable = chosen.filter(r => allowed(table, 'run', 'stop', r.status));
  const removable = chosen.filter(r => allowed(table, 'run', 'remove', r.status));
  // Nothing finished can match a filter of runs in progress, nor an empty list.
  const clearable = clearFinishedFilter(model.runFilter) !== null && list.total > 0;

  const select = (id: number, on: boolean) => {
    const next = new Set(selected);
    if (on) {
      next.add(id);
    } else {
      next.delete(id);
    }
    setSelected(next);
  };

  const apply = async (what: string, targets: IRun[], act: (r: IRun) => Promise<unknown>) => {
    const failures: string[] = [];
    for (const run of targets) {
      try {
        await act(run);
      } catch (e) {
        failures.push(`#${run.id}: ${errorMessage(e)}`);
      }
    }
    if (failures.length) {
      Notification.error(`${what} failed for ${failures.join('; ')}`, { autoClose: 10000 });
    }
    setSelected(new Set());
    await model.refresh(['runs']);
  };

  const row = (run: IRun, showJob: boolean) => (
    <RunRow
      key={run.id}
      ctx={ctx}
      run={run}
      showJob={showJob}
      selected={selected.has(run.id)}
      onSelect={on => select(run.id, on)}
    />
  );

  return (
    <div className="jp-jobext-section" data-section="runs">
      <Filters ctx={ctx} />
      <div className="jp-jobext-toolbar">
        <label className="jp-jobext-check">
          <input
            type="checkbox"
            name="grouped"
            checked={model.runsGrouped}
            onChange={e => model.setGrouped(e.target.checked)}
          />
          by job
        </label>
        <span className="jp-jobext-spacer" />
        <ActionButton
          label="Clear finished"
          name="clear-finished"
          disabled={!clearable}
          title="Remove every finished run this filter matches, with their logs and results"
          onClick={() => void clearFinished(ctx)}
        />
      </div>
      {chosen.length > 0 && (
        <div className="jp-jobext-toolbar jp-jobext-selection">
          <span className="jp-jobext-hint">{chosen.length} selected</span>
          <span className="jp-jobext-spacer" />
          <ActionButton
            label={`Stop${stoppable.length ? ` (${stoppable.length})` : ''}`}
            name="stop-selected"
            disabled={stoppable.length === 0}
            onClick={() => void apply('Stop', stoppable, r => api.runAction(r.id, 'stop'))}
          />
          <ActionButton
            label={`Remove${removable.length ? ` (${removable.length})` : ''}`}
            name="remove-selected"
            warn
            disabled={removable.length === 0}
            onClick={async () => {
              if (
                await confirm(
                  `Remove ${removable.length} run(s)?`,
                  `Runs ${removable.map(r => '#' + r.id).join(', ')} go with their logs and results.`,
                  'Remove'
                )
              ) {
                await apply('Remove', removable, r => api.removeRun(r.id));
              }
            }}
          />
          <ActionButton
            label="Clear selection"
            name="unselect"
            onClick={() => setSelected(new Set())}
          />
        </div>
      )}
      <ErrorLine error={list.error} />
      {list.loaded && runs.length === 0 && !list.error && <Empty>No runs.</Empty>}
      {model.runsGrouped ? (
        groupByJob(runs).map(([job, group]) => (
          <div key={job} className="jp-jobext-group" data-group={job}>
            <div className="jp-jobext-group-head">
              {job} <span className="jp-jobext-count">{group.length}</span>
              <span className="jp-jobext-spacer" />
              <ActionButton
                label="Clear finished"
                name="clear-finished-job"
                disabled={!clearable}
                title={`Remove every finished run of ${job} this filter matches`}
                onClick={() => void clearFinished(ctx, job)}
              />
            </div>
            <ul className="jp-jobext-list">{group.map(r => row(r, false))}</ul>
          </div>
        ))
      ) : (
        <ul className="jp-jobext-list">{runs.map(r => row(r, true))}</ul>
      )}
      {list.total > runs.length && (
        <div className="jp-jobext-hint">
          newest {runs.length} of {list.total}; filter to find older runs
        </div>
      )}
    </div>
  );
}
