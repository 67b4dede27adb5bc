/**
 * The forms of the panel, each shown in a JupyterLab dialog: register / edit / duplicate a
 * job, run a job with args, create / edit a schedule (with its live preview). A server error
 * reopens the form with what was typed and the server's message and field.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, JobextAPI, JobextError } from './api';
import { browserTimeZone, formatTime, timeZones, zoneAbbreviation } from './format';
import {
  IJobForm,
  IRunForm,
  IScheduleForm,
  jobForm,
  TARGET_HINTS,
  jobInput,
  runArgs,
  runForm,
  scheduleForm,
  scheduleInput
} from './forms';
import { IConnection, IJob, IPreview, ISchedule, JobKind } from './types';

type Render<V> = (value: V, setValue: (v: V) => void) => JSX.Element;

class FormBody<V> extends ReactWidget implements Dialog.IBodyWidget<V> {
  constructor(
    private _value: V,
    private _render: Render<V>,
    private _error: { message: string; field: string | null } | null
  ) {
    super();
    this.addClass('jp-jobext-form');
  }

  getValue(): V {
    return this._value;
  }

  render(): JSX.Element {
    return (
      <>
        {this._error && (
          <div
            className="jp-jobext-error jp-jobext-form-error"
            role="alert"
            data-field={this._error.field ?? ''}
          >
            {this._error.field ? <b>{this._error.field}: </b> : null}
            {this._error.message}
          </div>
        )}
        {this._render(this._value, v => {
          this._value = v;
          this.update();
        })}
      </>
    );
  }
}

/** Show a form until it is cancelled or `submit` succeeds; its result, or null. */
export async function formDialog<V, R>(options: {
  title: string;
  initial: V;
  render: Render<V>;
  submit: (value: V) => Promise<R>;
  ok: string;
  /** The OK button warns (something goes). */
  warn?: boolean;
}): Promise<R | null> {
  let value = options.initial;
  let error: { message: string; field: string | null } | null = null;
  for (;;) {
    const body = new FormBody(value, options.render, error);
    const result = await showDialog<V>({
      title: options.title,
      body,
      buttons: [
        Dialog.cancelButton(),
        options.warn
          ? Dialog.warnButton({ label: options.ok })
          : Dialog.okButton({ label: options.ok })
      ],
      focusNodeSelector: 'input:not([disabled]), textarea, select'
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    value = result.value;
    try {
      return await options.submit(value);
    } catch (e) {
      error =
        e instanceof JobextError
          ? { message: e.message, field: e.field }
          : { message: errorMessage(e), field: null };
    }
  }
}

function Field(props: { label: string; name: string; children: React.ReactNode; hint?: string }) {
  return (
    <label className="jp-jobext-field" data-field={props.name}>
      <span className="jp-jobext-field-label">{props.label}</span>
      {props.children}
      {props.hint && <span className="jp-jobext-hint">{props.hint}</span>}
    </label>
  );
}

// ---------------------------------------------------------------------------- jobs

function JobFormView(props: {
  value: IJobForm;
  setValue: (v: IJobForm) => void;
  editing: boolean;
  connections: IConnection[];
}) {
  const { value, setValue, editing } = props;
  const set = (changes: Partial<IJobForm>) => setValue({ ...value, ...changes });
  return (
    <div className="jp-jobext-fields">
      <Field label="Name" name="name">
        <input
          className="jp-mod-styled"
          name="name"
          value={value.name}
          disabled={editing}
          onChange={e => set({ name: e.target.value })}
        />
      </Field>
      <Field label="Kind" name="kind">
        <select
          className="jp-mod-styled"
          name="kind"
          value={value.kind}
          disabled={editing}
          onChange={e => set({ kind: e.target.value as JobKind })}
        >
          <option value="python">python</option>
          <option value="notebook">notebook</option>
          <option value="query">query</option>
          <option value="shell">shell</option>
        </select>
      </Field>
      <Field label="Target" name="target" hint={TARGET_HINTS[value.kind]}>
        <textarea
          className="jp-mod-styled"
          name="target"
          rows={value.kind === 'query' ? 5 : 1}
          value={value.target}
          onChange={e => set({ target: e.target.value })}
        />
      </Field>
      {value.kind === 'query' && (
        <Field label="Connection" name="connection">
          <select
            className="jp-mod-styled"
            name="connection"
            value={value.connection}
            onChange={e => set({ connection: e.target.value })}
          >
            <option value="">(choose)</option>
            {props.connections.map(c => (
              <option key={c.name} value={c.name}>
                {c.name} ({c.dialect})
              </option>
            ))}
          </select>
        </Field>
      )}
      <Field label="Description" name="description">
        <input
          className="jp-mod-styled"
          name="description"
          value={value.description}
          onChange={e => set({ description: e.target.value })}
        />
      </Field>
      <Field label="Default args (JSON)" name="default_args">
        <textarea
          className="jp-mod-styled"
          name="default_args"
          rows={3}
          value={value.default_args}
          placeholder='{"rows": 10}'
          onChange={e => set({ default_args: e.target.value })}
        />
      </Field>
      <div className="jp-jobext-row">
        <Field label="At once" name="max_concurrent">
          <input
            className="jp-mod-styled"
            name="max_concurrent"
            type="number"
            min={1}
            value={value.max_concurrent}
            onChange={e => set({ max_concurrent: e.target.value })}
          />
        </Field>
        <Field label="Timeout (s)" name="timeout_s">
          <input
            className="jp-mod-styled"
            name="timeout_s"
            type="number"
            min={0}
            value={value.timeout_s}
            onChange={e => set({ timeout_s: e.target.value })}
          />
        </Field>
        <Field label="Retries" name="retries">
          <input
            className="jp-mod-styled"
            name="retries"
            type="number"
            min={0}
            value={value.retries}
            onChange={e => set({ retries: e.target.value })}
          />
        </Field>
      </div>
      <label className="jp-jobext-check">
        <input
          type="checkbox"
          name="queue_when_busy"
          checked={value.queue_when_busy}
          onChange={e => set({ queue_when_busy: e.target.checked })}
        />
        queue runs while busy
      </label>
      <label className="jp-jobext-check">
        <input
          type="checkbox"
          name="restartable"
          checked={value.restartable}
          onChange={e => set({ restartable: e.target.checked })}
        />
        restartable
      </label>
    </div>
  );
}

/** Register a new job (or a copy of `from`), or edit `editing`. */
export async function editJobDialog(
  api: JobextAPI,
  options: { from?: Partial<IJob>; editing?: IJob; title?: string }
): Promise<IJob | null> {
  const editing = options.editing;
  let connections: IConnection[] = [];
  try {
    connections = (await api.connections()).items;
  } catch {
    // an older server: no list to choose from
  }
  return formDialog({
    title: options.title ?? (editing ? `Edit job ${editing.name}` : 'New job'),
    initial: jobForm(editing ?? options.from),
    ok: editing ? 'Save' : 'Register',
    render: (value, setValue) => (
      <JobFormView
        value={value}
        setValue={setValue}
        editing={!!editing}
        connections={connections}
      />
    ),
    submit: form =>
      editing
        ? api.updateJob(editing.name, jobInput(form, true))
        : api.createJob(jobInput(form, false))
  });
}

// ---------------------------------------------------------------------------- running a job

function RunFormView(props: { job: IJob; value: IRunForm; setValue: (v: IRunForm) => void }) {
  const { job, value, setValue } = props;
  return (
    <div className="jp-jobext-fields">
      <div className="jp-jobext-hint">
        {job.kind} · {job.target}
      </div>
      {Object.entries(value.fields).map(([key, text]) => (
        <Field key={key} label={key} name={key}>
          <input
            className="jp-mod-styled"
            name={`arg-${key}`}
            value={text}
            onChange={e =>
              setValue({ ...value, fields: { ...value.fields, [key]: e.target.value } })
            }
          />
        </Field>
      ))}
      <Field
        label={job.kind === 'shell' ? 'Arguments' : 'Args (JSON, over the fields above)'}
        name="args"
      >
        <textarea
          className="jp-mod-styled"
          name="args"
          rows={3}
          value={value.json}
          placeholder={job.kind === 'shell' ? '--verbose input.txt' : '{"key": "value"}'}
          onChange={e => setValue({ ...value, json: e.target.value })}
        />
      </Field>
    </div>
  );
}

/** Ask for a job's args and start a run; the run, or null when cancelled. */
export function runJobDialog(api: JobextAPI, job: IJob) {
  return formDialog({
    title: `Run ${job.name}`,
    initial: runForm(job),
    ok: 'Run',
    render: (value, setValue) => <RunFormView job={job} value={value} setValue={setValue} />,
    submit: form => api.enqueue(job.name, runArgs(job, form))
  });
}

// ---------------------------------------------------------------------------- schedules

/** The next fire times of a cron expression, asked of the server as it is typed. */
export function SchedulePreview(props: { api: JobextAPI; cron: string; timezone: string }) {
  const { api, cron, timezone } = props;
  const [preview, setPreview] = React.useState<IPreview | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      if (!cron.trim()) {
        return;
      }
      api
        .previewSchedule(cron.trim(), timezone, 5)
        .then(p => current && (setPreview(p), setError(null)))
        .catch(e => current && (setPreview(null), setError(errorMessage(e))));
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [cron, timezone]);
  const browser = browserTimeZone();
  if (error) {
    return <div className="jp-jobext-error jp-jobext-preview-error">{error}</div>;
  }
  if (!preview) {
    return <div className="jp-jobext-preview jp-jobext-hint">…</div>;
  }
  return (
    <table className="jp-jobext-preview">
      <thead>
        <tr>
          <th>in {preview.timezone}</th>
          {browser !== preview.timezone && <th>in your zone ({browser})</th>}
        </tr>
      </thead>
      <tbody>
        {preview.fire_times.map(t => (
          <tr key={t} className="jp-jobext-fire-time">
            <td>
              {formatTime(t, preview.timezone)} {zoneAbbreviation(t, preview.timezone)}
            </td>
            {browser !== preview.timezone && (
              <td>
                {formatTime(t, browser)} {zoneAbbreviation(t, browser)}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ScheduleFormView(props: {
  api: JobextAPI;
  jobs: string[];
  value: IScheduleForm;
  setValue: (v: IScheduleForm) => void;
  editing: boolean;
}) {
  const { value, setValue } = props;
  const set = (changes: Partial<IScheduleForm>) => setValue({ ...value, ...changes });
  const zones = React.useMemo(() => timeZones(), []);
  return (
    <div className="jp-jobext-fields">
      <Field label="Job" name="job">
        <select
          className="jp-mod-styled"
          name="job"
          value={value.job}
          disabled={props.editing}
          onChange={e => set({ job: e.target.value })}
        >
          <option value="">(choose)</option>
          {props.jobs.map(j => (
            <option key={j} value={j}>
              {j}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Cron" name="cron" hint="5 fields, @daily, or Quartz with seconds">
        <input
          className="jp-mod-styled"
          name="cron"
          value={value.cron}
          onChange={e => set({ cron: e.target.value })}
        />
      </Field>
      <Field label="Time zone" name="timezone">
        <input
          className="jp-mod-styled"
          name="timezone"
          list="jp-jobext-zones"
          value={value.timezone}
          onChange={e => set({ timezone: e.target.value })}
        />
        <datalist id="jp-jobext-zones">
          {zones.map(z => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </Field>
      <div className="jp-jobext-field">
        <span className="jp-jobext-field-label">Next fire times</span>
        <SchedulePreview api={props.api} cron={value.cron} timezone={value.timezone} />
      </div>
      <Field label="Args (JSON)" name="args">
        <input
          className="jp-mod-styled"
          name="args"
          value={value.args}
          onChange={e => set({ args: e.target.value })}
        />
      </Field>
      <div className="jp-jobext-row">
        <Field label="After downtime" name="misfire">
          <select
            className="jp-mod-styled"
            name="misfire"
            value={value.misfire}
            onChange={e => set({ misfire: e.target.value as IScheduleForm['misfire'] })}
          >
            <option value="skip">skip missed fires</option>
            <option value="once">run once</option>
            <option value="all">run every missed fire</option>
          </select>
        </Field>
        <Field label="While still running" name="overlap">
          <select
            className="jp-mod-styled"
            name="overlap"
            value={value.overlap}
            onChange={e => set({ overlap: e.target.value as IScheduleForm['overlap'] })}
          >
            <option value="forbid">skip the fire</option>
            <option value="allow">run anyway</option>
            <option value="replace">stop the old run</option>
          </select>
        </Field>
      </div>
      <Field label="Description" name="description">
        <input
          className="jp-mod-styled"
          name="description"
          value={value.description}
          onChange={e => set({ description: e.target.value })}
        />
      </Field>
    </div>
  );
}

/** Create a schedule (for `job`, if given) or edit `editing`. */
export async function scheduleDialog(
  api: JobextAPI,
  options: { job?: string; editing?: ISchedule }
): Promise<ISchedule | null> {
  const editing = options.editing;
  let jobs: string[] = [];
  try {
    jobs = (await api.listJobs({ per_page: 1000, sort: 'name' })).items.map(j => j.name);
  } catch {
    jobs = options.job ? [options.job] : [];
  }
  const initial = scheduleForm(editing ?? { job: options.job });
  return formDialog({
    title: editing ? `Edit schedule ${editing.id} of ${editing.job}` : 'New schedule',
    initial,
    ok: editing ? 'Save' : 'Create',
    render: (value, setValue) => (
      <ScheduleFormView
        api={api}
        jobs={jobs}
        value={value}
        setValue={setValue}
        editing={!!editing}
      />
    ),
    submit: form =>
      editing
        ? api.updateSchedule(editing.id, scheduleInput(form, true))
        : api.createSchedule(scheduleInput(form, false))
  });
}

/** Ask before something goes; true when confirmed. */
export async function confirm(title: string, message: string, ok = 'Delete'): Promise<boolean> {
  const result = await showDialog({
    title,
    body: message,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: ok })]
  });
  return result.button.accept;
}
