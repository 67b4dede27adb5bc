/** The Batches section: status, percent complete, sub-jobs counted by status, failures, lag
 * (all as the batch list gives them), and the four directives the server's actions table
 * allows. */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { allowed } from '../actions';
import { errorMessage } from '../api';
import { formatDuration, orderedCounts } from '../format';
import { IBatchListItem } from '../types';
import { ActionButton, Empty, ErrorLine, NotAvailable, ProgressBar, StatusBadge } from './common';
import { IPanelContext } from './context';

const DIRECTIVES = ['start', 'stop', 'pause', 'unpause'] as const;

function BatchRow(props: { ctx: IPanelContext; batch: IBatchListItem }) {
  const { ctx, batch } = props;
  const lag = batch.lag_s ?? 0;
  const percent = batch.percent_complete;
  return (
    <li className="jp-jobext-item jp-jobext-batch" data-batch={batch.id} data-status={batch.status}>
      <div className="jp-jobext-item-head">
        <StatusBadge status={batch.status} />
        <span className="jp-jobext-name">
          {batch.job} batch #{batch.id}
        </span>
        <span className="jp-jobext-spacer" />
        {percent !== null && percent !== undefined && (
          <span className="jp-jobext-percent">{Math.round(percent)}%</span>
        )}
      </div>
      <ProgressBar value={percent === null || percent === undefined ? null : percent / 100} />
      <div
        className="jp-jobext-counts"
        title={`${batch.concurrent} sub-jobs, by status; ${batch.concurrent_jobs ?? 0} runs running now`}
      >
        {orderedCounts(batch.counts).map(([status, count]) => (
          <span key={status} className="jp-jobext-count" data-status={status}>
            {status} <b>{count}</b>
          </span>
        ))}
        <span className="jp-jobext-count" data-count="failures">
          failures {batch.failures}/{batch.failures_to_ignore}
        </span>
        {lag >= 1 && (
          <span className="jp-jobext-count" data-count="lag" title="behind its pace by">
            lag {formatDuration(lag)}
          </span>
        )}
      </div>
      {batch.error && <div className="jp-jobext-error">{batch.error}</div>}
      <div className="jp-jobext-buttons">
        {DIRECTIVES.map(d => (
          <ActionButton
            key={d}
            label={d[0].toUpperCase() + d.slice(1)}
            name={d}
            disabled={!allowed(ctx.model.actions, 'batch', d, batch.status)}
            onClick={async () => {
              try {
                ctx.model.applyBatch(await ctx.api.batchDirective(batch.id, d));
              } catch (e) {
                Notification.error(`${d} batch ${batch.id}: ${errorMessage(e)}`, {
                  autoClose: 8000
                });
              }
            }}
          />
        ))}
        <ActionButton
          label="Runs"
          onClick={() => void ctx.model.setRunFilter({ batch: batch.id })}
        />
      </div>
    </li>
  );
}

export function BatchesSection(props: { ctx: IPanelContext }): JSX.Element {
  const { ctx } = props;
  const list = ctx.model.batches;
  if (!list.available) {
    return (
      <div className="jp-jobext-section" data-section="batches">
        <NotAvailable what="Batches" />
      </div>
    );
  }
  return (
    <div className="jp-jobext-section" data-section="batches">
      <ErrorLine error={list.error} />
      {list.loaded && list.items.length === 0 && !list.error && <Empty>No batches.</Empty>}
      <ul className="jp-jobext-list">
        {list.items.map(b => (
          <BatchRow key={b.id} ctx={ctx} batch={b} />
        ))}
      </ul>
    </div>
  );
}
