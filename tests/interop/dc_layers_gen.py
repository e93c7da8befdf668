#!/usr/bin/python3
"""Prints the constructor definitions of older layers that tgsim needs to answer a client in the
layer it announced: for each constructor tgsim encodes or decodes (NAMES), walking from our layer (the
newest schema pinned in tools/tlgen/schemas.json) down through the older pinned schemas (mtcute's, by
layer), GramJS (tests/interop/node_modules/telegram, layer 198) and Telethon (Debian
python3-telethon 1.25.1, layer 144), a definition is printed where it differs from the one the
next newer layer uses. tgsim encodes layer L with the entry of the smallest layer >= L (dc_tl.h).
The output is src/sim/dc_layers.c (dc_layers_gen.py > src/sim/dc_layers.c); rerun after changing
the pinned schemas or clients, or the names below.
Telethon ships no .tl file: its lines are rebuilt from the generated from_reader() code."""
import inspect, json, os, re, sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from telethon.tl import alltlobjects

ROOT = os.path.dirname(os.path.abspath(__file__)) + '/../..'
# Everything tgsim's data centres encode or decode (api layer objects and methods).
NAMES = '''user channel chatInviteExported chatInvitePublicJoinRequests messages.exportedChatInvites
messages.getExportedChatInvites messages.getAdminsWithInvites messages.chatAdminsWithInvites chatAdminWithInvites
channels.getAdminLog channels.adminLogResults channelAdminLogEvent channelAdminLogEventActionParticipantJoinByRequest
channelAdminLogEventsFilter chatInviteImporter messages.chatInviteImporters auth.authorization auth.sentCode
auth.sentCodeTypeApp account.password passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow
passwordKdfAlgoUnknown securePasswordKdfAlgoSHA512 config dcOption channelFull messages.chatFull channels.channelParticipant
channelParticipantAdmin channelParticipantCreator channelParticipant channelParticipantSelf chatAdminRights
updates contacts.resolvedPeer peerChannel peerUser messages.chats chatPhotoEmpty userProfilePhotoEmpty
peerNotifySettings chatParticipantsForbidden photoEmpty userStatusEmpty updates.state auth.loggedOut
nearestDc invokeWithLayer initConnection help.getConfig auth.sendCode codeSettings auth.signIn
auth.resendCode auth.sentCodeTypeSms auth.sentCodeTypeSetUpEmailRequired auth.codeTypeSms
auth.authorizationSignUpRequired
account.getPassword auth.checkPassword inputCheckPasswordSRP messages.getChatInviteImporters
inputPeerChannel inputPeerEmpty inputPeerSelf inputUserEmpty inputUserSelf inputUser inputChannel
inputChannelEmpty messages.hideChatJoinRequest messages.hideAllChatJoinRequests channels.getChannels
users.getUsers contacts.resolveUsername channels.getFullChannel channels.getParticipant auth.logOut
auth.importBotAuthorization updates.getState help.getNearestDc invokeWithoutUpdates jsonObject
jsonObjectValue jsonString jsonNumber jsonBool jsonNull jsonArray inputClientProxy
channels.editBanned chatBannedRights inputPeerUser channelParticipantBanned channels.getParticipants
channelParticipantsKicked channels.channelParticipants photos.getUserPhotos photos.photos
photos.photosSlice photo photoSize userProfilePhoto updatePendingJoinRequests updateNewMessage message
updates.getDifference updates.difference updates.differenceEmpty updates.differenceSlice updates.differenceTooLong
updateBotChatInviteRequester'''.split()

PINNED = json.load(open(ROOT + '/tools/tlgen/schemas.json'))['layers']
LAYERS = sorted((int(l) for l in PINNED), reverse=True)
OURS = LAYERS[0]


def tl_arg(a):
    tm = a.get('typeModifiers', {})
    if tm.get('isBareType') or tm.get('isBareVector'): sys.exit('bare type in ' + a['name'])
    t = 'long' if a['type'] == 'int53' else a['type']  # mtcute's name for a long that fits a double
    if tm.get('isVector'): t = 'Vector<%s>' % t
    return '%s:%s%s' % (a['name'], tm['predicate'] + '?' if 'predicate' in tm else '', t)


def mtcute(layer):
    """name -> (id, "name#id fields = Type") of the pinned schema of the layer (tools/tlgen/fetch.sh)."""
    schema = json.load(open('%s/tools/tlgen/schemas/%d/api-schema.json' % (ROOT, layer)))
    if schema['l'] != layer: sys.exit('tools/tlgen/schemas/%d is layer %d' % (layer, schema['l']))
    out = {}
    for e in schema['e']:
        line = '%s#%08x %s= %s' % (e['name'], e['id'], ''.join(tl_arg(a) + ' ' for a in e['arguments']), e['type'])
        out[e['name']] = (e['id'], line)
    return out


