/**
 * A run in the main area: state, progress, steps, args, times, the error's last lines, the
 * log (its last lines, then live from the run's own event stream, resumed with
 * Last-Event-ID; earlier pages on demand), the controls the actions table allows, and the
 * result (download, CSV preview, executed notebook).
 */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { allowed } from '../actions';
import { errorMessage, IDownload, JobextAPI } from '../api';
import { formatBytes, formatDuration, formatTime, parseCsv, tail } from '../format';
import { LOG_PAGE, LOG_TAIL, LogWindow } from '../logs';
import { backoff, JobextModel, mergeRun } from '../model';
import { ISSEvent } from '../sse';
import { FINAL_STATUSES, ILogLine, IRun } from '../types';
import { ActionButton, ErrorLine, ProgressBar, StatusBadge } from './common';

/** Save a downloaded file through the browser (the user's authentication was on the request). */
export function saveDownload(download: IDownload): void {
  const url = URL.createObjectURL(download.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = download.filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

export interface IRunDetailProps {
  api: JobextAPI;
  model: JobextModel;
  runId: number;
  openRun: (id: number) => void;
  openNotebook: (run: IRun) => Promise<void>;
  onTitle: (run: IRun) => void;
}

/** A run's log (its last lines, then what its event stream adds) and its state. */
function useRunStream(api: JobextAPI, runId: number, onRun: (run: IRun) => void) {
  const log = React.useRef(new LogWindow());
  const [version, setVersion] = React.useState(0);
  const [connected, setConnected] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    const abort = new AbortController();
    const lines = new LogWindow();
    log.current = lines;
    let closed = false;
    let pending = false;
    const flush = () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(() => {
          pending = false;
          setVersion(v => v + 1);
        });
      }
    };
    const onEvent = (event: ISSEvent) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (/^\d+$/.test(event.id)) {
        lines.seen(Number(event.id));
      }
      switch (event.event) {
        case 'log':
          lines.append(data as ILogLine);
          flush();
          break;
        case 'state':
        case 'close':
          onRun(data as IRun);
          if (event.event === 'close') {
            closed = true;
          }
          break;
        case 'progress':
          onRun(data as IRun);
          break;
      }
    };
    (async () => {
      try {
        lines.setTail(await api.logTail(runId, LOG_TAIL), LOG_TAIL);
        flush();
      } catch (e) {
        if (abort.signal.aborted) {
          return;
        }
        setError(`log: ${errorMessage(e)}`);
        if ((e as { status?: number }).status === 404) {
          return;
        }
      }
      let failures = 0;
      while (!abort.signal.aborted && !closed) {
        try {
          await api.stream(
            `runs/${runId}/events`,
            {
              onOpen: () => {
                failures = 0;
                setConnected(true);
                setError(null);
              },
              onEvent
            },
            // From the last line of the tail: no line twice, none missed.
            { lastEventId: lines.lastSeq ? String(lines.lastSeq) : '', signal: abort.signal }
          );
        } catch (e) {
          if (abort.signal.aborted) {
            return;
          }
          failures++;
          setError(`log stream: ${errorMessage(e)}`);
          if ((e as { status?: number }).status === 404) {
            return;
          }
        }
        setConnected(false);
        if (!closed) {
          await new Promise(r => setTimeout(r, backoff(failures, 500, 15000)));
        }
      }
    })();
    return () => abort.abort();
  }, [api, runId]);
  const loadEarlier = React.useCallback(async () => {
    const lines = log.current;
    try {
      await lines.loadEarlier((after, limit) => api.logs(runId, after, limit));
      setError(null);
    } catch (e) {
      setError(`log: ${errorMessage(e)}`);
    }
    setVersion(v => v + 1);
  }, [api, runId]);
  return { log: log.current, version, connected, error, loadEarlier };
}

