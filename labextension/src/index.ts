/**
 * jobext's JupyterLab plugin: the "Jobs" side panel, run details in the main area, commands
 * (palette, launcher, file browser context menu, notebook toolbar) and notifications when a
 * run this tab started ends.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReactWidget } from '@jupyterlab/ui-components';

import { errorMessage, JobextAPI } from './api';
import { IPanelContext } from './components/context';
import { runJob } from './components/JobsSection';
import { saveDownload } from './components/RunDetail';
import { editJobDialog, scheduleDialog } from './dialogs';
import { JobextModel } from './model';
import { IJob, IRun, JobKind } from './types';
import { createRunWidget, JobsPanel, jobsIcon } from './widgets';

const PLUGIN_ID = 'jobext:plugin';

export namespace CommandIDs {
  export const openPanel = 'jobext:open-panel';
  export const openRun = 'jobext:open-run';
  export const newJob = 'jobext:new-job';
  export const newSchedule = 'jobext:new-schedule';
  export const runFile = 'jobext:run-file';
  export const scheduleFile = 'jobext:schedule-file';
  export const runCurrent = 'jobext:run-current';
  export const refresh = 'jobext:refresh';
}

/** The job a file would be run as: a notebook job for .ipynb, a script for .py. */
export function jobForFile(path: string): { name: string; kind: JobKind; target: string } {
  const base = PathExt.basename(path).replace(/\.(ipynb|py)$/, '');
  const name = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'job';
  if (path.endsWith('.ipynb')) {
    return { name, kind: 'notebook', target: path };
  }
  return { name, kind: 'shell', target: `python3 ${JSON.stringify(path)}` };
}

