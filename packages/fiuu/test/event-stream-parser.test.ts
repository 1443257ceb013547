/**
 * The browser bundle's `text/event-stream` parser against the interpretation rules of the WHATWG HTML
 * standard ("Parsing an event stream"), fed in awkward chunks as a network delivers them.
 */
import { describe, expect, it } from 'vitest';
import { EventStreamParser, settled, type ServerSentEvent } from '../src/browser/index';

function parse(chunks: string[]): { events: ServerSentEvent[]; parser: EventStreamParser } {
  const events: ServerSentEvent[] = [];
  const parser = new EventStreamParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
}

describe('EventStreamParser', () => {
  it('dispatches on a blank line, with the event type, joined data lines and the last event id', () => {
    const { events } = parse(['id: 1\nevent: payment.status\ndata: {"a":\ndata: 1}\n\n', 'data: plain\n\n']);
    expect(events).toEqual([
      { type: 'payment.status', data: '{"a":\n1}', lastEventId: '1' },
      // No id field: the stream's last event id carries over; no event field: `message`.
      { type: 'message', data: 'plain', lastEventId: '1' },
    ]);
  });

  it('accepts CRLF, CR and LF line ends, also when a CRLF is split between chunks', () => {
    const { events } = parse(['event: a\r', '\ndata: x\r\r', 'event: b\rdata: y\r\n\r\n', 'data: z\n\n']);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['a', 'x'],
      ['b', 'y'],
      ['message', 'z'],
    ]);
  });

  it('holds an event until its blank line arrives, however the bytes are cut', () => {
    const text = 'id: tr_1\nevent: snapshot\ndata: {"payment":{"id":"pay_1"}}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = parse([text.slice(0, cut), text.slice(cut)]);
      expect(events).toEqual([{ type: 'snapshot', data: '{"payment":{"id":"pay_1"}}', lastEventId: 'tr_1' }]);
    }
  });

  it('ignores comments (heartbeats), fields it does not know, an id holding NUL, and events without data', () => {
    const { events, parser } = parse([': ping\n\n', 'foo: bar\nevent: x\n\n', 'id: ok\n\nid: bad\u0000id\ndata: d\n\n', 'retry: 1500\n\nretry: soon\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'd', lastEventId: 'ok' }]);
    expect(parser.lastEventId).toBe('ok');
    expect(parser.retryMs).toBe(1500);
  });

  it('drops one space after the colon only; a line without a colon is a field with an empty value', () => {
    const { events } = parse(['data:  two spaces\n\n', 'data:none\n\n', 'data\ndata\n\n']);
    expect(events.map((e) => e.data)).toEqual([' two spaces', 'none', '\n']);
  });
});

describe('settled', () => {
  it('waits past open statuses and the AUTHORIZED of an automatic capture', () => {
    const p = (status: string, capture_method = 'automatic') => ({ id: 'pay_1', status, capture_method });
    expect(['PENDING', 'PROCESSING', 'REQUIRES_ACTION'].map((s) => settled(p(s)))).toEqual([false, false, false]);
    expect(settled(p('AUTHORIZED'))).toBe(false);
    expect(settled(p('AUTHORIZED', 'manual'))).toBe(true);
    expect(['CAPTURED', 'FAILED', 'CANCELLED', 'EXPIRED'].map((s) => settled(p(s)))).toEqual([true, true, true, true]);
  });
});
