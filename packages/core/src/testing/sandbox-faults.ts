/**
 * The HTTP fault queue the gateway sandboxes share: tests queue faults (an error answer, a dropped or
 * delayed response...) for the next requests whose `METHOD /path` matches; each request takes at most
 * one, oldest first, and a fault is gone once its `count` is used up. What a fault does is the
 * sandbox's own business; this holds only the queue.
 *
 * @module
 */

/** What every sandbox fault has: which requests it applies to and how many times. */
export interface SandboxFaultMatch {
  /** Requests whose `METHOD /path` matches; all when absent. */
  match?: RegExp;
  /** How many requests it applies to (default 1). */
  count?: number;
}

/** A queue of faults for a sandbox's API. */
export class SandboxFaultQueue<F extends SandboxFaultMatch> {
  private readonly queued: F[] = [];

  /** Queues a fault (a copy: its count is used up here, never in the caller's object). */
  add(fault: F): void {
    this.queued.push({ ...fault });
  }

  /** Drops every queued fault. */
  clear(): void {
    this.queued.splice(0);
  }

  /** The faults not used up yet, oldest first. */
  get pending(): readonly F[] {
    return this.queued;
  }

  /** The fault for a request (`METHOD /path`), counting it used once, or undefined. */
  take(signature: string): F | undefined {
    const index = this.queued.findIndex((f) => !f.match || f.match.test(signature));
    if (index < 0) return undefined;
    const fault = this.queued[index]!;
    fault.count = (fault.count ?? 1) - 1;
    if (fault.count <= 0) this.queued.splice(index, 1);
    return fault;
  }
}
