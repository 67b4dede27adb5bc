/**
 * The details of listed things that their list items lack (a batch's `lag_s` comes only with
 * `GET /batches/{id}`): read when asked, at most once per `minInterval` per item and
 * `concurrency` reads at a time, however often they are asked for meanwhile.
 */
export class DetailCache<K, D> {
  constructor(
    private readonly _read: (key: K) => Promise<D>,
    private readonly _changed: () => void,
    options: { minInterval?: number; concurrency?: number } = {}
  ) {
    this._minInterval = options.minInterval ?? 1000;
    this._concurrency = options.concurrency ?? 2;
  }

  /** The detail last read of `key`, if any. */
  get(key: K): D | undefined {
    return this._details.get(key);
  }

  /** A detail known otherwise (an action's answer). */
  set(key: K, detail: D): void {
    this._details.set(key, detail);
    this._readAt.set(key, Date.now());
    this._changed();
  }

  /** Read `key` again soon (once, however often this is called meanwhile). */
  request(key: K): void {
    if (this._disposed) {
      return;
    }
    if (this._reading.has(key)) {
      this._again.add(key);
      return;
    }
    if (this._timers.has(key) || this._queue.includes(key)) {
      return;
    }
    const wait = Math.max(0, (this._readAt.get(key) ?? -Infinity) + this._minInterval - Date.now());
    this._timers.set(
      key,
      setTimeout(() => {
        this._timers.delete(key);
        this._queue.push(key);
        this._pump();
      }, wait)
    );
  }

  /** Keep only the details of `keys` (what the list shows now). */
  retain(keys: Iterable<K>): void {
    const keep = new Set(keys);
    for (const key of [...this._details.keys(), ...this._timers.keys()]) {
      if (!keep.has(key)) {
        this.forget(key);
      }
    }
  }

  /** Drop `key` (it went): no read of it is made any more. */
  forget(key: K): void {
    this._details.delete(key);
    this._readAt.delete(key);
    this._again.delete(key);
    this._reading.delete(key);
    clearTimeout(this._timers.get(key));
    this._timers.delete(key);
    this._queue = this._queue.filter(k => k !== key);
  }

  dispose(): void {
    this._disposed = true;
    for (const timer of this._timers.values()) {
      clearTimeout(timer);
    }
    this._timers.clear();
    this._queue = [];
  }

  private _pump(): void {
    while (!this._disposed && this._reading.size < this._concurrency && this._queue.length) {
      const key = this._queue.shift() as K;
      this._reading.add(key);
      this._read(key)
        .then(detail => {
          if (!this._disposed && this._reading.has(key)) {
            this.set(key, detail);
          }
        })
        .catch(() => {
          // Gone meanwhile, or the server is away: the next news asks again.
          this._readAt.set(key, Date.now());
        })
        .finally(() => {
          this._reading.delete(key);
          if (this._again.delete(key)) {
            this.request(key);
          }
          this._pump();
        });
    }
  }

  private _details = new Map<K, D>();
  private _readAt = new Map<K, number>();
  private _timers = new Map<K, ReturnType<typeof setTimeout>>();
  private _queue: K[] = [];
  private _reading = new Set<K>();
  private _again = new Set<K>();
  private _disposed = false;
  private _minInterval: number;
  private _concurrency: number;
}
