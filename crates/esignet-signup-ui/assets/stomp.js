// A tiny STOMP 1.2 client over a WebSocket: CONNECT, SUBSCRIBE, SEND, DISCONNECT, and the
// CONNECTED / MESSAGE / RECEIPT / ERROR frames back, with the 1.2 header escaping. Enough for
// the identity verification socket of the signup service (`<api>/ws?slotId=...`).

/** Escapes a header name or value (STOMP 1.2: backslash, CR, LF and colon). */
export function escapeHeader(text) {
  return String(text).replace(/\\/g, "\\\\").replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/:/g, "\\c");
}

/** Undoes `escapeHeader`; an undefined escape sequence is kept as is. */
export function unescapeHeader(text) {
  return text.replace(/\\([\\rnc])/g, (m, c) => ({ "\\": "\\", r: "\r", n: "\n", c: ":" })[c]);
}

/** Serialises one frame. CONNECT headers are not escaped (STOMP 1.2 §"Value Encoding"). */
export function frame(command, headers, body = "") {
  const escape = command === "CONNECT" || command === "CONNECTED" ? (v) => String(v) : escapeHeader;
  let text = command + "\n";
  for (const [name, value] of Object.entries(headers)) text += escape(name) + ":" + escape(value) + "\n";
  return text + "\n" + body + "\0";
}

/**
 * Parses the frames in `buffer` (heart-beat newlines between frames are skipped). Returns
 * `{frames, rest}`: `rest` is an incomplete trailing frame to prepend to the next message.
 */
export function parse(buffer) {
  const frames = [];
  let rest = buffer;
  for (;;) {
    rest = rest.replace(/^(\r?\n)+/, "");
    const end = rest.indexOf("\0");
    if (end < 0) break;
    const raw = rest.slice(0, end);
    rest = rest.slice(end + 1);
    const split = raw.search(/\r?\n\r?\n/);
    const head = split < 0 ? raw : raw.slice(0, split);
    const body = split < 0 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
    const lines = head.split(/\r?\n/);
    const command = lines.shift();
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = command === "CONNECTED" ? line.slice(0, colon) : unescapeHeader(line.slice(0, colon));
      // The first occurrence of a repeated header wins (STOMP 1.2).
      if (!(name in headers)) headers[name] = command === "CONNECTED" ? line.slice(colon + 1) : unescapeHeader(line.slice(colon + 1));
    }
    frames.push({ command, headers, body });
  }
  return { frames, rest };
}

/**
 * Opens `url` and speaks STOMP. `handlers`: `onConnected()`, `onMessage(destination, body)`,
 * `onError(message)` (an ERROR frame or the socket failing before `close()`).
 */
export function connect(url, host, handlers) {
  const socket = new WebSocket(url);
  let buffer = "";
  let closing = false;
  let subscriptions = 0;
  const send = (text) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(text);
  };
  socket.addEventListener("open", () => {
    send(frame("CONNECT", { "accept-version": "1.2", host, "heart-beat": "0,0" }));
  });
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const parsed = parse(buffer + event.data);
    buffer = parsed.rest;
    for (const f of parsed.frames) {
      if (f.command === "CONNECTED") handlers.onConnected();
      else if (f.command === "MESSAGE") handlers.onMessage(f.headers.destination, f.body);
      else if (f.command === "ERROR") handlers.onError(f.headers.message || f.body || "stomp_error");
    }
  });
  const failed = () => {
    if (!closing) {
      closing = true;
      handlers.onError("web_socket_fail");
    }
  };
  socket.addEventListener("error", failed);
  socket.addEventListener("close", failed);
  return {
    subscribe(destination) {
      send(frame("SUBSCRIBE", { id: "sub-" + subscriptions++, destination, ack: "auto" }));
    },
    send(destination, body) {
      send(frame("SEND", { destination, "content-type": "application/json" }, body));
    },
    close() {
      closing = true;
      send(frame("DISCONNECT", {}));
      socket.close(1000);
    },
  };
}
