/**
 * Which controls are enabled: the server's actions table, `(action, from-status)`, read once
 * from the OpenAPI document's top-level `x-jobext-actions` extension:
 *
 *     {"run": {"stop": ["queued", "running", ...], ...}, "batch": {"start": [...], ...}}
 *
 * The panel enables exactly what that table allows and nothing else.
 */

/** action -> the statuses it may be applied in. */
export type ActionMap = { [action: string]: string[] };

/** The table of every resource that has one (`run`, `batch`). */
export interface IActionsTable {
  run: ActionMap;
  batch: ActionMap;
  /** Where the table came from: the server, or the fallback below. */
  source: 'server' | 'fallback';
}

/**
 * FALLBACK, for servers whose OpenAPI document has no `x-jobext-actions` yet. Written from
 * jobext/states.py (TRANSITIONS) and the run manager's checks as of November 2026; it is the
 * ONLY copy of those rules in the panel, and is used only when the server publishes none.
 * Remove it once every supported server publishes the table.
 */
export const FALLBACK_ACTIONS: IActionsTable = {
  run: {
    // queued -> stopped at once; running/pausing/paused -> stopping; stopping: only force.
    stop: ['queued', 'running', 'pausing', 'paused'],
    'force-stop': ['queued', 'running', 'pausing', 'paused', 'stopping'],
    pause: ['running'],
    resume: ['pausing', 'paused'],
    restart: ['failed', 'stopped'],
    remove: ['succeeded', 'failed', 'stopped']
  },
  batch: {
    // DESIGN.md "Batches": no server-side table existed when this was written.
    start: ['created', 'stopped', 'completed', 'failed', 'paused'],
    stop: ['starting', 're-starting', 'running', 'pausing', 'paused'],
    pause: ['starting', 'running'],
    unpause: ['pausing', 'paused']
  },
  source: 'fallback'
};

function isActionMap(value: unknown): value is ActionMap {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  return Object.values(value as object).every(
    v => Array.isArray(v) && v.every(s => typeof s === 'string')
  );
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
  const run = isActionMap(table.run) ? table.run : null;
  const batch = isActionMap(table.batch) ? table.batch : null;
  if (!run && !batch) {
    return FALLBACK_ACTIONS;
  }
  const runMap = run ? { ...run } : FALLBACK_ACTIONS.run;
  // A server that allows `stop` but says nothing of a forced stop: force is allowed wherever a
  // run has not ended (DESIGN.md: "any non-final -> stopped").
  if (run && !('force-stop' in run) && 'stop' in run) {
    const ended = new Set(run.remove ?? ['succeeded', 'failed', 'stopped']);
    const known = new Set(Object.values(run).flat());
    runMap['force-stop'] = [...known, 'stopping'].filter(
      (s, i, all) => !ended.has(s) && all.indexOf(s) === i
    );
  }
  return {
    run: runMap,
    batch: batch ?? FALLBACK_ACTIONS.batch,
    source: 'server'
  };
}

/** True when `action` may be applied to an object of `kind` that is in `status`. */
export function allowed(
  table: IActionsTable,
  kind: 'run' | 'batch',
  action: string,
  status: string
): boolean {
  return (table[kind][action] ?? []).includes(status);
}

/** The actions that `status` allows, in the table's order. */
export function allowedActions(
  table: IActionsTable,
  kind: 'run' | 'batch',
  status: string
): string[] {
  return Object.keys(table[kind]).filter(action => table[kind][action].includes(status));
}
