"""A real SMTP server for tests: aiosmtpd, recording each message as
<dir>/<n>.json with its envelope and data.

Usage: smtp_sink.py PORT DIR [CERT KEY USER PASSWORD [implicit]]
With a certificate, STARTTLS is offered and required (or, with
"implicit", TLS from the first byte, as smtps), and so is AUTH
(PLAIN/LOGIN) as USER with PASSWORD; each record then says whether the
session was encrypted and who logged in."""
import asyncio
import itertools
import json
import os
import sys

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(len(os.listdir(outdir)))

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.outdir, f"{next(self.counter):06d}.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "data": envelope.content.decode("utf-8", "replace"),
                       "tls": session.ssl is not None,
                       "login": session.authenticated and
                       session.auth_data.login.decode()},
                      f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    extra = {}
    if len(sys.argv) > 3:
        cert, key, user, password = sys.argv[3:7]
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)

        def check(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and
                  data.login.decode() == user and
                  data.password.decode() == password)
            return AuthResult(success=ok, auth_data=data)
        extra = dict(tls_context=ctx, require_starttls=True,
                     authenticator=check, auth_required=True,
                     auth_require_tls=True)
        if sys.argv[7:8] == ["implicit"]:
            # aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH
            extra = dict(ssl_context=ctx, authenticator=check,
                         auth_required=True, auth_require_tls=False)
    ctl = Controller(Recorder(outdir), hostname="127.0.0.1", port=port,
                     **extra)
    ctl.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