def gramjs():
    src = open(ROOT + '/tests/interop/node_modules/telegram/tl/apiTl.js').read()
    out = {}
    for line in src.split('\n'):
        m = re.match(r'^([\w.]+)#([0-9a-f]+) (.*);$', line)
        if m: out[m.group(1)] = (int(m.group(2), 16), line.rstrip(';'))
    return out


TYPES = {'read_int': 'int', 'read_long': 'long', 'tgread_string': 'string', 'tgread_bytes': 'bytes',
         'tgread_bool': 'Bool', 'read_double': 'double', 'tgread_object': 'Object', 'read_large_int': 'int128', 'tgread_date': 'int'}


def telethon_line(name, cls):
    """name#id fields = Type, from from_reader(); boxed objects are typed Object."""
    src = inspect.getsource(cls.from_reader)
    fields, cond = [], None
    lines = src.split('\n')
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        m = re.match(r'^(flags\d*) = reader\.read_int\(\)$', s)
        if m: fields.append('%s:#' % m.group(1))
        m = re.match(r'^_(\w+) = bool\((flags\d*) & (\d+)\)$', s)
        if m: fields.append('%s:%s.%d?true' % (m.group(1), m.group(2), int(m.group(3)).bit_length() - 1))
        m = re.match(r'^if (flags\d*) & (\d+):$', s)
        if m: cond = '%s.%d?' % (m.group(1), int(m.group(2)).bit_length() - 1)
        m = re.match(r'^_(\w+) = reader\.(\w+)\((\d*)\)$', s)
        if m:
            t = TYPES[m.group(2)]
            if m.group(2) == 'read_large_int': t = 'int%s' % m.group(3)
            fields.append('%s:%s%s' % (m.group(1), cond or '', t))
            cond = None
        m = re.match(r'^_(\w+) = \[\]$', s)
        if m:
            # reader.read_int() (vector id) was the previous line; the element read is two lines down
            el = re.match(r'^_x = reader\.(\w+)\(\)$', lines[i + 2].strip())
            fields.append('%s:%sVector<%s>' % (m.group(1), cond or '', TYPES[el.group(1)]))
            cond = None
            i += 2
        i += 1
    fields = [f.replace('is_self:', 'self:') for f in fields]
    return '%s#%08x %s= Object' % (name, cls.CONSTRUCTOR_ID, ' '.join(fields) + ' ' if fields else '')


def telethon():
    out = {}
    for cid, cls in alltlobjects.tlobjects.items():
        mod = cls.__module__.split('.')
        ns = mod[-1] if mod[-1] not in ('types', 'functions', 'patched') else ''  # patched: Message
        n = cls.__name__
        if 'functions' in mod and n.endswith('Request'): n = n[:-7]
        key = ((ns + '.') if ns else '') + n.lower().replace('_', '')
        out[key] = (cid, cls)
    return out


ours = mtcute(OURS)
# (layer, name -> (id, line)), newest first
older = [(l, mtcute(l)) for l in LAYERS[1:]] + [(198, gramjs())]
tt = telethon()
print('''/* dc_layers.c: definitions of older layers that differ from the next newer layer's, for the
 * constructors tgsim encodes or decodes (see dc_tl.h); our layer is %d. Generated by
 * tests/interop/dc_layers_gen.py, do not edit. */
#include "core/common.h"

#include "sim/dc_layers.h"

const struct dc_layer_def dc_layer_defs[] = {
    /* layer 0: decoded only: MTProto definitions older clients still send (Telethon 1.25) */
    {0, "req_pq#60469778 nonce:int128 = ResPQ"},
    {0, "p_q_inner_data#83c95aec pq:bytes p:bytes q:bytes nonce:int128 server_nonce:int128 new_nonce:int256 = P_Q_inner_data"},''' % OURS)
for name in NAMES:
    if name not in ours: sys.exit('not in layer %d: %s' % (OURS, name))
    cur = ours[name][0]
    for layer, defs in older:
        if name in defs and defs[name][0] != cur:
            print('    {%d, "%s"},' % (layer, defs[name][1]))
            cur = defs[name][0]
    k = name.lower().replace('_', '')
    if k in tt and tt[k][0] != cur:
        print('    {144, "%s"},' % telethon_line(name, tt[k][1]))
print('''};
const size_t dc_layer_ndefs = sizeof dc_layer_defs / sizeof dc_layer_defs[0];''')
