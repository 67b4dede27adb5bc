/** The Jobs section: search, run with args, register, edit, duplicate, delete. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { errorMessage } from '../api';
import { confirm, editJobDialog, runJobDialog, scheduleDialog } from '../dialogs';
import { IJob } from '../types';
import { ActionButton, Empty, ErrorLine } from './common';
import { IPanelContext } from './context';

/** Delete a job after a confirmation that names what goes with it. */
export async function deleteJob(ctx: IPanelContext, job: IJob): Promise<void> {
  let what = 'its runs, their logs and results';
  try {
    const [stats, schedules] = await Promise.all([
      ctx.api.jobStats(job.name),
      ctx.api.listSchedules({ job: job.name, per_page: 1 })
    ]);
    what = `its ${stats.total} run(s) with their logs and results, and its ${schedules.total} schedule(s)`;
  } catch {
    // keep the general wording
  }
  if (!(await confirm(`Delete job ${job.name}?`, `This deletes job "${job.name}" and ${what}.`))) {
    return;
  }
  try {
    await ctx.api.deleteJob(job.name);
  } catch (e) {
    Notification.error(`Could not delete ${job.name}: ${errorMessage(e)}`, { autoClose: 8000 });
  }
  await ctx.model.refresh(['jobs', 'runs', 'schedules']);
}

export async function runJob(ctx: IPanelContext, job: IJob): Promise<void> {
  const run = await runJobDialog(ctx.api, job);
  if (run) {
    ctx.model.watch(run);
    ctx.model.applyRun(run);
    ctx.openRun(run.id);
  }
}

function JobRow(props: { ctx: IPanelContext; job: IJob }) {
  const { ctx, job } = props;
  const [open, setOpen] = React.useState(false);
  // The server refuses to change or delete a job its app's code declares (409).
  const fromApp = `Declared by app ${job.app}: change its code and redeploy the app`;
  return (
    <li className="jp-jobext-item jp-jobext-job" data-job={job.name}>
      <div className="jp-jobext-item-head" onClick={() => setOpen(!open)}>
        <span className="jp-jobext-kind">{job.kind}</span>
        <span className="jp-jobext-name" title={job.description || job.target}>
          {job.name}
        </span>
        {job.app && (
          <span className="jp-jobext-kind" data-field="app" title={`declared by app ${job.app}`}>
            {job.app}
          </span>
        )}
        <span className="jp-jobext-spacer" />
        <ActionButton label="Run" accept onClick={() => void runJob(ctx, job)} />
      </div>
      {open && (
        <div className="jp-jobext-item-body">
          {job.description && <div className="jp-jobext-description">{job.description}</div>}
          <code className="jp-jobext-target">{job.target}</code>
          <div className="jp-jobext-buttons">
            <ActionButton
              label="Edit"
              disabled={!!job.app}
              title={job.app ? fromApp : 'Edit'}
              onClick={() =>
                void editJobDialog(ctx.api, { editing: job }).then(
                  changed => changed && ctx.model.refresh(['jobs'])
                )
              }
            />
            <ActionButton
              label="Duplicate"
              onClick={() =>
                void editJobDialog(ctx.api, {
                  from: { ...job, name: `${job.name}-copy` },
                  title: `Duplicate ${job.name}`
                }).then(created => created && ctx.model.refresh(['jobs']))
              }
            />
            <ActionButton
              label="Schedule"
              onClick={() =>
                void scheduleDialog(ctx.api, { job: job.name }).then(
                  s => s && ctx.model.refresh(['schedules'])
                )
              }
            />
            <ActionButton
              label="Runs"
              title="Show this job's runs"
              onClick={() => void ctx.model.setRunFilter({ ...ctx.model.runFilter, job: job.name })}
            />
            <ActionButton
              label="Delete"
              warn
              disabled={!!job.app}
              title={job.app ? fromApp : 'Delete'}
              onClick={() => void deleteJob(ctx, job)}
            />
          </div>
        </div>
      )}
    </li>
  );
}

export function JobsSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const { model } = ctx;
  const [search, setSearch] = React.useState(model.jobSearch);
  React.useEffect(() => {
    if (search === model.jobSearch) {
      return;
    }
    const timer = setTimeout(() => void model.setJobSearch(search), 250);
    return () => clearTimeout(timer);
  }, [search]);
  const list = model.jobs;
  return (
    <div className="jp-jobext-section" data-section="jobs">
      <div className="jp-jobext-toolbar">
        <input
          className="jp-mod-styled jp-jobext-search"
          placeholder="Search jobs"
          value={search}
          onChange={e => setSearch(e.target.value)}
        />
        <ActionButton
          label="New job"
          name="new-job"
          accept
          onClick={() =>
            void editJobDialog(ctx.api, {}).then(job => job && model.refresh(['jobs']))
          }
        />
      </div>
      <ErrorLine error={list.error} />
      {list.loaded && list.items.length === 0 && !list.error && (
        <Empty>
          {model.jobSearch ? 'No job matches.' : 'No jobs yet: register one with "New job".'}
        </Empty>
      )}
      <ul className="jp-jobext-list">
        {list.items.map(job => (
          <JobRow key={job.name} ctx={ctx} job={job} />
        ))}
      </ul>
      {list.total > list.items.length && (
        <div className="jp-jobext-hint">
          {list.items.length} of {list.total} shown; search to narrow.
        </div>
      )}
    </div>
  );
}
