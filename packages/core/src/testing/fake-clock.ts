/**
 * A clock tests can move by hand.
 *
 * @module
 */
import type { Clock } from '../clock';

/** A {@link Clock} that only moves when told to. */
export class FakeClock implements Clock {
  private ms: number;

  constructor(start: Date | string | number = '2026-01-01T00:00:00.000Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Moves time forward. */
  advance(ms: number): void {
    this.ms += ms;
  }

  set(to: Date | string | number): void {
    this.ms = new Date(to).getTime();
  }
}
