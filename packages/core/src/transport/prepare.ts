/**
 * Request shaping: turns an {@link HttpRequest} into the exact method, URL, headers and body bytes
 * that go on the wire. Kept pure and separate from sending so the same function is what the undici
 * path sends and what the unit tests inspect.
 *
 * @module
 */
import { invalidRequest } from '../errors';
import type { HttpRequest } from './types';

/** A request ready to send: lower-case header names, body encoded. */
export interface PreparedRequest {
  method: HttpRequest['method'];
  /** `scheme://host[:port]` */
  origin: string;
  /** Path and query, as sent on the request line. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
// RFC 9110 token characters for names; values may not contain CR, LF or NUL (header injection).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_BAD = /[\r\n\0]/;

/**
 * Shapes a request. `defaultHeaders` (e.g. `user-agent`) are applied first and can be overridden per
 * request. Throws `invalid_request_error` for a bad URL, method, header or body combination.
 */
export function prepareRequest(request: HttpRequest, defaultHeaders: Readonly<Record<string, string>> = {}): PreparedRequest {
  if (!METHODS.has(request.method)) throw invalidRequest('invalid_method', `Unsupported HTTP method '${String(request.method)}'`, 'method');
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw invalidRequest('invalid_url', `Gateway URL must be absolute, got '${request.url}'`, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidRequest('invalid_url', `Gateway URL must use http or https, got '${url.protocol}'`, 'url');
  }
  const kinds = (request.form !== undefined ? 1 : 0) + (request.json !== undefined ? 1 : 0) + (request.body !== undefined ? 1 : 0);
  if (kinds > 1) throw invalidRequest('ambiguous_body', 'Set only one of form, json or body', 'body');

  const headers: Record<string, string> = {};
  for (const source of [defaultHeaders, request.headers ?? {}]) {
    for (const [name, value] of Object.entries(source)) {
      if (!HEADER_NAME.test(name)) throw invalidRequest('invalid_header', `Invalid header name '${name}'`, 'headers');
      if (typeof value !== 'string' || HEADER_VALUE_BAD.test(value)) {
        throw invalidRequest('invalid_header', `Invalid value for header '${name}'`, 'headers');
      }
      headers[name.toLowerCase()] = value;
    }
  }

  let body: Buffer | undefined;
  if (request.form !== undefined) {
    const entries = Array.isArray(request.form) ? request.form : Object.entries(request.form);
    // URLSearchParams keeps insertion order and applies application/x-www-form-urlencoded rules
    // (space as '+'), which is what form-decoding servers such as Fiuu's expect.
    body = Buffer.from(new URLSearchParams(entries as Array<[string, string]>).toString(), 'utf8');
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (request.json !== undefined) {
    const text = JSON.stringify(request.json);
    if (text === undefined) throw invalidRequest('invalid_body', 'json body is not JSON-serialisable', 'json');
    body = Buffer.from(text, 'utf8');
    headers['content-type'] ??= 'application/json';
  } else if (request.body !== undefined) {
    body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  }

  return { method: request.method, origin: url.origin, path: `${url.pathname}${url.search}`, headers, body };
}