/** The registered job for a file, or (after the user registers it) a new one. */
async function ensureJob(api: JobextAPI, path: string): Promise<IJob | null> {
  const wanted = jobForFile(path);
  try {
    const found = await api.listJobs({ search: path, per_page: 100 });
    const match = found.items.find(j => j.kind === wanted.kind && j.target === wanted.target);
    if (match) {
      return match;
    }
  } catch {
    // fall through: offer to register it
  }
  return editJobDialog(api, { from: wanted, title: `Register ${PathExt.basename(path)} as a job` });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The jobext side panel: jobs, runs, schedules, batches, workers and apps, live.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry, IDefaultFileBrowser, ILauncher],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    fileBrowser: IDefaultFileBrowser | null,
    launcher: ILauncher | null
  ) => {
    const api = new JobextAPI(app.serviceManager.serverSettings);
    const model = new JobextModel(api);
    const tracker = new WidgetTracker<MainAreaWidget<ReactWidget>>({ namespace: 'jobext-run' });
    const { commands, shell } = app;
    let notifyOn = new Set(['succeeded', 'failed', 'stopped']);

    const ctx: IPanelContext = {
      api,
      model,
      openRun: id => void commands.execute(CommandIDs.openRun, { id })
    };

    const openNotebook = async (run: IRun) => {
      const download = await api.downloadResult(run.id);
      const content = JSON.parse(await download.blob.text());
      const dir = 'jobext-results';
      const contents = app.serviceManager.contents;
      try {
        await contents.get(dir, { content: false });
      } catch {
        await contents.save(dir, { type: 'directory' });
      }
      const path = `${dir}/${download.filename}`;
      await contents.save(path, { type: 'notebook', format: 'json', content });
      await commands.execute('docmanager:open', { path });
    };

    const panel = new JobsPanel(ctx);
    shell.add(panel, 'left', { rank: 750 });
    if (restorer) {
      restorer.add(panel, 'jobext-panel');
      void restorer.restore(tracker, {
        command: CommandIDs.openRun,
        args: widget => ({ id: Number(widget.id.replace('jp-jobext-run-', '')) }),
        name: widget => widget.id
      });
    }

    model.runEnded.connect((_, run) => {
      if (!notifyOn.has(run.status)) {
        return;
      }
      const type =
        run.status === 'succeeded' ? 'success' : run.status === 'failed' ? 'error' : 'warning';
      const actions = [{ label: 'Open log', callback: () => ctx.openRun(run.id) }];
      if (run.result) {
        actions.push({
          label: 'Download',
          callback: () =>
            void api
              .downloadResult(run.id)
              .then(saveDownload)
              .catch(e => Notification.error(errorMessage(e)))
        });
      }
      const why = run.status === 'failed' && run.error ? `: ${run.error.split('\n')[0]}` : '';
      Notification.emit(`${run.job} #${run.id} ${run.status}${why}`, type, {
        autoClose: run.status === 'succeeded' ? 6000 : false,
        actions
      });
    });

    commands.addCommand(CommandIDs.openPanel, {
      label: 'Open the Jobs panel',
      caption: 'Jobs, runs, schedules, batches, workers and apps',
      icon: jobsIcon,
      execute: () => shell.activateById(panel.id)
    });

    commands.addCommand(CommandIDs.openRun, {
      label: args => (args.id ? `Open run #${args.id}` : 'Open a run…'),
      execute: async args => {
        let id = Number(args.id);
        if (!id) {
          const { InputDialog } = await import('@jupyterlab/apputils');
          const answer = await InputDialog.getNumber({ title: 'Open run', value: 1 });
          if (!answer.button.accept || !answer.value) {
            return;
          }
          id = answer.value;
        }
        const existing = tracker.find(w => w.id === `jp-jobext-run-${id}`);
        if (existing) {
          shell.activateById(existing.id);
          return existing;
        }
        const widget = createRunWidget(ctx, id, openNotebook);
        void tracker.add(widget);
        shell.add(widget, 'main');
        shell.activateById(widget.id);
        return widget;
      }
    });

    commands.addCommand(CommandIDs.newJob, {
      label: 'New job…',
      caption: 'Register a job (Python callable, notebook, saved query or shell command)',
      icon: jobsIcon,
      execute: async () => {
        shell.activateById(panel.id);
        if (await editJobDialog(api, {})) {
          await model.refresh(['jobs']);
        }
      }
    });

    commands.addCommand(CommandIDs.newSchedule, {
      label: 'New schedule…',
      execute: async () => {
        if (await scheduleDialog(api, {})) {
          await model.refresh(['schedules']);
        }
      }
    });

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh the Jobs panel',
      execute: () => model.refresh()
    });

    const selectedPath = (args: { [key: string]: unknown }): string | null => {
      if (typeof args.path === 'string' && args.path) {
        return args.path;
      }
      const item = fileBrowser?.selectedItems().next();
      return item && !item.done ? item.value.path : null;
    };

    const runPath = async (path: string) => {
      const job = await ensureJob(api, path);
      if (job) {
        await model.refresh(['jobs']);
        await runJob(ctx, job);
      }
    };

    commands.addCommand(CommandIDs.runFile, {
      label: 'Run as job…',
      caption: 'Run this file as a jobext job (registering it first if needed)',
      icon: jobsIcon,
      execute: async args => {
        const path = selectedPath(args);
        if (path) {
          await runPath(path);
        }
      }
    });

    commands.addCommand(CommandIDs.scheduleFile, {
      label: 'Schedule…',
      caption: 'Run this file on a cron schedule',
      execute: async args => {
        const path = selectedPath(args);
        if (!path) {
          return;
        }
        const job = await ensureJob(api, path);
        if (job && (await scheduleDialog(api, { job: job.name }))) {
          await model.refresh(['jobs', 'schedules']);
        }
      }
    });

    commands.addCommand(CommandIDs.runCurrent, {
      label: 'Run as job…',
      caption: 'Run this notebook as a jobext job',
      icon: jobsIcon,
      execute: async () => {
        const current = shell.currentWidget as unknown as { context?: { path?: string } } | null;
        const path = current?.context?.path;
        if (path) {
          await runPath(path);
        }
      }
    });

    if (palette) {
      const category = 'Jobs';
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.newJob,
        CommandIDs.newSchedule,
        CommandIDs.openRun,
        CommandIDs.refresh
      ]) {
        palette.addItem({ command, category });
      }
    }

    if (launcher) {
      launcher.add({ command: CommandIDs.newJob, category: 'Other', rank: 10 });
    }

    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            model.setRefreshInterval((settings.get('refreshInterval').composite as number) ?? 5);
            notifyOn = new Set((settings.get('notifyOn').composite as string[]) ?? []);
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(() => undefined);
    }

    void model.start().catch(e => {
      model.error = errorMessage(e);
    });
  }
};

export default plugin;
