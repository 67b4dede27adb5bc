/** The Workers section: where runs execute, with their status, slots in use, CPU and memory,
 * last heartbeat, and drain / resume as the server's actions table allows. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { allowed } from '../actions';
import { errorMessage } from '../api';
import { formatBytes, formatShortTime, formatTime, hostMeters } from '../format';
import { IWorker } from '../types';
import { ActionButton, Empty, ErrorLine, NotAvailable, ProgressBar, StatusBadge } from './common';
import { IPanelContext } from './context';

function WorkerRow(props: { ctx: IPanelContext; worker: IWorker }) {
  const { ctx, worker } = props;
  const { cpu, cpuOwn, memoryUsed, memoryTotal } = hostMeters(worker.stats);
  const offline = worker.status === 'offline';
  const act = async (action: 'drain' | 'resume') => {
    try {
      ctx.model.applyEvent({
        id: '',
        event: 'worker',
        data: JSON.stringify(await ctx.api.workerAction(worker.id, action))
      });
    } catch (e) {
      Notification.error(`${action} ${worker.name}: ${errorMessage(e)}`, { autoClose: 8000 });
    }
  };
  const system = [worker.os_name, worker.os_version, worker.cpu_arch].filter(Boolean).join(' ');
  const cores = worker.cpu_cores ? `, ${worker.cpu_cores} cores` : '';
  return (
    <li
      className="jp-jobext-item jp-jobext-worker"
      data-worker={worker.id}
      data-status={worker.status}
    >
      <div className="jp-jobext-item-head">
        <StatusBadge status={worker.status} />
        <span className="jp-jobext-name" title={`${worker.name} (${worker.id})`}>
          {worker.name}
        </span>
        <span className="jp-jobext-kind" data-field="kind">
          {worker.kind}
        </span>
        <span className="jp-jobext-spacer" />
        <span
          className="jp-jobext-slots"
          title={`runs in progress of ${worker.slots} it runs at once${
            worker.runs.length ? `: ${worker.runs.map(id => '#' + id).join(', ')}` : ''
          }`}
        >
          {worker.running}/{worker.slots}
        </span>
      </div>
      <div className="jp-jobext-item-sub">
        <span
          data-field="host"
          title={`${system}${cores}${worker.pid ? `, pid ${worker.pid}` : ''}`}
        >
          {worker.host}
        </span>
        {' · '}
        <span data-field="last-seen" title={formatTime(worker.last_seen)}>
          {offline && worker.offline_at
            ? `offline since ${formatShortTime(worker.offline_at)}`
            : `seen ${formatShortTime(worker.last_seen)}`}
        </span>
      </div>
      {!offline && (cpu !== null || memoryUsed !== null) && (
        <div className="jp-jobext-meters">
          {cpu !== null && (
            <div className="jp-jobext-meter" data-meter="cpu">
              <span className="jp-jobext-meter-label">CPU {Math.round(cpu * 100)}%</span>
              <ProgressBar
                value={cpu}
                label={`CPU: ${Math.round(cpu * 100)}% of all cores busy${
                  cpuOwn !== null ? `, ${Math.round(cpuOwn * 100)}% by this worker's processes` : ''
                }`}
              />
            </div>
          )}
          {memoryUsed !== null && memoryTotal !== null && (
            <div className="jp-jobext-meter" data-meter="memory">
              <span className="jp-jobext-meter-label">
                Mem {Math.round((memoryUsed / memoryTotal) * 100)}%
              </span>
              <ProgressBar
                value={memoryUsed / memoryTotal}
                label={`memory: ${formatBytes(memoryUsed)} of ${formatBytes(memoryTotal)} in use`}
              />
            </div>
          )}
        </div>
      )}
      <div className="jp-jobext-buttons">
        <ActionButton
          label="Drain"
          title="Start no new run here; the runs in progress finish"
          disabled={!allowed(ctx.model.actions, 'worker', 'drain', worker.status)}
          onClick={() => void act('drain')}
        />
        <ActionButton
          label="Resume"
          title="Take new runs again"
          disabled={!allowed(ctx.model.actions, 'worker', 'resume', worker.status)}
          onClick={() => void act('resume')}
        />
      </div>
    </li>
  );
}

export function WorkersSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const list = ctx.model.workers;
  if (!list.available) {
    return (
      <div className="jp-jobext-section" data-section="workers">
        <NotAvailable what="Workers" />
      </div>
    );
  }
  return (
    <div className="jp-jobext-section" data-section="workers">
      <ErrorLine error={list.error} />
      {list.loaded && list.items.length === 0 && !list.error && <Empty>No workers.</Empty>}
      <ul className="jp-jobext-list">
        {list.items.map(w => (
          <WorkerRow key={w.id} ctx={ctx} worker={w} />
        ))}
      </ul>
      {list.total > list.items.length && (
        <div className="jp-jobext-hint">
          newest {list.items.length} of {list.total}
        </div>
      )}
    </div>
  );
}
