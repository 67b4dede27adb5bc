/** Runs and jobs as the server sends them, for the specs. */
import { IJob, IRun } from '../src/types';

export function run(id: number, changes: Partial<IRun> = {}): IRun {
  return {
    id,
    uuid: `u${id}`,
    job: 'etl',
    kind: 'python',
    args: null,
    status: 'running',
    trigger: 'manual',
    user: null,
    scheduled_for: null,
    created_at: '2026-11-30T10:00:00.000Z',
    started_at: null,
    updated_at: '2026-11-30T10:00:00.000Z',
    ended_at: null,
    duration_s: null,
    progress: null,
    message: null,
    records_written: null,
    steps: [],
    exit_code: null,
    error: null,
    attempt: 1,
    restarted_from: null,
    restarted_as: null,
    schedule_id: null,
    batch_id: null,
    worker: null,
    result: null,
    ...changes
  };
}

export function job(name: string, changes: Partial<IJob> = {}): IJob {
  return {
    name,
    kind: 'python',
    target: `jobs:${name}`,
    description: '',
    connection: null,
    kernel: null,
    default_args: null,
    options: null,
    max_concurrent: 1,
    queue_when_busy: false,
    timeout_s: null,
    retries: 0,
    retry_backoff_s: 0,
    restartable: true,
    keep_runs: null,
    keep_days: null,
    created_by: null,
    created_at: '2026-11-30T10:00:00.000Z',
    updated_at: '2026-11-30T10:00:00.000Z',
    ...changes
  };
}
