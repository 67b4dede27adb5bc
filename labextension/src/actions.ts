/**
 * Which controls are enabled: the server's actions table, read once from the OpenAPI
 * document's top-level `x-jobext-actions` extension,
 *
 *     {"run": {"stop": {"running": "stopping", ...}, ...}, "batch": {"start": {...}, ...}}
 *
 * (action -> from-status -> the status it leads to; null where the run goes away). The panel
 * enables exactly what that table allows, less the entries that change nothing (`stop` on a
 * run that is already stopping).
 */

/** action -> the statuses it may be applied in. */
export type ActionMap = { [action: string]: string[] };

/** The resources that have an actions table. */
export type ActionKind = 'run' | 'batch' | 'worker';

/** The table of every resource that has one. */
export interface IActionsTable {
  run: ActionMap;
  batch: ActionMap;
  worker: ActionMap;
  /** Where the table came from: the server, or the fallback below. */
  source: 'server' | 'fallback';
}

/**
 * FALLBACK, for servers whose OpenAPI document has no `x-jobext-actions`. Written from
 * jobext/states.py (RUN_ACTIONS, TRANSITIONS, BATCH_ACTIONS) as of December 2026; it is the ONLY copy of
 * those rules in the panel, used only when the server publishes none. Remove it once every
 * supported server publishes the table.
 */
export const FALLBACK_ACTIONS: IActionsTable = {
  run: {
    stop: ['queued', 'running', 'pausing', 'paused'],
    force_stop: ['queued', 'running', 'pausing', 'paused', 'stopping'],
    pause: ['running'],
    resume: ['pausing', 'paused'],
    restart: ['failed', 'stopped'],
    remove: ['succeeded', 'failed', 'stopped']
  },
  batch: {
    // BATCH_ACTIONS: start begins again from any status (re-starting: runs stopped first).
    start: [
      'created',
      'starting',
      'running',
      'pausing',
      'paused',
      'stopping',
      'stopped',
      'completed',
      'failed',
      'invalid'
    ],
    stop: ['starting', 're-starting', 'running', 'pausing', 'paused'],
    pause: ['starting', 'running'],
    unpause: ['pausing', 'paused']
  },
  worker: {
    // WORKER_ACTIONS: JobStreamer's block / unblock; an offline worker takes neither.
    drain: ['ready'],
    resume: ['draining']
  },
  source: 'fallback'
};

/**
 * An action map from the server's JSON: `{action: {from: to}}` (entries whose `to` equals
 * `from` change nothing and enable no button), or `{action: [from, ...]}`. Null when the value
 * has neither shape.
 */
function actionMap(value: unknown): ActionMap | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return null;
  }
  const map: ActionMap = {};
  for (const [action, statuses] of Object.entries(value as object)) {
    if (Array.isArray(statuses) && statuses.every(s => typeof s === 'string')) {
      map[action] = statuses;
    } else if (statuses && typeof statuses === 'object') {
      map[action] = Object.entries(statuses as { [from: string]: unknown })
        .filter(([from, to]) => to !== from)
        .map(([from]) => from);
    } else {
      return null;
    }
  }
  return map;
}

/**
 * The actions table of an OpenAPI document. Each resource the server publishes replaces the
 * fallback's whole entry for it; what it does not publish keeps the fallback.
 */
export function actionsFromOpenAPI(doc: unknown): IActionsTable {
  const raw =
    doc && typeof doc === 'object'
      ? (doc as { [key: string]: unknown })['x-jobext-actions']
      : undefined;
  if (!raw || typeof raw !== 'object') {
    return FALLBACK_ACTIONS;
  }
  const table = raw as { [key: string]: unknown };
  const run = actionMap(table.run);
  const batch = actionMap(table.batch);
  const worker = actionMap(table.worker);
  if (!run && !batch && !worker) {
    return FALLBACK_ACTIONS;
  }
  return {
    run: run ?? FALLBACK_ACTIONS.run,
    batch: batch ?? FALLBACK_ACTIONS.batch,
    worker: worker ?? FALLBACK_ACTIONS.worker,
    source: 'server'
  };
}

/** True when `action` may be applied to an object of `kind` that is in `status`. */
export function allowed(
  table: IActionsTable,
  kind: ActionKind,
  action: string,
  status: string
): boolean {
  return (table[kind][action] ?? []).includes(status);
}

/** The actions that `status` allows, in the table's order. */
export function allowedActions(table: IActionsTable, kind: ActionKind, status: string): string[] {
  return Object.keys(table[kind]).filter(action => table[kind][action].includes(status));
}
