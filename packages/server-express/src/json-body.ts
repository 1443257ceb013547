/**
 * JSON request bodies without float error. `JSON.parse` turns `100.10` into the double nearest to it
 * before any code sees it (and Node 20 has no reviver `context.source`), so bodies are parsed with
 * lossless-json: every number arrives as its source text. Amount fields keep that text (the engine's
 * Money parses it exactly); every other number becomes a JS number as usual.
 *
 * @module
 */
import express, { type RequestHandler } from 'express';
import { isLosslessNumber, parse, type LosslessNumber } from 'lossless-json';
import { badRequest } from './errors';
import { TenderError } from '@tender/core';

/** Body fields whose JSON numbers keep their exact source text. */
export const AMOUNT_FIELDS: ReadonlySet<string> = new Set(['amount', 'amount_minor', 'amount_paisa']);

const MAX_DEPTH = 20;

function normalise(value: unknown, key: string | null, depth: number): unknown {
  if (depth > MAX_DEPTH) throw badRequest('invalid_json', `The request body nests deeper than ${MAX_DEPTH} levels`);
  if (isLosslessNumber(value)) {
    const text = (value as LosslessNumber).value;
    if (key !== null && AMOUNT_FIELDS.has(key) && depth === 1) return text;
    const n = Number(text);
    if (!Number.isFinite(n)) throw badRequest('invalid_number', `The number ${text.slice(0, 40)} is out of range`, key ?? undefined);
    return n;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, null, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // No API field is named so; dropping it means a body can never reach an object's prototype.
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      out[k] = normalise(v, k, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * Parses JSON text. Top-level amount fields keep their number text; other numbers become numbers.
 * @throws TenderError 400 `invalid_json` for anything that is not one JSON document.
 */
export function parseJsonText(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.slice(0, 200) : '';
    throw badRequest('invalid_json', `The request body is not valid JSON${detail ? `: ${detail}` : ''}`);
  }
  return normalise(parsed, null, 0);
}

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest accepted body (bytes or an express size string). Default `100kb`. */
  limit?: number | string;
}

/**
 * Reads the body as bytes, then parses it with {@link parseJsonText} into `req.body`. An empty body is
 * `{}`. A non-JSON content type is a 415; malformed JSON a 400.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: options.limit ?? '100kb' });
  const toJson: RequestHandler = (req, _res, next) => {
    const bytes = req.body as unknown;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
      req.body = {};
      next();
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) {
      next(new TenderError({ type: 'invalid_request_error', code: 'unsupported_media_type', message: 'Send the body as application/json', status: 415 }));
      return;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      next(badRequest('invalid_json', 'The request body is not valid UTF-8'));
      return;
    }
    try {
      req.body = parseJsonText(text);
      next();
    } catch (error) {
      next(error);
    }
  };
  return [raw, toJson];
}
