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


def sim_client(port, dc, pem, **opts):
    """A TelegramClient (not connected yet) for DC `dc` at 127.0.0.1:port that trusts tgsim's
    public key in the file pem; opts go to TelegramClient."""
    rsa.add_key(open(pem).read(), old=False)
    session = MemorySession()
    session.set_dc(dc, '127.0.0.1', port)
    return TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', connection_retries=1,
                          receive_updates=False, **opts)
