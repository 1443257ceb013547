/**
 * Per-gateway circuit breaker: closed -> open when failures over a rolling window cross a threshold;
 * open -> half-open after `openMs`; half-open lets `halfOpenTrials` calls through and closes after
 * that many successes, or re-opens on the first failure. Calls that are not trials while half-open
 * fail fast like an open circuit, so the engine can fail over instead of queueing behind a trial.
 *
 * Written here rather than taken from cockatiel 3 because cockatiel allows a single half-open trial,
 * makes concurrent callers wait for that trial (they can wait a full timeout before failing over),
 * and reads `Date.now()` directly, so the window and open duration cannot follow an injected clock.
 *
 * @module
 */
import type { Clock } from '../clock';
import { invalidRequest } from '../errors';
import type { CircuitState } from './types';

/** Circuit breaker settings. */
export interface CircuitOptions {
  /**
   * When to open: a ratio in `(0, 1)` (share of failed calls in the window, e.g. `0.5`) or a count
   * `>= 1` (failed calls in the window, e.g. `5`). Default `0.5`.
   */
  failureThreshold?: number;
  /** Length of the rolling window. Default 30 000 ms. */
  windowMs?: number;
  /** Calls needed in the window before it may open. Default 5 (ratio) or the count threshold. */
  minimumRequests?: number;
  /** How long the circuit stays open before a trial. Default 30 000 ms. */
  openMs?: number;
  /** Successful trial calls needed to close again (and the number let through at once). Default 1. */
  halfOpenTrials?: number;
}

/** Metric value of each state, as exported in `tender_gateway_circuit_state`. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, open: 1, half_open: 2 };

const BUCKETS = 10;

/** Permission to make one call; pass it back to {@link CircuitBreaker.record}. */
export interface CircuitPermit {
  readonly generation: number;
  readonly trial: boolean;
}

/** A circuit breaker for one gateway. Time comes from the injected clock only. */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private generation = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  private readonly bucketMs: number;
  private readonly starts = new Array<number>(BUCKETS).fill(-Infinity);
  private readonly ok = new Array<number>(BUCKETS).fill(0);
  private readonly failed = new Array<number>(BUCKETS).fill(0);
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly minimumRequests: number;
  private readonly openMs: number;
  private readonly trials: number;

  constructor(
    options: CircuitOptions | undefined,
    private readonly clock: Clock,
    private readonly onChange: (state: CircuitState) => void,
  ) {
    this.threshold = options?.failureThreshold ?? 0.5;
    this.windowMs = options?.windowMs ?? 30_000;
    this.openMs = options?.openMs ?? 30_000;
    this.trials = options?.halfOpenTrials ?? 1;
    this.minimumRequests = options?.minimumRequests ?? (this.threshold >= 1 ? this.threshold : 5);
    const bad = (what: string) => invalidRequest('invalid_transport_config', `circuit.${what}`, 'circuit');
    if (!(this.threshold > 0) || (this.threshold >= 1 && !Number.isInteger(this.threshold))) {
      throw bad('failureThreshold must be a ratio in (0, 1) or an integer count >= 1');
    }
    if (!(this.windowMs > 0) || !Number.isFinite(this.windowMs)) throw bad('windowMs must be a positive number');
    if (!(this.openMs >= 0) || !Number.isFinite(this.openMs)) throw bad('openMs must be a number >= 0');
    if (!Number.isInteger(this.trials) || this.trials < 1) throw bad('halfOpenTrials must be an integer >= 1');
    if (!Number.isInteger(this.minimumRequests) || this.minimumRequests < 1) throw bad('minimumRequests must be an integer >= 1');
    this.bucketMs = this.windowMs / BUCKETS;
  }

  /** The state now (an open circuit whose open time has elapsed reports `half_open`). */
  get state(): CircuitState {
    this.refresh(this.clock.now().getTime());
    return this.current;
  }

  /**
   * Asks to make a call. Returns a permit, or the milliseconds until a call may be tried again when
   * the circuit is open (or half-open with all trial slots taken).
   */
  acquire(): CircuitPermit | { retryAfterMs: number } {
    const now = this.clock.now().getTime();
    this.refresh(now);
    if (this.current === 'closed') return { generation: this.generation, trial: false };
    if (this.current === 'half_open' && this.trialsInFlight + this.trialSuccesses < this.trials) {
      this.trialsInFlight++;
      return { generation: this.generation, trial: true };
    }
    const retryAfterMs = this.current === 'open' ? Math.max(0, this.openedAt + this.openMs - now) : Math.min(this.openMs, 1_000);
    return { retryAfterMs };
  }

  /** Records the outcome of a permitted call. Outcomes of calls from an earlier state are ignored. */
  record(permit: CircuitPermit, success: boolean): void {
    if (permit.generation !== this.generation) return;
    const now = this.clock.now().getTime();
    if (permit.trial) {
      this.trialsInFlight--;
      if (!success) {
        this.open(now);
      } else if (++this.trialSuccesses >= this.trials) {
        this.transition('closed');
      }
      return;
    }
    if (this.current !== 'closed') return;
    const i = this.bucket(now);
    if (success) {
      this.ok[i]!++;
      return;
    }
    this.failed[i]!++;
    let failures = 0;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (this.starts[b]! > now - this.windowMs) {
        failures += this.failed[b]!;
        total += this.failed[b]! + this.ok[b]!;
      }
    }
    if (total < this.minimumRequests) return;
    if (this.threshold < 1 ? failures / total >= this.threshold : failures >= this.threshold) this.open(now);
  }

  private bucket(now: number): number {
    const slot = Math.floor(now / this.bucketMs);
    const i = slot % BUCKETS;
    const start = slot * this.bucketMs;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.ok[i] = 0;
      this.failed[i] = 0;
    }
    return i;
  }

  private refresh(now: number): void {
    if (this.current === 'open' && now - this.openedAt >= this.openMs) this.transition('half_open');
  }

  private open(now: number): void {
    this.openedAt = now;
    this.transition('open');
  }

  private transition(state: CircuitState): void {
    this.generation++;
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
    if (state === 'closed') {
      this.starts.fill(-Infinity);
      this.ok.fill(0);
      this.failed.fill(0);
    }
    const changed = state !== this.current;
    this.current = state;
    if (changed) this.onChange(state);
  }
}
