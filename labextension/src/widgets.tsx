/** The Lumino shells: the side panel with one collapsible section each, and a run's tab. */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { LabIcon, ReactWidget, SidePanel, UseSignal } from '@jupyterlab/ui-components';
import { AccordionPanel } from '@lumino/widgets';
import * as React from 'react';

import { AppsSection } from './components/AppsSection';
import { BatchesSection } from './components/BatchesSection';
import { IPanelContext } from './components/context';
import { JobsSection } from './components/JobsSection';
import { RunDetail } from './components/RunDetail';
import { RunsSection } from './components/RunsSection';
import { SchedulesSection } from './components/SchedulesSection';
import { WorkersSection } from './components/WorkersSection';
import { IRun } from './types';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<path d="M4 4h16v3H4zM4 10.5h10v3H4zM4 17h13v3H4z"/>
<circle cx="19" cy="12" r="2.2"/>
</g></svg>`;

export const jobsIcon = new LabIcon({ name: 'jobext:jobs', svgstr: ICON_SVG });

function section(
  ctx: IPanelContext,
  id: string,
  label: string,
  render: (ctx: IPanelContext) => JSX.Element
): ReactWidget {
  const widget = ReactWidget.create(
    <UseSignal signal={ctx.model.changed}>{() => render(ctx)}</UseSignal>
  );
  widget.id = `jp-jobext-section-${id}`;
  widget.addClass('jp-jobext-section-widget');
  widget.title.label = label;
  return widget;
}

/** The left "Jobs" panel. */
export class JobsPanel extends SidePanel {
  constructor(readonly ctx: IPanelContext) {
    super();
    this.id = 'jp-jobext-panel';
    this.addClass('jp-jobext-panel');
    this.title.icon = jobsIcon;
    this.title.caption = 'Jobs';
    const header = ReactWidget.create(
      <UseSignal signal={ctx.model.changed}>
        {() => (
          <div className="jp-jobext-header">
            <span className="jp-jobext-title">Jobs</span>
            <span
              className={`jp-jobext-livemode jp-jobext-livemode-${ctx.model.live}`}
              title={
                ctx.model.live === 'events'
                  ? 'updated live by the server'
                  : ctx.model.live === 'polling'
                    ? 'this server has no event stream: refreshed periodically'
                    : 'connecting'
              }
            >
              {ctx.model.live === 'events' ? 'live' : ctx.model.live}
            </span>
            {ctx.model.error && <div className="jp-jobext-error">{ctx.model.error}</div>}
          </div>
        )}
      </UseSignal>
    );
    this.header.addWidget(header);
    this.addWidget(section(ctx, 'jobs', 'Jobs', c => <JobsSection ctx={c} />));
    this.addWidget(section(ctx, 'runs', 'Runs', c => <RunsSection ctx={c} />));
    this.addWidget(section(ctx, 'schedules', 'Schedules', c => <SchedulesSection ctx={c} />));
    this.addWidget(section(ctx, 'batches', 'Batches', c => <BatchesSection ctx={c} />));
    this.addWidget(section(ctx, 'workers', 'Workers', c => <WorkersSection ctx={c} />));
    this.addWidget(section(ctx, 'apps', 'Apps', c => <AppsSection ctx={c} />));
    // Runs get the most room, batches, workers and apps the least.
    (this.content as AccordionPanel).setRelativeSizes([3, 5, 2, 1, 1, 1]);
  }

  protected onAfterShow(): void {
    this.ctx.model.setVisible(true);
  }

  protected onAfterHide(): void {
    this.ctx.model.setVisible(false);
  }
}

/** A run's detail as a main-area tab. */
export function createRunWidget(
  ctx: IPanelContext,
  runId: number,
  openNotebook: (run: IRun) => Promise<void>
): MainAreaWidget<ReactWidget> {
  let main: MainAreaWidget<ReactWidget> | null = null;
  const content = ReactWidget.create(
    <RunDetail
      api={ctx.api}
      model={ctx.model}
      runId={runId}
      openRun={ctx.openRun}
      openNotebook={openNotebook}
      onTitle={run => {
        if (main) {
          main.title.label = `${run.job} #${run.id} · ${run.status}`;
        }
      }}
    />
  );
  content.addClass('jp-jobext-detail-widget');
  main = new MainAreaWidget({ content });
  main.id = `jp-jobext-run-${runId}`;
  main.title.label = `Run #${runId}`;
  main.title.icon = jobsIcon;
  main.title.closable = true;
  return main;
}
