/**
 * The part of a run's log that a run detail holds: its last lines at first
 * (`GET /runs/{id}/logs?tail=N`), what the run's event stream adds, and earlier pages loaded
 * on demand. A 100,000-line log costs what its last few hundred lines do until the user asks
 * for more.
 */
import { ILogLine, ILogPage } from './types';

/** Lines a run detail opens with. */
export const LOG_TAIL = 500;
/** Lines each "load earlier" adds (at most). */
export const LOG_PAGE = 2000;
/** Live lines kept beyond what was loaded: older ones leave the page (and can be loaded
 * again), so that a run printing for hours does not fill the browser's memory. */
export const LOG_LIVE_KEEP = 5000;

/** Reads a page of log lines after a sequence number (`GET /runs/{id}/logs?after&limit`). */
export type PageReader = (after: number, limit: number) => Promise<ILogPage>;

export class LogWindow {
  constructor(readonly keep: number = LOG_LIVE_KEEP) {
    this._limit = keep;
  }

  /** The lines held, oldest first. */
  get lines(): readonly ILogLine[] {
    return this._lines;
  }

  /** True when the server may hold lines before the first one held. */
  get earlier(): boolean {
    return this._earlier;
  }

  /** The sequence number to follow the run's stream from (its last event seen). */
  get lastSeq(): number {
    return this._lastSeq;
  }

  /** Start from the last lines of the log (a `tail` page that asked for `asked` lines). */
  setTail(page: ILogPage, asked: number): void {
    this._lines = page.items.slice();
    this._lastSeq = Math.max(this._lastSeq, page.next_after);
    // Every seq before the first line is another event or an earlier line: only a tail
    // shorter than asked proves there is none.
    this._earlier = page.items.length >= asked && page.items[0].seq > 1;
    this._limit = Math.max(this.keep, this._lines.length);
  }

  /** A line from the run's stream (a line held already is ignored). */
  append(line: ILogLine): void {
    this.seen(line.seq);
    const last = this._lines[this._lines.length - 1];
    if (last && line.seq <= last.seq) {
      return;
    }
    this._lines.push(line);
    const over = this._lines.length - this._limit;
    // Trimmed in chunks, not one line per line.
    if (over > Math.max(100, this._limit / 10)) {
      this._lines.splice(0, over);
      this._earlier = true;
    }
  }

  /** Any event of the run's stream: where to resume it. */
  seen(seq: number): void {
    this._lastSeq = Math.max(this._lastSeq, seq);
  }

  /**
   * Load up to `size` lines before the first one held. Sequence numbers count every event of
   * the run (state, progress, log) without gaps, so the `size` numbers before the first line
   * hold at most `size` lines: one page after `first - size - 1` brings them all. Pages that
   * hold no line (a stretch of progress reports) are skipped, a few at most.
   */
  async loadEarlier(read: PageReader, size: number = LOG_PAGE): Promise<number> {
    let first = this._lines.length ? this._lines[0].seq : this._lastSeq + 1;
    let added = 0;
    for (let attempt = 0; attempt < 5 && this._earlier && added === 0; attempt++) {
      const after = Math.max(0, first - 1 - size);
      const page = await read(after, size);
      const before = page.items.filter(line => line.seq < first);
      const held = this._lines[0]?.seq ?? Infinity;
      // The window may have moved meanwhile (lines trimmed by live output): keep order.
      const fresh = before.filter(line => line.seq < held);
      this._lines = [...fresh, ...this._lines];
      added += fresh.length;
      this._limit += fresh.length;
      this._earlier = after > 0;
      first = after + 1;
    }
    return added;
  }

  private _lines: ILogLine[] = [];
  private _earlier = false;
  private _lastSeq = 0;
  private _limit: number;
}
