/**
 * Polling with backoff: refresh quickly while things change, slow down when they don't, and
 * come back at once when poked (a cell finished, the notebook was saved, the panel was shown).
 */

/** What one poll reports: whether anything changed since the previous poll. */
export type PollFunction = () => Promise<boolean>;

/** Timing of a {@link Poller}, in milliseconds. */
export interface IPollerOptions {
  /** Interval after a change (and the first interval). */
  interval: number;
  /** Longest interval when nothing changes or polls fail. */
  maxInterval: number;
  /** Multiplier applied after each quiet or failed poll. Default 2. */
  factor?: number;
}

/** Runs a poll function on a timer with exponential backoff. */
export class Poller {
  /** @param poll the work; resolves true when something changed. */
  constructor(
    private readonly poll: PollFunction,
    options: IPollerOptions
  ) {
    this.options = { factor: 2, ...options };
    this.current = this.options.interval;
  }

  /** The delay before the next poll (ms). */
  get currentInterval(): number {
    return this.current;
  }

  /** Whether the poller is running. */
  get running(): boolean {
    return this.active;
  }

  /** Consecutive failed polls. */
  get failures(): number {
    return this.failed;
  }

  /** Change the timing; the next delay starts from the new base interval. */
  configure(options: Partial<IPollerOptions>): void {
    this.options = { ...this.options, ...options };
    this.current = this.options.interval;
    if (this.active) {
      this.schedule();
    }
  }

  /** Start polling (the first poll runs at once). */
  start(): void {
    if (this.active) {
      return;
    }
    this.active = true;
    void this.tick();
  }

  /** Stop polling. */
  stop(): void {
    this.active = false;
    this.clear();
  }

  /** Poll now and reset the backoff (used when something surely changed). */
  async poke(): Promise<void> {
    this.current = this.options.interval;
    await this.tick();
  }

  private async tick(): Promise<void> {
    this.clear();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      try {
        const changed = await this.poll();
        this.failed = 0;
        this.current = changed
          ? this.options.interval
          : Math.min(
              this.current * this.options.factor!,
              this.options.maxInterval
            );
      } catch {
        this.failed += 1;
        this.current = Math.min(
          this.current * this.options.factor!,
          this.options.maxInterval
        );
      }
    })();
    await this.inFlight;
    this.inFlight = null;
    if (this.again) {
      this.again = false;
      return this.tick();
    }
    if (this.active) {
      this.schedule();
    }
  }

  private schedule(): void {
    this.clear();
    this.timer = setTimeout(() => void this.tick(), this.current);
  }

  private clear(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private options: Required<IPollerOptions>;
  private current: number;
  private active = false;
  private failed = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
}
