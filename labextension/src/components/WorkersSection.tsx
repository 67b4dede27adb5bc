/** The Workers section: status, slots in use, CPU and memory, drain / resume. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { errorMessage } from '../api';
import { formatBytes } from '../format';
import { IWorker } from '../types';
import { ActionButton, Empty, ErrorLine, NotAvailable, ProgressBar, StatusBadge } from './common';
import { IPanelContext } from './context';

function num(value: unknown): number | null {
  return typeof value === 'number' && isFinite(value) ? value : null;
}

function WorkerRow(props: { ctx: IPanelContext; worker: IWorker }) {
  const { ctx, worker } = props;
  const slots = num(worker.slots);
  const running =
    num(worker.running) ?? (Array.isArray(worker.running_runs) ? worker.running_runs.length : null);
  const cpu = num(worker.cpu_percent);
  const memory = num(worker.memory_percent);
  const act = async (action: 'drain' | 'resume') => {
    try {
      ctx.model.applyEvent({
        id: '',
        event: 'worker',
        data: JSON.stringify(await ctx.api.workerAction(worker.id, action))
      });
    } catch (e) {
      Notification.error(`${action} ${worker.id}: ${errorMessage(e)}`, { autoClose: 8000 });
    }
  };
  return (
    <li
      className="jp-jobext-item jp-jobext-worker"
      data-worker={worker.id}
      data-status={worker.status}
    >
      <div className="jp-jobext-item-head">
        <StatusBadge status={worker.status} />
        <span className="jp-jobext-name" title={String(worker.host ?? '')}>
          {worker.id}
        </span>
        <span className="jp-jobext-spacer" />
        {slots !== null && (
          <span className="jp-jobext-slots" title="slots in use">
            {running ?? 0}/{slots}
          </span>
        )}
      </div>
      <div className="jp-jobext-meters">
        {cpu !== null && (
          <div className="jp-jobext-meter">
            CPU <ProgressBar value={cpu / 100} label={`CPU ${cpu.toFixed(0)}%`} />
          </div>
        )}
        {memory !== null && (
          <div className="jp-jobext-meter">
            Memory{' '}
            <ProgressBar
              value={memory / 100}
              label={`memory ${memory.toFixed(0)}% ${formatBytes(num(worker.memory_used))}`}
            />
          </div>
        )}
      </div>
      <div className="jp-jobext-buttons">
        <ActionButton
          label="Drain"
          disabled={worker.status === 'draining' || worker.status === 'offline'}
          onClick={() => void act('drain')}
        />
        <ActionButton
          label="Resume"
          disabled={worker.status !== 'draining'}
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
    </div>
  );
}
