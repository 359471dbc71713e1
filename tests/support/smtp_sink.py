"""A real SMTP server for tests: aiosmtpd, recording each message as
<dir>/<n>.json with its envelope and data.  Usage: smtp_sink.py PORT DIR"""
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(len(os.listdir(outdir)))

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.outdir, f"{next(self.counter):06d}.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "data": envelope.content.decode("utf-8", "replace")},
                      f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    ctl = Controller(Recorder(outdir), hostname="127.0.0.1", port=port)
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
