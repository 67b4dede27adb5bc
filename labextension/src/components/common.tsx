/** Small pieces every section uses: status badges, progress bars, buttons, messages. */
import * as React from 'react';

export function StatusBadge(props: { status: string }): JSX.Element {
  return (
    <span
      className={`jp-jobext-status jp-jobext-status-${props.status}`}
      data-status={props.status}
    >
      {props.status}
    </span>
  );
}

export function ProgressBar(props: { value: number | null | undefined; label?: string }) {
  if (props.value === null || props.value === undefined) {
    return null;
  }
  const percent = Math.max(0, Math.min(100, props.value * 100));
  return (
    <div
      className="jp-jobext-progress"
      role="progressbar"
      aria-valuenow={Math.round(percent)}
      aria-valuemin={0}
      aria-valuemax={100}
      title={props.label ?? `${Math.round(percent)}%`}
    >
      <div className="jp-jobext-progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

export function ActionButton(props: {
  label: string;
  onClick: () => void;
  disabled?: boolean;
  title?: string;
  accept?: boolean;
  warn?: boolean;
  name?: string;
}): JSX.Element {
  const kind = props.warn ? 'jp-mod-warn' : props.accept ? 'jp-mod-accept' : 'jp-mod-reject';
  return (
    <button
      type="button"
      className={`jp-Button jp-mod-styled jp-jobext-button ${kind}`}
      disabled={props.disabled}
      title={props.title ?? props.label}
      data-action={props.name ?? props.label.toLowerCase()}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      {props.label}
    </button>
  );
}

export function ErrorLine(props: { error: string | null | undefined }) {
  if (!props.error) {
    return null;
  }
  return (
    <div className="jp-jobext-error" role="alert">
      {props.error}
    </div>
  );
}

export function NotAvailable(props: { what: string }): JSX.Element {
  return (
    <div className="jp-jobext-unavailable">{props.what} are not available on this server.</div>
  );
}

export function Empty(props: { children: React.ReactNode }): JSX.Element {
  return <div className="jp-jobext-empty">{props.children}</div>;
}