function LogView(props: {
  log: LogWindow;
  version: number;
  live: boolean;
  loadEarlier: () => Promise<void>;
}) {
  const { lines } = props.log;
  const [loading, setLoading] = React.useState(false);
  const box = React.useRef<HTMLDivElement>(null);
  const stick = React.useRef(true);
  // Distance from the bottom to keep while earlier lines are added above.
  const anchor = React.useRef<number | null>(null);
  React.useLayoutEffect(() => {
    const el = box.current;
    if (!el) {
      return;
    }
    if (anchor.current !== null) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [props.version]);
  const loadEarlier = async () => {
    const el = box.current;
    anchor.current = el ? el.scrollHeight - el.scrollTop : null;
    setLoading(true);
    try {
      await props.loadEarlier();
    } finally {
      setLoading(false);
    }
  };
  return (
    <div className="jp-jobext-log-wrap">
      {props.log.earlier && (
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-jobext-load-earlier"
          disabled={loading}
          title={`The log goes back further: show up to ${LOG_PAGE} lines before these`}
          onClick={() => void loadEarlier()}
        >
          {loading ? 'Loading earlier lines…' : 'Load earlier lines'}
        </button>
      )}
      <div
        className="jp-jobext-log"
        ref={box}
        onScroll={() => {
          const el = box.current;
          if (el) {
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 30;
          }
        }}
      >
        {lines.map(line => (
          <div
            key={line.seq}
            className={`jp-jobext-log-line jp-jobext-log-${line.stream ?? 'log'} jp-jobext-level-${line.level ?? ''}`}
            data-seq={line.seq}
          >
            <span className="jp-jobext-log-ts">{formatTime(line.ts).slice(11)}</span>
            <span className="jp-jobext-log-text">{line.text}</span>
          </div>
        ))}
        {lines.length === 0 && (
          <div className="jp-jobext-hint">{props.live ? 'waiting for output…' : 'no output'}</div>
        )}
      </div>
    </div>
  );
}

function CsvPreview(props: { api: JobextAPI; run: IRun }) {
  const [rows, setRows] = React.useState<string[][] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    const size = props.run.result?.size ?? 0;
    props.api
      .resultHead(props.run.id)
      .then(text => setRows(parseCsv(text, 21, size > 0 && size <= 65536)))
      .catch(e => setError(errorMessage(e)));
  }, [props.run.id]);
  if (error) {
    return <ErrorLine error={error} />;
  }
  if (!rows || rows.length === 0) {
    return null;
  }
  const [head, ...body] = rows;
  return (
    <div className="jp-jobext-csv-wrap">
      <table className="jp-jobext-csv">
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="jp-jobext-hint">first {body.length} rows</div>
    </div>
  );
}

/** A worker's name where the Workers section knows it (runs name their worker by id). */
function workerName(model: JobextModel, id: string): string {
  return model.workers.items.find(w => w.id === id)?.name ?? id;
}

function isCsv(run: IRun): boolean {
  const result = run.result;
  return !!result && (/csv/.test(result.media_type ?? '') || result.filename.endsWith('.csv'));
}

