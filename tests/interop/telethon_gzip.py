#!/usr/bin/python3
"""Telethon (Debian python3-telethon) sending every content-related request in a gzip_packed, to
tgsim's data centres.

usage: telethon_gzip.py --port P --dc N --pem FILE

Three clients, each with a new key: one packs with gzip (as Telethon does for requests over 512
bytes), one with zlib (a 78 9c stream, as some clients in the wild do), one packs twice (a
gzip_packed inside a gzip_packed). Each connects (its first request,
invokeWithLayer(initConnection(help.getConfig)), goes out packed as a whole) and calls
help.getConfig again. Prints one JSON object: this_dc for a client whose calls were answered, the
error for the others."""
import argparse, asyncio, gzip, json, struct, zlib

from telethon_sim import sim_client  # first: it puts Debian's telethon on sys.path
from telethon import errors, functions
from telethon.tl import TLObject
from telethon.tl.core.gzippacked import GzipPacked

MODES = {
    'gzip': lambda data: pack(gzip.compress(data)),
    'zlib': lambda data: pack(zlib.compress(data)),
    'nested': lambda data: pack(gzip.compress(pack(gzip.compress(data)))),
}


def pack(stream):
    return struct.pack('<I', GzipPacked.CONSTRUCTOR_ID) + TLObject.serialize_bytes(stream)


async def one(a, mode):
    # every content-related request packed, however small, the way this mode packs
    GzipPacked.gzip_if_smaller = staticmethod(lambda content_related, data:
                                              MODES[mode](data) if content_related else data)
    client = sim_client(a.port, a.dc, a.pem)
    try:
        await client.connect()  # its first request: invokeWithLayer(initConnection(help.getConfig))
        cfg = await client(functions.help.GetConfigRequest())
        return {'this_dc': cfg.this_dc}
    except errors.RPCError as e:
        return {'error': type(e).__name__, 'code': e.code}
    finally:
        await client.disconnect()


async def main(a):
    out = {}
    for mode in MODES:
        out[mode] = await one(a, mode)
    print(json.dumps(out))


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--dc', type=int, required=True)
    p.add_argument('--pem', required=True)
    asyncio.run(main(p.parse_args()))
