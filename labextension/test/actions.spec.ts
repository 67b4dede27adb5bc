import { describe, expect, it } from 'vitest';

import { actionsFromOpenAPI, allowed, allowedActions, FALLBACK_ACTIONS } from '../src/actions';

describe('the actions table', () => {
  it('falls back where the server publishes none', () => {
    expect(actionsFromOpenAPI({ openapi: '3.1.0' })).toBe(FALLBACK_ACTIONS);
    expect(actionsFromOpenAPI(null)).toBe(FALLBACK_ACTIONS);
    expect(actionsFromOpenAPI({ 'x-jobext-actions': { run: { stop: 'running' } } })).toBe(
      FALLBACK_ACTIONS
    );
  });

  it('the fallback follows the run state machine', () => {
    const t = FALLBACK_ACTIONS;
    expect(allowedActions(t, 'run', 'running')).toEqual(['stop', 'force_stop', 'pause']);
    expect(allowedActions(t, 'run', 'paused')).toEqual(['stop', 'force_stop', 'resume']);
    expect(allowedActions(t, 'run', 'stopping')).toEqual(['force_stop']);
    expect(allowedActions(t, 'run', 'failed')).toEqual(['restart', 'remove']);
    expect(allowedActions(t, 'run', 'succeeded')).toEqual(['remove']);
    expect(allowed(t, 'run', 'remove', 'running')).toBe(false);
  });

  it("uses exactly the server's table where it publishes one", () => {
    // the shape jobext/states.py publishes: action -> from-status -> to-status
    const table = actionsFromOpenAPI({
      'x-jobext-actions': {
        run: {
          stop: { running: 'stopping', stopping: 'stopping' },
          force_stop: { running: 'stopped', stopping: 'stopped' },
          remove: { succeeded: null, failed: null, stopped: null }
        },
        batch: { start: { created: 'starting' }, stop: { running: 'stopped' } }
      }
    });
    expect(table.source).toBe('server');
    expect(allowed(table, 'run', 'pause', 'running')).toBe(false);
    expect(allowed(table, 'run', 'stop', 'queued')).toBe(false);
    expect(allowed(table, 'run', 'stop', 'running')).toBe(true);
    // an entry that changes nothing enables no button
    expect(allowed(table, 'run', 'stop', 'stopping')).toBe(false);
    expect(allowed(table, 'run', 'force_stop', 'stopping')).toBe(true);
    expect(allowedActions(table, 'run', 'failed')).toEqual(['remove']);
    expect(allowed(table, 'batch', 'unpause', 'paused')).toBe(false);
  });

  it('also reads a table given as lists of from-statuses', () => {
    const table = actionsFromOpenAPI({ 'x-jobext-actions': { run: { stop: ['running'] } } });
    expect(allowed(table, 'run', 'stop', 'running')).toBe(true);
  });

  it("reads the workers' table (drain, resume) as the server publishes it", () => {
    const table = actionsFromOpenAPI({
      'x-jobext-actions': {
        worker: {
          drain: { ready: 'draining', draining: 'draining' },
          resume: { draining: 'ready' }
        }
      }
    });
    expect(allowedActions(table, 'worker', 'ready')).toEqual(['drain']);
    expect(allowedActions(table, 'worker', 'draining')).toEqual(['resume']);
    expect(allowedActions(table, 'worker', 'offline')).toEqual([]);
    expect(table.run).toBe(FALLBACK_ACTIONS.run);
  });

  it('keeps the fallback for a resource the server does not publish', () => {
    const table = actionsFromOpenAPI({ 'x-jobext-actions': { run: { stop: ['running'] } } });
    expect(table.batch).toBe(FALLBACK_ACTIONS.batch);
  });
});