export function RunDetail(props: IRunDetailProps): JSX.Element {
  const { api, model, runId } = props;
  const [run, setRun] = React.useState<IRun | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const update = React.useCallback(
    (data: IRun) => {
      setRun(current => {
        const next = current ? mergeRun(current, data) : data.id ? data : current;
        if (next && data.id) {
          props.onTitle(next);
        }
        return next;
      });
    },
    [runId]
  );
  React.useEffect(() => {
    api
      .getRun(runId)
      .then(r => (update(r), setError(null)))
      .catch(e => setError(errorMessage(e)));
    const onModel = (_: JobextModel, r: IRun) => r.id === runId && update(r);
    model.runUpdated.connect(onModel);
    return () => {
      model.runUpdated.disconnect(onModel);
    };
  }, [runId]);
  // The detail's own stream also keeps the panel's lists current (and notifies the end of a
  // run this tab started) on servers without the server-wide stream.
  const stream = useRunStream(api, runId, data => {
    update(data);
    if (data.id === runId && data.status) {
      model.applyRun(data);
    }
  });

  if (!run) {
    return (
      <div className="jp-jobext-detail">
        <ErrorLine error={error} />
        {!error && <div className="jp-jobext-hint">loading run {runId}…</div>}
      </div>
    );
  }
  const table = model.actions;
  const can = (action: string) => allowed(table, 'run', action, run.status);
  const act = async (what: string, call: () => Promise<IRun | void>) => {
    setBusy(true);
    try {
      const result = await call();
      if (result && result.id === run.id) {
        update(result);
        model.applyRun(result);
      } else if (result) {
        model.watch(result);
        model.applyRun(result);
        props.openRun(result.id);
      }
      setError(null);
    } catch (e) {
      setError(`${what}: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const download = async (format?: string) => {
    try {
      saveDownload(await api.downloadResult(run.id, format));
    } catch (e) {
      Notification.error(`Download of run ${run.id}: ${errorMessage(e)}`, { autoClose: 8000 });
    }
  };
  const final = FINAL_STATUSES.has(run.status);
  const argsText =
    run.args === null || run.args === undefined ? '' : JSON.stringify(run.args, null, 2);
  return (
    <div className="jp-jobext-detail" data-run={run.id} data-status={run.status}>
      <div className="jp-jobext-detail-head">
        <StatusBadge status={run.status} />
        <h2>
          {run.job} <span className="jp-jobext-runid">#{run.id}</span>
        </h2>
        <span className="jp-jobext-hint">
          {run.kind} · {run.trigger}
          {run.user ? ` by ${run.user}` : ''}
          {run.attempt > 1 ? ` · attempt ${run.attempt}` : ''}
          {run.worker ? ` · on ${workerName(model, run.worker)}` : ''}
        </span>
        <span className="jp-jobext-spacer" />
        <span className={`jp-jobext-live ${stream.connected ? 'jp-mod-live' : ''}`}>
          {stream.connected ? '● live' : final ? '' : '○ reconnecting'}
        </span>
      </div>
      <div className="jp-jobext-buttons jp-jobext-controls">
        <ActionButton
          label="Stop"
          disabled={busy || !can('stop')}
          onClick={() => void act('stop', () => api.runAction(run.id, 'stop'))}
        />
        <ActionButton
          label="Force stop"
          name="force-stop"
          warn
          disabled={busy || !can('force_stop')}
          title="Mark it stopped at once and kill its process"
          onClick={() => void act('force stop', () => api.runAction(run.id, 'stop', true))}
        />
        <ActionButton
          label="Pause"
          disabled={busy || !can('pause')}
          onClick={() => void act('pause', () => api.runAction(run.id, 'pause'))}
        />
        <ActionButton
          label="Resume"
          disabled={busy || !can('resume')}
          onClick={() => void act('resume', () => api.runAction(run.id, 'resume'))}
        />
        <ActionButton
          label="Restart"
          disabled={busy || !can('restart')}
          onClick={() => void act('restart', () => api.restartRun(run.id))}
        />
        <ActionButton
          label="Remove"
          warn
          disabled={busy || !can('remove')}
          onClick={() =>
            void act('remove', () => api.removeRun(run.id)).then(() => void model.refresh(['runs']))
          }
        />
      </div>
      <ErrorLine error={error} />
      {(run.progress !== null || run.message) && (
        <div className="jp-jobext-detail-progress">
          <ProgressBar value={run.progress} />
          <span className="jp-jobext-message">
            {run.progress !== null ? `${Math.round(run.progress * 100)}% ` : ''}
            {run.message ?? ''}
          </span>
        </div>
      )}
      <table className="jp-jobext-facts">
        <tbody>
          <tr>
            <th>created</th>
            <td>{formatTime(run.created_at)}</td>
            <th>started</th>
            <td>{formatTime(run.started_at)}</td>
          </tr>
          <tr>
            <th>ended</th>
            <td data-fact="ended">{formatTime(run.ended_at)}</td>
            <th>duration</th>
            <td data-fact="duration">{formatDuration(run.duration_s)}</td>
          </tr>
          {(run.records_written !== null || run.exit_code !== null) && (
            <tr>
              <th>records</th>
              <td>{run.records_written ?? ''}</td>
              <th>exit code</th>
              <td>{run.exit_code ?? ''}</td>
            </tr>
          )}
          {(run.restarted_from || run.restarted_as || run.scheduled_for) && (
            <tr>
              <th>related</th>
              <td colSpan={3}>
                {run.restarted_from && (
                  <a
                    href="#"
                    onClick={e => (e.preventDefault(), props.openRun(run.restarted_from!))}
                  >
                    restarted from #{run.restarted_from}{' '}
                  </a>
                )}
                {run.restarted_as && (
                  <a href="#" onClick={e => (e.preventDefault(), props.openRun(run.restarted_as!))}>
                    restarted as #{run.restarted_as}{' '}
                  </a>
                )}
                {run.scheduled_for && `scheduled for ${formatTime(run.scheduled_for)}`}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {argsText && (
        <details className="jp-jobext-args">
          <summary>args</summary>
          <pre>{argsText}</pre>
        </details>
      )}
      {run.steps.length > 0 && (
        <ol className="jp-jobext-steps">
          {run.steps.map((s, i) => (
            <li key={i} data-status={s.status}>
              <StatusBadge status={s.status} /> {s.name}
              {s.started_at && s.ended_at && (
                <span className="jp-jobext-hint">
                  {' '}
                  {formatDuration((Date.parse(s.ended_at) - Date.parse(s.started_at)) / 1000)}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {run.error && (
        <div className="jp-jobext-run-error">
          <div className="jp-jobext-error">{run.error.split('\n')[0]}</div>
          {run.error.includes('\n') && <pre>{tail(run.error, 15)}</pre>}
        </div>
      )}
      {run.result && (
        <div className="jp-jobext-result">
          <span>
            Result <b>{run.result.filename}</b> {formatBytes(run.result.size)}
          </span>
          <ActionButton label="Download" accept name="download" onClick={() => void download()} />
          {run.kind === 'notebook' && (
            <>
              <ActionButton
                label="Download HTML"
                name="download-html"
                onClick={() => void download('html')}
              />
              <ActionButton
                label="Open executed notebook"
                name="open-notebook"
                onClick={() => void props.openNotebook(run).catch(e => setError(errorMessage(e)))}
              />
            </>
          )}
          {isCsv(run) && <CsvPreview api={api} run={run} />}
        </div>
      )}
      <h3 className="jp-jobext-log-title">Log</h3>
      <ErrorLine error={stream.error} />
      <LogView
        log={stream.log}
        version={stream.version}
        live={!final}
        loadEarlier={stream.loadEarlier}
      />
    </div>
  );
}
