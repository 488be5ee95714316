#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd).

Listens on a free loopback port and prints `READY <port>` once accepting. Every message
received is written to OUT_DIR as one JSON file (mail_from, rcpt_tos, subject, body, decoded
by Python's email package). Optional: STARTTLS (--cert/--key), implicit TLS (--implicit-tls),
AUTH PLAIN/LOGIN required for one user (--user/--password). Exits when its standard input
closes, so it never outlives the test that started it.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, out_dir):
        self.out_dir = out_dir

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "body": body.get_content() if body is not None else "",
        }
        name = uuid.uuid4().hex
        tmp = os.path.join(self.out_dir, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        # Renamed into place so a reader never sees half a file.
        os.replace(tmp, os.path.join(self.out_dir, name + ".json"))
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd itself answers 535 on a failure.
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    kwargs = {"hostname": "localhost"}
    if context is not None and not args.implicit_tls:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.user:
        kwargs["authenticator"] = authenticator(args.user, args.password or "")
        kwargs["auth_required"] = True
        # Over plain text AUTH is allowed only when no TLS is configured at all.
        kwargs["auth_require_tls"] = context is not None and not args.implicit_tls
    handler = Recorder(args.out_dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **kwargs),
        host="127.0.0.1",
        port=0,
        ssl=context if args.implicit_tls else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
