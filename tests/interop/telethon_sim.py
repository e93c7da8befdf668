"""Telethon (Debian python3-telethon) pointed at tgsim: shared by tests/interop/telethon_client.py
and bench/mtproto_load_telethon.py."""
import json, sys, urllib.request

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from telethon import TelegramClient  # noqa: E402
from telethon.crypto import rsa  # noqa: E402
from telethon.sessions import MemorySession  # noqa: E402


def control(url):
    """GET of tgsim's control API (a whole URL): the JSON answer."""
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def control_post(url, body):
    """POST of a JSON body to tgsim's control API (a whole URL): the JSON answer."""
    r = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST',
                               headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(r, timeout=10) as res:
        return json.load(res)


def sim_client(port, dc, pem, **opts):
    """A TelegramClient (not connected yet) for DC `dc` at 127.0.0.1:port that trusts tgsim's
    public key in the file pem; opts go to TelegramClient (receive_updates is off unless given)."""
    rsa.add_key(open(pem).read(), old=False)
    session = MemorySession()
    session.set_dc(dc, '127.0.0.1', port)
    opts.setdefault('receive_updates', False)
    return TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', connection_retries=1,
                          **opts)
