/** The Schedules section: create / edit with a live preview, pause / resume / delete, fires. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { errorMessage } from '../api';
import { confirm, scheduleDialog } from '../dialogs';
import { formatTime } from '../format';
import { IFire, ISchedule } from '../types';
import { ActionButton, Empty, ErrorLine, NotAvailable } from './common';
import { IPanelContext } from './context';

function Fires(props: { ctx: IPanelContext; schedule: ISchedule }) {
  const [fires, setFires] = React.useState<IFire[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    props.ctx.api
      .scheduleFires(props.schedule.id, { per_page: 20 })
      .then(page => setFires(page.items))
      .catch(e => setError(errorMessage(e)));
  }, [props.schedule.id, props.schedule.last_fire_at]);
  if (error) {
    return <ErrorLine error={error} />;
  }
  if (!fires) {
    return <div className="jp-jobext-hint">…</div>;
  }
  if (!fires.length) {
    return <div className="jp-jobext-hint">It has not fired yet.</div>;
  }
  return (
    <ul className="jp-jobext-fires">
      {fires.map(f => (
        <li key={f.scheduled_for} className={`jp-jobext-fire jp-jobext-outcome-${f.outcome}`}>
          {formatTime(f.scheduled_for)} · {f.outcome}
          {f.run_id !== null && (
            <a href="#" onClick={e => (e.preventDefault(), props.ctx.openRun(f.run_id!))}>
              {' '}
              run #{f.run_id}
            </a>
          )}
          {f.message && <span className="jp-jobext-message"> {f.message}</span>}
        </li>
      ))}
    </ul>
  );
}

function ScheduleRow(props: { ctx: IPanelContext; schedule: ISchedule }) {
  const { ctx, schedule } = props;
  const [open, setOpen] = React.useState(false);
  const act = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (e) {
      Notification.error(`${what}: ${errorMessage(e)}`, { autoClose: 8000 });
    }
    await ctx.model.refresh(['schedules']);
  };
  const next = schedule.next_fire_times[0];
  return (
    <li className="jp-jobext-item jp-jobext-schedule" data-schedule={schedule.id}>
      <div className="jp-jobext-item-head" onClick={() => setOpen(!open)}>
        <span
          className={`jp-jobext-status jp-jobext-status-${schedule.active ? 'active' : 'paused'}`}
        >
          {schedule.active ? 'active' : 'paused'}
        </span>
        <span className="jp-jobext-name">{schedule.job}</span>
        <code className="jp-jobext-cron">{schedule.cron}</code>
        <span className="jp-jobext-spacer" />
        <span className="jp-jobext-next" title={`next fire (your time); zone ${schedule.timezone}`}>
          {next ? formatTime(next) : ''}
        </span>
      </div>
      {open && (
        <div className="jp-jobext-item-body">
          <div className="jp-jobext-hint">
            {schedule.timezone} · misfire {schedule.misfire} · overlap {schedule.overlap}
            {schedule.description ? ` · ${schedule.description}` : ''}
          </div>
          {schedule.next_fire_times.length > 0 && (
            <div className="jp-jobext-hint">
              next:{' '}
              {schedule.next_fire_times
                .slice(0, 3)
                .map(t => formatTime(t, schedule.timezone))
                .join(', ')}{' '}
              ({schedule.timezone})
            </div>
          )}
          <div className="jp-jobext-buttons">
            {schedule.active ? (
              <ActionButton
                label="Pause"
                onClick={() =>
                  void act('Pause', () => ctx.api.setScheduleActive(schedule.id, false))
                }
              />
            ) : (
              <ActionButton
                label="Resume"
                onClick={() =>
                  void act('Resume', () => ctx.api.setScheduleActive(schedule.id, true))
                }
              />
            )}
            <ActionButton
              label="Edit"
              onClick={() =>
                void scheduleDialog(ctx.api, { editing: schedule }).then(
                  s => s && ctx.model.refresh(['schedules'])
                )
              }
            />
            <ActionButton
              label="Delete"
              warn
              onClick={async () => {
                if (
                  await confirm(
                    `Delete schedule ${schedule.id}?`,
                    `The schedule "${schedule.cron}" of ${schedule.job} and its log of fires go; its runs stay.`
                  )
                ) {
                  await act('Delete', () => ctx.api.deleteSchedule(schedule.id));
                }
              }}
            />
          </div>
          <Fires ctx={ctx} schedule={schedule} />
        </div>
      )}
    </li>
  );
}

export function SchedulesSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const list = ctx.model.schedules;
  if (!list.available) {
    return (
      <div className="jp-jobext-section" data-section="schedules">
        <NotAvailable what="Schedules" />
      </div>
    );
  }
  return (
    <div className="jp-jobext-section" data-section="schedules">
      <div className="jp-jobext-toolbar">
        <span className="jp-jobext-spacer" />
        <ActionButton
          label="New schedule"
          name="new-schedule"
          accept
          onClick={() =>
            void scheduleDialog(ctx.api, {}).then(s => s && ctx.model.refresh(['schedules']))
          }
        />
      </div>
      <ErrorLine error={list.error} />
      {list.loaded && list.items.length === 0 && !list.error && <Empty>No schedules.</Empty>}
      <ul className="jp-jobext-list">
        {list.items.map(s => (
          <ScheduleRow key={s.id} ctx={ctx} schedule={s} />
        ))}
      </ul>
    </div>
  );
}
