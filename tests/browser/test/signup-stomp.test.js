// The signup pages' STOMP 1.2 codec (crates/esignet-signup-ui/assets/stomp.js), run in Node
// on the module the pages are served.

import assert from "node:assert/strict";
import test from "node:test";
import { escapeHeader, frame, parse, unescapeHeader } from "../../../crates/esignet-signup-ui/assets/stomp.js";

test("header values are escaped as STOMP 1.2 says, except in CONNECT", () => {
  assert.equal(escapeHeader("a:b\\c\nd\re"), "a\\cb\\\\c\\nd\\re");
  assert.equal(unescapeHeader("a\\cb\\\\c\\nd\\re"), "a:b\\c\nd\re");
  assert.equal(frame("CONNECT", { host: "h:1" }), "CONNECT\nhost:h:1\n\n\0");
  assert.equal(frame("SEND", { destination: "/x:y" }, "{}"), "SEND\ndestination:/x\\cy\n\n{}\0");
});

test("frames are parsed across heart-beats and split messages", () => {
  const message = "MESSAGE\ndestination:/topic/s1\nmessage-id:7\nsubscription:sub-0\n\n{\"id\":\"s1\"}\0";
  const first = parse("\n\n" + message + "MESSAGE\ndestination:/topic/s1\n\n{\"a\"");
  assert.equal(first.frames.length, 1);
  assert.deepEqual(first.frames[0], {
    command: "MESSAGE",
    headers: { destination: "/topic/s1", "message-id": "7", subscription: "sub-0" },
    body: "{\"id\":\"s1\"}",
  });
  const second = parse(first.rest + ":1}\0\n");
  assert.equal(second.frames[0].body, "{\"a\":1}");
  assert.equal(second.rest, "");
});

test("the first of repeated headers wins and CONNECTED values are not unescaped", () => {
  const { frames } = parse("ERROR\nmessage:first\nmessage:second\n\nbad\0CONNECTED\nversion:1.2\nserver:a\\cb\n\n\0");
  assert.equal(frames[0].headers.message, "first");
  assert.equal(frames[0].body, "bad");
  assert.equal(frames[1].headers.server, "a\\cb");
});
