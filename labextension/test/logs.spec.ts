import { describe, expect, it } from 'vitest';

import { LogWindow } from '../src/logs';
import { ILogLine, ILogPage } from '../src/types';

/** A run's stored events: every third one a progress report, the rest log lines. */
function storedLog(events: number): ILogLine[] {
  const lines: ILogLine[] = [];
  for (let seq = 1; seq <= events; seq++) {
    if (seq % 3 !== 0) {
      lines.push({
        seq,
        ts: '2026-11-30T10:00:00Z',
        stream: 'stdout',
        level: null,
        text: `${seq}`
      });
    }
  }
  return lines;
}

/** `GET /runs/{id}/logs` over those lines: `after` + `limit`, or `tail`. */
function server(lines: ILogLine[]) {
  const calls: Array<[number, number]> = [];
  const page = (after: number, limit: number): ILogPage => {
    const items = lines.filter(l => l.seq > after).slice(0, limit);
    return {
      items,
      after,
      limit,
      next_after: items.length ? items[items.length - 1].seq : after,
      more: items.length === limit
    };
  };
  const tail = (n: number): ILogPage => {
    const items = lines.slice(-n);
    return {
      items,
      after: 0,
      limit: n,
      next_after: items.length ? items[items.length - 1].seq : 0,
      more: false
    };
  };
  const read = async (after: number, limit: number) => {
    calls.push([after, limit]);
    return page(after, limit);
  };
  return { tail, read, calls };
}

describe('a run detail’s log', () => {
  it('opens at the last lines and knows whether there are earlier ones', () => {
    const { tail } = server(storedLog(30));
    const log = new LogWindow();
    log.setTail(tail(5), 5);
    expect(log.lines.map(l => l.seq)).toEqual([23, 25, 26, 28, 29]);
    expect(log.earlier).toBe(true);
    expect(log.lastSeq).toBe(29);
    const short = new LogWindow();
    short.setTail(tail(100), 100);
    expect(short.lines).toHaveLength(20);
    expect(short.earlier).toBe(false);
    const empty = new LogWindow();
    empty.setTail(server([]).tail(5), 5);
    expect(empty.earlier).toBe(false);
    expect(empty.lastSeq).toBe(0);
  });

  it('pages back with after + limit until the first line, without gaps or repeats', async () => {
    const all = storedLog(30);
    const { tail, read, calls } = server(all);
    const log = new LogWindow();
    log.setTail(tail(5), 5);
    expect(await log.loadEarlier(read, 6)).toBe(4);
    expect(calls).toEqual([[16, 6]]);
    expect(log.lines.map(l => l.seq)).toEqual([17, 19, 20, 22, 23, 25, 26, 28, 29]);
    while (log.earlier) {
      await log.loadEarlier(read, 6);
    }
    expect(log.lines.map(l => l.seq)).toEqual(all.map(l => l.seq));
  });

  it('skips stretches without lines (progress reports) when paging back', async () => {
    const lines = [
      { seq: 1, ts: '', stream: 'stdout', level: null, text: 'first' },
      { seq: 50, ts: '', stream: 'stdout', level: null, text: 'last' }
    ];
    const { read } = server(lines);
    const log = new LogWindow();
    log.setTail({ items: [lines[1]], after: 0, limit: 1, next_after: 50, more: false }, 1);
    expect(await log.loadEarlier(read, 10)).toBe(1);
    expect(log.lines.map(l => l.text)).toEqual(['first', 'last']);
    expect(log.earlier).toBe(false);
  });

  it('adds live lines once, and lets the oldest go past what it keeps', async () => {
    const log = new LogWindow(1000);
    const line = (seq: number) => ({ seq, ts: '', stream: 'stdout', level: null, text: `${seq}` });
    log.setTail({ items: [line(1)], after: 0, limit: 10, next_after: 1, more: false }, 10);
    log.append(line(1));
    log.seen(2); // a state event
    log.append(line(3));
    expect(log.lines.map(l => l.seq)).toEqual([1, 3]);
    expect(log.lastSeq).toBe(3);
    for (let seq = 4; seq <= 1200; seq++) {
      log.append(line(seq));
    }
    expect(log.lines.length).toBeLessThanOrEqual(1100);
    expect(log.lines[log.lines.length - 1].seq).toBe(1200);
    expect(log.earlier).toBe(true);
    // what was let go can be loaded again
    const first = log.lines[0].seq;
    const { read } = server(Array.from({ length: 1200 }, (_, i) => line(i + 1)));
    await log.loadEarlier(read, 100);
    expect(log.lines[0].seq).toBe(first - 100);
  });
});
