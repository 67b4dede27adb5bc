/**
 * Server-Sent Events read with fetch, so that the request carries JupyterLab's
 * Authorization header and XSRF token (an EventSource can send neither, and a token in a URL
 * ends up in logs and browser history).
 */

/** One event of a stream. */
export interface ISSEvent {
  /** The `id:` field; '' when the event had none. */
  id: string;
  /** The `event:` field; 'message' when the event had none. */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
}

/**
 * An incremental parser of the text/event-stream format (WHATWG HTML, 9.2.6).
 *
 * Feed it text as it arrives, in chunks cut anywhere; it hands back the events that are
 * complete. Comment lines (`: keepalive`) are ignored; a `retry:` field is remembered.
 */
export class SSEParser {
  /** The id of the last event with one: what to send as Last-Event-ID on reconnect. */
  lastEventId = '';
  /** The reconnection delay the server asked for, in ms (null: none asked). */
  retry: number | null = null;

  feed(chunk: string): ISSEvent[] {
    this._buffer += chunk;
    const events: ISSEvent[] = [];
    // A line ends with CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
    let start = 0;
    for (;;) {
      const match = /\r\n|\n|\r/g;
      match.lastIndex = start;
      const found = match.exec(this._buffer);
      if (!found) {
        break;
      }
      if (found[0] === '\r' && found.index === this._buffer.length - 1) {
        break;
      }
      const line = this._buffer.slice(start, found.index);
      start = found.index + found[0].length;
      const event = this._line(line);
      if (event) {
        events.push(event);
      }
    }
    this._buffer = this._buffer.slice(start);
    return events;
  }

  private _line(line: string): ISSEvent | null {
    if (line === '') {
      return this._dispatch();
    }
    if (line.startsWith(':')) {
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (field) {
      case 'data':
        this._data.push(value);
        break;
      case 'event':
        this._event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this._id = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this.retry = parseInt(value, 10);
        }
        break;
    }
    return null;
  }

  private _dispatch(): ISSEvent | null {
    if (this._id !== null) {
      this.lastEventId = this._id;
    }
    const hadData = this._data.length > 0;
    const event: ISSEvent = {
      id: this._id ?? this.lastEventId,
      event: this._event || 'message',
      data: this._data.join('\n')
    };
    this._data = [];
    this._event = '';
    this._id = null;
    return hadData ? event : null;
  }

  private _buffer = '';
  private _data: string[] = [];
  private _event = '';
  private _id: string | null = null;
}

/** What to do with a stream that the server answered. */
export interface IStreamHandlers {
  /** Called once the server has answered 200 (before any event). */
  onOpen?: () => void;
  /** Called for every complete event. */
  onEvent: (event: ISSEvent) => void;
}

/** The server answered the stream's request with an error status. */
export class StreamRefused extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/**
 * Read an event stream from a fetch Response until it ends; returns the parser (its
 * `lastEventId` is where to resume).
 */
export async function consumeStream(
  response: Response,
  handlers: IStreamHandlers,
  parser: SSEParser = new SSEParser()
): Promise<SSEParser> {
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && typeof body.message === 'string') {
        message = body.message;
      }
    } catch {
      // not JSON: keep the status line
    }
    throw new StreamRefused(response.status, message);
  }
  handlers.onOpen?.();
  if (!response.body) {
    for (const event of parser.feed(await response.text())) {
      handlers.onEvent(event);
    }
    return parser;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
      handlers.onEvent(event);
    }
  }
  // An event cut off by the end of the stream is dropped, as the spec says.
  return parser;
}
