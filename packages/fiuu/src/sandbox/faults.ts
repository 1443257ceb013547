/**
 * Faults tests inject into the sandbox: on result deliveries (drop, duplicate, delay, reorder) and on
 * merchant-API calls (an HTTP 503, or a stall that never answers). Each fault is used up by the next
 * delivery or call it applies to.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';

/** Operations that API faults can target. */
export type SandboxOperation = 'requery' | 'capture' | 'reversal' | 'refund' | 'refund_status' | 'ipn' | 'settlement_report' | 'any';

/** Fault injection for tests. Each fault applies to the next result outcome(s) or API call(s). */
export interface SandboxFaults {
  /** Drop the notification and callback of the next `times` outcomes. */
  dropNotifications(times?: number): void;
  /** Send the notification and callback of the next `times` outcomes twice. */
  duplicateNotifications(times?: number): void;
  /** Delay the next `times` outcomes' deliveries by `ms`. */
  delayNotifications(ms: number, times?: number): void;
  /** Hold the next outcome's deliveries until the following outcome of the same transaction has been sent. */
  reorderNotifications(): void;
  /** Make the next `times` calls of `operation` answer HTTP 503, or stall (no answer until close). */
  api(operation: SandboxOperation, mode: '5xx' | 'stall', times?: number): void;
  /** Removes every pending fault. */
  clear(): void;
}

/** What happens to the deliveries of one outcome. */
export type NotificationFault = { action: 'drop' } | { action: 'duplicate' } | { action: 'delay'; ms: number } | { action: 'reorder' };

/** The pending faults, in the order they were asked for, and the calls stalled by them. */
export class SandboxFaultQueues {
  private notifications: NotificationFault[] = [];
  private apiCalls: Array<{ operation: SandboxOperation; mode: '5xx' | 'stall' }> = [];
  private readonly stalled = new Set<ServerResponse>();

  /** The controls tests are given (`sandbox.faults`). */
  readonly controls: SandboxFaults = {
    dropNotifications: (times = 1) => this.notifications.push(...Array.from({ length: times }, () => ({ action: 'drop' as const }))),
    duplicateNotifications: (times = 1) => this.notifications.push(...Array.from({ length: times }, () => ({ action: 'duplicate' as const }))),
    delayNotifications: (ms, times = 1) => this.notifications.push(...Array.from({ length: times }, () => ({ action: 'delay' as const, ms }))),
    reorderNotifications: () => this.notifications.push({ action: 'reorder' }),
    api: (operation, mode, times = 1) => this.apiCalls.push(...Array.from({ length: times }, () => ({ operation, mode }))),
    clear: () => {
      this.notifications = [];
      this.apiCalls = [];
    },
  };

  /** Takes the fault for the next outcome's deliveries, if one is pending. */
  nextNotificationFault(): NotificationFault | undefined {
    return this.notifications.shift();
  }

  /**
   * Applies the first pending fault for `operation` (or for any) to this call. Returns true when the
   * fault answered it (503) or stalled it (held open until {@link releaseStalled}).
   */
  applyApiFault(operation: Exclude<SandboxOperation, 'any'>, res: ServerResponse): boolean {
    const i = this.apiCalls.findIndex((x) => x.operation === operation || x.operation === 'any');
    if (i < 0) return false;
    const [fault] = this.apiCalls.splice(i, 1);
    if (fault!.mode === '5xx') res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    else this.stalled.add(res);
    return true;
  }

  /** Drops the connections of stalled calls (on close: they never get an answer). */
  releaseStalled(): void {
    for (const res of this.stalled) res.destroy();
  }
}
