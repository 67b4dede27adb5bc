import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { DetailCache } from '../src/details';

describe('details of listed things', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A cache over a reader that answers `${key}#${n}` for its n-th read of key. */
  function cache(options = { minInterval: 1000, concurrency: 2 }) {
    const reads: number[] = [];
    let changes = 0;
    const details = new DetailCache<number, string>(
      async key => {
        reads.push(key);
        return `${key}#${reads.filter(k => k === key).length}`;
      },
      () => changes++,
      options
    );
    return { details, reads, changes: () => changes };
  }

  it('reads each key once however often news of it comes, then at most once a second', async () => {
    const { details, reads } = cache();
    details.request(1);
    details.request(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toEqual([1]);
    expect(details.get(1)).toBe('1#1');
    for (let i = 0; i < 10; i++) {
      details.request(1);
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(reads).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads).toEqual([1, 1]);
    expect(details.get(1)).toBe('1#2');
  });

  it('reads a few keys at a time', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>(resolve => (release = resolve));
    const started: number[] = [];
    const details = new DetailCache<number, number>(
      async key => {
        started.push(key);
        await gate;
        return key;
      },
      () => undefined,
      { concurrency: 2 }
    );
    [1, 2, 3, 4].forEach(k => details.request(k));
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2, 3, 4]);
    expect(details.get(4)).toBe(4);
  });

  it('takes details it is given, and forgets what left the list', async () => {
    const { details, reads, changes } = cache();
    details.set(7, 'from an answer');
    expect(details.get(7)).toBe('from an answer');
    expect(changes()).toBe(1);
    details.request(7); // within a second of the answer: later
    details.request(8);
    details.retain([8]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reads).toEqual([8]);
    expect(details.get(7)).toBeUndefined();
    details.dispose();
    details.request(8);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reads).toEqual([8]);
  });
});
