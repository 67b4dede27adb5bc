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
    expect(allowedActions(t, 'run', 'running')).toEqual(['stop', 'force-stop', 'pause']);
    expect(allowedActions(t, 'run', 'paused')).toEqual(['stop', 'force-stop', 'resume']);
    expect(allowedActions(t, 'run', 'stopping')).toEqual(['force-stop']);
    expect(allowedActions(t, 'run', 'failed')).toEqual(['restart', 'remove']);
    expect(allowedActions(t, 'run', 'succeeded')).toEqual(['remove']);
    expect(allowed(t, 'run', 'remove', 'running')).toBe(false);
  });

  it("uses exactly the server's table where it publishes one", () => {
    const table = actionsFromOpenAPI({
      'x-jobext-actions': {
        run: { stop: ['running'], remove: ['succeeded', 'failed', 'stopped'] },
        batch: { start: ['created'], stop: ['running'] }
      }
    });
    expect(table.source).toBe('server');
    expect(allowed(table, 'run', 'pause', 'running')).toBe(false);
    expect(allowed(table, 'run', 'stop', 'queued')).toBe(false);
    expect(allowed(table, 'run', 'stop', 'running')).toBe(true);
    // a forced stop wherever the run has not ended
    expect(table.run['force-stop']).toEqual(['running', 'stopping']);
    expect(allowed(table, 'batch', 'unpause', 'paused')).toBe(false);
  });

  it('keeps the fallback for a resource the server does not publish', () => {
    const table = actionsFromOpenAPI({ 'x-jobext-actions': { run: { stop: ['running'] } } });
    expect(table.batch).toBe(FALLBACK_ACTIONS.batch);
  });
});
