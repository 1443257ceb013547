/**
 * Waiting on a condition in tests, instead of sleeping a fixed time.
 *
 * @module
 */

/**
 * Polls `condition` every `everyMs` until it holds (resolves its value) or `timeoutMs` passes (throws
 * with `what` and the last error the condition threw).
 */
export async function waitFor<T>(condition: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value !== null && value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
