/**
 * Subjects and streams: subject validation, wildcard matching, and making sure a stream captures the
 * subjects Tender publishes to (creating it when allowed).
 *
 * @module
 */
import { StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

/** A subject token: no wildcards, whitespace, dots or control characters. */
const TOKEN = /^[^\s.*>\u0000-\u001f\u007f]+$/;

/** True for a literal subject (`payments.events.payment.captured`): tokens, no wildcards. */
export function isLiteralSubject(subject: string): boolean {
  return subject.length > 0 && subject.length <= 512 && subject.split('.').every((t) => TOKEN.test(t));
}

/** True for a subject filter (tokens, `*` for one token, a trailing `>` for the rest). */
export function isSubjectFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 512) return false;
  const tokens = filter.split('.');
  return tokens.every((t, i) => t === '*' || (t === '>' && i === tokens.length - 1) || TOKEN.test(t));
}

/** True when the subject filter `pattern` matches every subject `filter` matches (docs.nats.io "Subject-Based Messaging"). */
export function filterCovers(pattern: string, filter: string): boolean {
  const p = pattern.split('.');
  const f = filter.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return f.length > i;
    if (i >= f.length) return false;
    if (p[i] === '*') {
      if (f[i] === '>') return false;
      continue;
    }
    if (p[i] !== f[i]) return false;
  }
  return p.length === f.length;
}

/** `payments.events` → `PAYMENTS_EVENTS`: a stream name (no dots, spaces, wildcards). */
export function streamNameFor(subjectPrefix: string): string {
  return subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]+/g, '_');
}

/** How a stream is ensured. */
export interface EnsureStreamOptions {
  name: string;
  /** Subjects the stream must capture; created with exactly these. */
  subjects: string[];
  /** Create the stream when it does not exist (default true). Otherwise its absence is an error. */
  create?: boolean;
  /**
   * JetStream's duplicate window for a created stream: a message whose `Nats-Msg-Id` was seen within
   * it is not stored again (default 2 minutes, the server's own default).
   */
  duplicateWindowMs?: number;
}

/**
 * Makes sure stream `name` exists and captures `subjects`. An existing stream is used as it is (its
 * owner configured it), but one that does not capture a subject is a configuration error: messages
 * would be published to nothing. A missing one is created (file storage, limits retention) unless
 * `create` is false.
 */
export async function ensureStream(jsm: JetStreamManager, options: EnsureStreamOptions): Promise<StreamInfo> {
  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(options.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (info) {
    const captured = info.config.subjects ?? [];
    const missing = options.subjects.filter((s) => !captured.some((c) => filterCovers(c, s)));
    if (missing.length > 0) {
      throw new Error(`NATS stream ${options.name} exists but does not capture ${missing.join(', ')} (its subjects: ${captured.join(', ') || 'none'})`);
    }
    return info;
  }
  if (options.create === false) throw new Error(`NATS stream ${options.name} does not exist (and creating it is off)`);
  try {
    return await jsm.streams.add({
      name: options.name,
      subjects: options.subjects,
      storage: StorageType.File,
      duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    });
  } catch (error) {
    // Another instance created it at the same moment: use theirs (checked as above).
    if (/already in use|already exists/i.test(String((error as Error)?.message))) return ensureStream(jsm, { ...options, create: false });
    throw error;
  }
}

/** A JetStream "stream not found" / "consumer not found" API error. */
export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 10059 || code === 10014 || /not found/i.test(String((error as Error)?.message));
}
