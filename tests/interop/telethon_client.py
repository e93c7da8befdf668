#!/usr/bin/python3
"""Telethon (Debian python3-telethon, its own layer) against tgsim's data centres.

usage: telethon_client.py --port P --dc N --pem FILE --phone PHONE --password PW
                          --control http://127.0.0.1:PORT --channel USERNAME [--approve USER_ID]

Connects to 127.0.0.1:P as DC N with tgsim's public key, pings, logs in with the code read from
the control API (GET /control/login-code) and the 2FA password, resolves the channel, lists its
pending join requests (messages.getChatInviteImporters, requested) and approves --approve (or the
first listed) with messages.hideChatJoinRequest; then reads the links it made
(messages.getExportedChatInvites) and the channel's admin log of joins by request
(channels.getAdminLog). Prints one JSON object with what it saw."""
import argparse, asyncio, json, logging, os

from telethon_sim import control, sim_client  # first: it puts Debian's telethon on sys.path
from telethon import errors, functions, types
from telethon.tl.alltlobjects import LAYER


async def main(a):
    client = sim_client(a.port, a.dc, a.pem)
    out = {'client': 'telethon', 'layer': LAYER}
    await client.connect()
    out['handshake'] = client.session.auth_key is not None and client.session.auth_key.key is not None
    pong = await client(functions.PingRequest(ping_id=7777))
    out['pong_ping_id'] = pong.ping_id

    sent = await client.send_code_request(a.phone)
    code = control('%s/control/login-code?phone=%s' % (a.control, a.phone))['code']
    try:
        await client.sign_in(a.phone, code, phone_code_hash=sent.phone_code_hash)
        out['password_needed'] = False
    except errors.SessionPasswordNeededError:
        out['password_needed'] = True
        await client.sign_in(password=a.password)
    me = await client.get_me()
    out['me'] = {'id': me.id, 'first_name': me.first_name, 'is_self': bool(me.is_self)}

    channel = await client.get_input_entity(a.channel)
    res = await client(functions.messages.GetChatInviteImportersRequest(
        peer=channel, offset_date=None, offset_user=types.InputUserEmpty(), limit=100, requested=True))
    out['importers'] = {'count': res.count,
                        'items': [{'user_id': i.user_id, 'date': int(i.date.timestamp()), 'about': i.about,
                                   'requested': bool(i.requested)} for i in res.importers]}
    target = a.approve or (res.importers[0].user_id if res.importers else None)
    user = next(u for u in res.users if u.id == target)
    upd = await client(functions.messages.HideChatJoinRequestRequest(
        peer=channel, user_id=types.InputUser(user.id, user.access_hash), approved=True))
    out['approved'] = {'user_id': target, 'result': type(upd).__name__}
    try:
        await client(functions.messages.HideChatJoinRequestRequest(
            peer=channel, user_id=types.InputUser(user.id, user.access_hash), approved=True))
        out['again'] = 'ok'
    except errors.RPCError as e:
        out['again'] = type(e).__name__  # Telethon names the error by its class (HideRequesterMissingError)
    inv = await client(functions.messages.GetExportedChatInvitesRequest(
        peer=channel, admin_id=types.InputUserSelf(), limit=10))
    out['links'] = [{'link': i.link, 'title': i.title, 'request_needed': bool(i.request_needed),
                     'requested': i.requested, 'usage': i.usage} for i in inv.invites]
    log = await client(functions.channels.GetAdminLogRequest(
        channel=channel, q='', max_id=0, min_id=0, limit=10,
        events_filter=types.ChannelAdminLogEventsFilter(join=True)))
    out['admin_log'] = [{'user_id': e.user_id, 'approved_by': e.action.approved_by,
                         'link': e.action.invite.link} for e in log.events]
    await client.disconnect()
    print(json.dumps(out))


p = argparse.ArgumentParser()
for k in ('port', 'dc', 'approve'):
    p.add_argument('--' + k, type=int)
for k in ('pem', 'phone', 'password', 'control', 'channel'):
    p.add_argument('--' + k)
if os.environ.get('TELETHON_DEBUG'): logging.basicConfig(level=logging.DEBUG)
asyncio.run(main(p.parse_args()))
