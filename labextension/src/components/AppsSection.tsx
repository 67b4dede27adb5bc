/** The Apps section: jobs deployed from code, with their source, last deployment, the error of
 * a failed redeployment, their jobs; Redeploy and Delete after a confirmation. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { formDialog } from '../dialogs';
import { plural } from '../filters';
import { deploymentSummary, formatShortTime, formatTime } from '../format';
import { IApp } from '../types';
import { ActionButton, Empty, ErrorLine, NotAvailable } from './common';
import { IPanelContext } from './context';

/** Where an app's code is, as shown. */
export function appSource(app: IApp): string {
  return app.module ? `module ${app.module}` : `path ${app.path ?? ''}`;
}

/** The confirmation's body: what the action does, and the choice of deleting runs. */
function ConfirmBody(props: {
  text: string;
  deleteRuns: boolean;
  setDeleteRuns: (on: boolean) => void;
  runsLabel: string;
}) {
  return (
    <div className="jp-jobext-fields">
      <p>{props.text}</p>
      <label className="jp-jobext-check">
        <input
          type="checkbox"
          name="delete-runs"
          checked={props.deleteRuns}
          onChange={e => props.setDeleteRuns(e.target.checked)}
        />
        {props.runsLabel}
      </label>
    </div>
  );
}

export async function redeployApp(ctx: IPanelContext, app: IApp): Promise<void> {
  const done = await formDialog({
    title: `Redeploy ${app.name}?`,
    initial: false,
    ok: 'Redeploy',
    render: (deleteRuns, set) => (
      <ConfirmBody
        text={
          `Its code (${appSource(app)}) is imported again and its jobs brought in line ` +
          'with it: changed jobs are updated, new ones added, and the ones its code no ' +
          'longer declares are deleted with their schedules. A failed import changes nothing.'
        }
        deleteRuns={deleteRuns}
        setDeleteRuns={set}
        runsLabel="Also delete the runs of the jobs that go"
      />
    ),
    submit: deleteRuns => ctx.api.redeployApp(app.name, deleteRuns)
  });
  if (done) {
    ctx.model.applyEvent({ id: '', event: 'app', data: JSON.stringify(done) });
    Notification.success(`Redeployed ${app.name}: ${deploymentSummary(done.changes)}.`, {
      autoClose: 8000
    });
  }
  // A failed attempt left its error on the app.
  await ctx.model.refresh(['apps']);
}

export async function deleteApp(ctx: IPanelContext, app: IApp): Promise<void> {
  const names = app.jobs.map(j => j.name);
  const done = await formDialog({
    title: `Delete app ${app.name}?`,
    initial: false,
    ok: 'Delete',
    warn: true,
    render: (deleteRuns, set) => (
      <ConfirmBody
        text={
          `This deletes app "${app.name}" and its ${plural(names.length, 'job')}` +
          (names.length ? ` (${names.join(', ')})` : '') +
          ' with their schedules and batches. While one of them has runs in progress it is ' +
          'refused: stop them first.'
        }
        deleteRuns={deleteRuns}
        setDeleteRuns={set}
        runsLabel="Also delete their runs, with logs and results (kept otherwise)"
      />
    ),
    submit: async deleteRuns => {
      await ctx.api.deleteApp(app.name, deleteRuns);
      return true;
    }
  });
  if (done) {
    Notification.success(`Deleted app ${app.name} and its ${plural(names.length, 'job')}.`, {
      autoClose: 6000
    });
    await ctx.model.refresh(['apps', 'jobs', 'runs', 'schedules']);
  }
}

function AppRow(props: { ctx: IPanelContext; app: IApp }) {
  const { ctx, app } = props;
  return (
    <li className="jp-jobext-item jp-jobext-app" data-app={app.name}>
      <div className="jp-jobext-item-head">
        <span className="jp-jobext-name" title={`digest ${app.digest}`}>
          {app.name}
        </span>
        <code className="jp-jobext-target" data-field="source" title={app.files.join('\n')}>
          {appSource(app)}
        </code>
      </div>
      <div className="jp-jobext-item-sub" data-field="deployed" title={formatTime(app.deployed_at)}>
        deployed {formatShortTime(app.deployed_at)}
        {app.deployed_by ? ` by ${app.deployed_by}` : ''}
      </div>
      {app.error && (
        <div className="jp-jobext-error" data-field="error">
          redeployment failed{app.error_at ? ` at ${formatShortTime(app.error_at)}` : ''}:{' '}
          {app.error}
        </div>
      )}
      <ul className="jp-jobext-app-jobs">
        {app.jobs.map(job => (
          <li key={job.name} data-job={job.name}>
            <span className="jp-jobext-kind">{job.kind}</span>{' '}
            <a
              href="#"
              title={`${job.target}: show its runs`}
              onClick={e => {
                e.preventDefault();
                void ctx.model.setRunFilter({ job: job.name });
              }}
            >
              {job.name}
            </a>
            {job.schedule && (
              <span className="jp-jobext-hint" data-field="schedule">
                {' '}
                {job.schedule.cron} {job.schedule.timezone}
                {job.schedule.active ? '' : ' (paused)'}
              </span>
            )}
          </li>
        ))}
      </ul>
      <div className="jp-jobext-buttons">
        <ActionButton label="Redeploy" onClick={() => void redeployApp(ctx, app)} />
        <ActionButton label="Delete" warn onClick={() => void deleteApp(ctx, app)} />
      </div>
    </li>
  );
}

export function AppsSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const list = ctx.model.apps;
  if (!list.available) {
    return (
      <div className="jp-jobext-section" data-section="apps">
        <NotAvailable what="Apps" />
      </div>
    );
  }
  return (
    <div className="jp-jobext-section" data-section="apps">
      <ErrorLine error={list.error} />
      {list.loaded && list.items.length === 0 && !list.error && (
        <Empty>No apps: deploy one with POST /apps (see the README, "Apps").</Empty>
      )}
      <ul className="jp-jobext-list">
        {list.items.map(app => (
          <AppRow key={app.name} ctx={ctx} app={app} />
        ))}
      </ul>
      {list.total > list.items.length && (
        <div className="jp-jobext-hint">
          {list.items.length} of {list.total} shown
        </div>
      )}
    </div>
  );
}
