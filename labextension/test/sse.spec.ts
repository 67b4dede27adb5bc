import { describe, expect, it } from 'vitest';

import { consumeStream, SSEParser, StreamRefused } from '../src/sse';

describe('SSEParser', () => {
  it('parses events cut anywhere, with ids, names and multi-line data', () => {
    const parser = new SSEParser();
    const text =
      'id: 1\nevent: log\ndata: {"a":\ndata: 1}\n\n: keepalive\n\nid: 2\r\nevent: state\r\ndata: x\r\n\r\n';
    const events = [];
    for (let i = 0; i < text.length; i += 3) {
      events.push(...parser.feed(text.slice(i, i + 3)));
    }
    expect(events).toEqual([
      { id: '1', event: 'log', data: '{"a":\n1}' },
      { id: '2', event: 'state', data: 'x' }
    ]);
    expect(parser.lastEventId).toBe('2');
  });

  it('ignores comments and events without data, keeps the last id', () => {
    const parser = new SSEParser();
    expect(parser.feed(': keepalive\n\nid: 7\n\ndata: y\n\n')).toEqual([
      { id: '7', event: 'message', data: 'y' }
    ]);
    expect(parser.lastEventId).toBe('7');
  });

  it('remembers retry and takes a lone CR as a line end', () => {
    const parser = new SSEParser();
    // A CR at the end of a chunk may be half of a CRLF: the line ends when the next chunk comes.
    expect(parser.feed('retry: 1500\rdata: z\r\r')).toEqual([]);
    expect(parser.feed(': next')).toEqual([{ id: '', event: 'message', data: 'z' }]);
    expect(parser.retry).toBe(1500);
  });

  it('drops an event cut off by the end of the stream', async () => {
    const events: string[] = [];
    await consumeStream(new Response('data: a\n\ndata: b'), { onEvent: e => events.push(e.data) });
    expect(events).toEqual(['a']);
  });

  it('rejects a refused stream with the server message', async () => {
    const response = new Response(
      JSON.stringify({ message: 'no run with id 9', reason: 'not_found' }),
      {
        status: 404
      }
    );
    await expect(consumeStream(response, { onEvent: () => undefined })).rejects.toEqual(
      new StreamRefused(404, 'no run with id 9')
    );
  });
});
