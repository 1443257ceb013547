/**
 * The conformance suites register vitest tests, but `@tender/core/testing` must also load outside
 * vitest (benchmarks, examples, a server started by a test): importing `vitest` there throws. So the
 * suites take vitest's API from the running test worker instead of importing it.
 *
 * @module
 */
import type * as Vitest from 'vitest';

/** @internal vitest's API when called from a vitest test file. */
export function vitestApi(): typeof Vitest {
  const api = (globalThis as { __vitest_index__?: typeof Vitest }).__vitest_index__;
  if (!api) throw new Error('Tender conformance suites must be called from a vitest (v3) test file');
  return api;
}
