#!/usr/bin/python3
"""The reference for bench/mtproto_load_bench.c: Telethon (Debian python3-telethon) loading every
pending join request of a channel from tgsim, 100 per messages.getChatInviteImporters call, paged by
(offset_date, offset_user) as doorman's loader does.

usage: mtproto_load_telethon.py --port P --dc N --pem FILE --phone PHONE --control URL --channel NAME

Logs in with the code read from tgsim's control API (as tests/interop/telethon_client.py), resolves
the channel, then times the paging alone. Prints one JSON line: {"seconds", "pages", "loaded",
"distinct", "count", "layer"}."""
import argparse, asyncio, json, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'interop'))
from telethon_sim import control, sim_client  # noqa: E402 (first: it puts Debian's telethon on sys.path)
from telethon import functions, types  # noqa: E402
from telethon.tl.alltlobjects import LAYER  # noqa: E402


async def main(a):
    client = sim_client(a.port, a.dc, a.pem, flood_sleep_threshold=0)
    await client.connect()
    sent = await client.send_code_request(a.phone)
    code = control('%s/control/login-code?phone=%s' % (a.control, a.phone))['code']
    await client.sign_in(a.phone, code, phone_code_hash=sent.phone_code_hash)
    channel = await client.get_input_entity(a.channel)

    start = time.monotonic()
    offset_date, offset_user = None, types.InputUserEmpty()
    pages, loaded, seen, count = 0, 0, set(), None
    while True:
        res = await client(functions.messages.GetChatInviteImportersRequest(
            peer=channel, offset_date=offset_date, offset_user=offset_user, limit=100, requested=True))
        pages += 1
        count = res.count
        if not res.importers:
            break
        users = {u.id: u for u in res.users}
        for imp in res.importers:
            seen.add(imp.user_id)
        loaded += len(res.importers)
        last = res.importers[-1]
        offset_date = last.date
        offset_user = types.InputUser(last.user_id, users[last.user_id].access_hash)
        if loaded >= res.count:
            break
    seconds = time.monotonic() - start
    await client.disconnect()
    print(json.dumps({'seconds': seconds, 'pages': pages, 'loaded': loaded, 'distinct': len(seen),
                      'count': count, 'layer': LAYER}))


p = argparse.ArgumentParser()
for k in ('port', 'dc'):
    p.add_argument('--' + k, type=int, required=True)
for k in ('pem', 'phone', 'control', 'channel'):
    p.add_argument('--' + k, required=True)
asyncio.run(main(p.parse_args()))
