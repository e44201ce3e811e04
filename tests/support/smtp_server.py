"""A local SMTP server for the email tests: aiosmtpd (PyPI) with AUTH PLAIN/LOGIN
over plain text on loopback. Every accepted mail is written to OUT_DIR as
NNNN.eml (the raw message, as received). Faults, for the tests that need them:
recipients listed in OUT_DIR/refuse get 550, while OUT_DIR/busy exists every
mail gets 451 (try again later), and while OUT_DIR/slow exists each mail's data is
accepted only after the seconds it says (a server that scans what it receives).

Usage: smtp_server.py PORT OUT_DIR USER PASSWORD [CERT KEY]
With CERT and KEY it offers STARTTLS and requires it before AUTH.
"""
import asyncio
import os
import sys
import time
import warnings

# Plain-text AUTH is what this loopback-only test server is for.
warnings.filterwarnings("ignore")
import logging  # noqa: E402

logging.getLogger("mail.log").setLevel(logging.ERROR)

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out_dir, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tls = None
if len(sys.argv) > 6:
    import ssl

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(sys.argv[5], sys.argv[6])
os.makedirs(out_dir, exist_ok=True)


class Store:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refuse = os.path.join(out_dir, "refuse")
        if os.path.exists(refuse):
            with open(refuse) as f:
                if address.lower() in [line.strip().lower() for line in f]:
                    return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(out_dir, "busy")):
            return "451 4.3.0 Try again later"
        slow = os.path.join(out_dir, "slow")
        if os.path.exists(slow):
            with open(slow) as f:
                await asyncio.sleep(float(f.read().strip() or "1"))
        n = len([f for f in os.listdir(out_dir) if f.endswith(".eml")])
        tmp = os.path.join(out_dir, "%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(out_dir, "%04d.eml" % n))
        return "250 OK queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
        and auth_data.password.decode() == password
    return AuthResult(success=ok)


controller = Controller(
    Store(),
    hostname="127.0.0.1",
    port=port,
    authenticator=authenticator,
    auth_require_tls=tls is not None,
    auth_required=True,
    tls_context=tls,
    require_starttls=tls is not None,
)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    controller.stop()
