#!/usr/bin/python3
"""Telethon (Debian python3-telethon, layer 144) receiving tgsim's pushed updates.

usage: telethon_updates.py --port P --dc N --pem FILE --phone PHONE --control URL --channel ID
                           --bot_token TOKEN --bot_channel ID

Logs in with updates on (Telethon's own update handling: its MessageBox checks every pts and seq
and fills gaps with updates.getDifference by itself), reads updates.getState, then through the
control API: a join request to the channel (which the account administers) must come as a pushed
updatePendingJoinRequests; 5 unrelated updates (service messages) must come as updateNewMessage
in pts order; 3 hidden ones (logged, never pushed) and 1 more: Telethon sees the pts gap and
fetches the hidden ones with getDifference; an explicit updates.getDifference from the first
state lists all of it, and from the state it gave no message again (the seq-only
updatePendingJoinRequests of the same second may come again: a state, not an event); with the control's difference_too_long at 5 the same call answers
updates.differenceTooLong; 100 more hidden ones make the difference from the first state come in a
differenceSlice of 100, then the rest. Then a bot logs in (auth.importBotAuthorization): a request
in --bot_channel (which it administers) comes as a pushed updateBotChatInviteRequester (qts 1),
which its getDifference from its first state lists too. Prints one JSON object with what it saw."""
import argparse, asyncio, json, logging, os

from telethon_sim import control, control_post, sim_client  # first: puts telethon on sys.path
from telethon import events, functions, types
from telethon.tl.alltlobjects import LAYER


async def wait_until(cond, what, seconds=10):
    for _ in range(seconds * 20):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError('no ' + what)


async def main(a):
    client = sim_client(a.port, a.dc, a.pem, receive_updates=True)
    out = {'client': 'telethon', 'layer': LAYER}
    pending, texts = [], []

    @client.on(events.Raw)
    async def on_raw(u):
        if isinstance(u, types.UpdatePendingJoinRequests):
            pending.append({'channel_id': u.peer.channel_id, 'requests_pending': u.requests_pending,
                            'recent_requesters': u.recent_requesters})
        elif isinstance(u, types.UpdateNewMessage) and u.message.message.startswith('Unrelated'):
            texts.append(u.message.message)

    await client.connect()
    sent = await client.send_code_request(a.phone)
    code = control('%s/control/login-code?phone=%s' % (a.control, a.phone))['code']
    await client.sign_in(a.phone, code, phone_code_hash=sent.phone_code_hash)
    me = await client.get_me()
    s0 = await client(functions.updates.GetStateRequest())
    out['state'] = {'pts': s0.pts, 'qts': s0.qts}

    ctl = a.control + '/control'
    jr = control_post(ctl + '/join-requests', {'chat_id': int(a.channel), 'count': 1, 'bio': 'pushed'})
    await wait_until(lambda: pending, 'updatePendingJoinRequests')
    out['pushed'] = pending[0]
    out['requester'] = jr['first_user_id']

    control_post('%s/accounts/%d/updates' % (ctl, me.id), {'count': 5})
    await wait_until(lambda: len(texts) >= 5, '5 updateNewMessage')
    control_post('%s/accounts/%d/updates' % (ctl, me.id), {'count': 3, 'hidden': True})
    control_post('%s/accounts/%d/updates' % (ctl, me.id), {'count': 1})
    await wait_until(lambda: len(texts) >= 9, 'the hidden updates through its getDifference')
    out['texts'] = texts
    out['gap_filled_by'] = control('%s/accounts/%d/updates' % (ctl, me.id))['difference_calls']

    d = await client(functions.updates.GetDifferenceRequest(pts=s0.pts, date=s0.date, qts=s0.qts))
    out['difference'] = {'type': type(d).__name__, 'new_messages': len(d.new_messages),
                         'other': [type(u).__name__ for u in d.other_updates],
                         'chats': [c.id for c in d.chats], 'state_pts': d.state.pts}
    e = await client(functions.updates.GetDifferenceRequest(pts=d.state.pts, date=d.state.date,
                                                             qts=d.state.qts))
    out['again'] = {'type': type(e).__name__, 'new_messages': len(getattr(e, 'new_messages', []))}
    control_post(ctl + '/config', {'difference_too_long': 5})
    t = await client(functions.updates.GetDifferenceRequest(pts=s0.pts, date=s0.date, qts=s0.qts))
    control_post(ctl + '/config', {'difference_too_long': 0})
    out['too_long'] = {'type': type(t).__name__, 'pts': t.pts}
    # 100 more, hidden: from the first state that is 109 messages, more than one answer holds
    control_post('%s/accounts/%d/updates' % (ctl, me.id), {'count': 100, 'hidden': True})
    sl = await client(functions.updates.GetDifferenceRequest(pts=s0.pts, date=s0.date, qts=s0.qts))
    st = sl.intermediate_state
    rest = await client(functions.updates.GetDifferenceRequest(pts=st.pts, date=st.date, qts=st.qts))
    out['slice'] = {'type': type(sl).__name__, 'new_messages': len(sl.new_messages),
                    'other': len(sl.other_updates), 'pts': st.pts,
                    'rest': type(rest).__name__, 'rest_messages': len(rest.new_messages),
                    'rest_pts': rest.state.pts}
    await client.disconnect()

    # a bot logged in over MTProto (auth.importBotAuthorization) is pushed
    # updateBotChatInviteRequester (a qts update) for a request in a channel it administers
    bot = sim_client(a.port, a.dc, a.pem, receive_updates=True)
    asked = []

    @bot.on(events.Raw)
    async def on_bot_raw(u):
        if isinstance(u, types.UpdateBotChatInviteRequester):
            asked.append({'channel_id': u.peer.channel_id, 'user_id': u.user_id, 'about': u.about,
                          'invite': type(u.invite).__name__, 'qts': u.qts})

    await bot.connect()
    await bot.sign_in(bot_token=a.bot_token)
    b0 = await bot(functions.updates.GetStateRequest())
    jr = control_post(ctl + '/join-requests', {'chat_id': int(a.bot_channel), 'count': 1, 'bio': 'to the bot'})
    await wait_until(lambda: asked, 'updateBotChatInviteRequester')
    out['bot'] = {'pushed': asked[0], 'requester': jr['first_user_id'], 'qts0': b0.qts}
    bd = await bot(functions.updates.GetDifferenceRequest(pts=b0.pts, date=b0.date, qts=b0.qts))
    out['bot']['difference'] = [type(u).__name__ for u in bd.other_updates]
    out['bot']['difference_qts'] = bd.state.qts
    await bot.disconnect()
    print(json.dumps(out))


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    for k in ('port', 'dc', 'pem', 'phone', 'control', 'channel', 'bot_token', 'bot_channel'):
        p.add_argument('--' + k, required=True)
    a = p.parse_args()
    if os.environ.get('TELETHON_DEBUG'):
        logging.basicConfig(level=logging.DEBUG)
    asyncio.run(main(a))
