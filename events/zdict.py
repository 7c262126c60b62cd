"""The preset dictionary of compressed event payloads (events/codec.py).

Deflate starts every payload with this text as if it had just been written,
so the field names, type tags and common values that every event repeats
(`memory_id`, `provenance`, `edge_type`, `temporal`, the default embedder's
fingerprint, ...) cost a back-reference instead of their bytes: a
`memory.remembered` payload of ~270 bytes is stored in ~160 instead of as
it is, an `edges.inferred` of ~1.9 KB in ~380 instead of ~580 with plain
zlib (docs/drain-costs.md, "Compact log, fourth pass").

It is the msgpack encoding of one hand-written example of the common event
types (structure and vocabulary only, no user data). It is part of the
stored format: a payload marked with dictionary 1 can only be read with
these exact bytes, so this text is never edited (tests/events/test_codec.py
pins its digest). A better dictionary is added beside it under a new
number, and writers switch to it; readers keep every number they know.
"""

from __future__ import annotations

import base64

_DICTIONARY_1 = base64.b64decode(
    "haR0eXBlr21lbW9yeS5lbWJlZGRlZKtmaW5nZXJwcmludNkgc3RhdGljOm1pbmlsbS1sNi1zdGF0aWMtMjU2OjI1NjqjZGltzQEA"
    "p3ZlY3RvcnORgqltZW1vcnlfaWS6MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDCkZGF0YcQAqnByb3ZlbmFuY2WIrmltcGxlbWVu"
    "dGF0aW9upnN0YXRpY6d2ZXJzaW9uoTGlbW9kZWy0bWluaWxtLWw2LXN0YXRpYy0yNTarcHJvbXB0X2hhc2jAq2ZpbmdlcnByaW50"
    "2SBzdGF0aWM6bWluaWxtLWw2LXN0YXRpYy0yNTY6MjU2OqpsYXRlbmN5X21zywAAAAAAAAAAqXRva2Vuc19pbgCqdG9rZW5zX291"
    "dACLpHR5cGWxbWVtb3J5LnJlbWVtYmVyZWSpbWVtb3J5X2lkujAxSjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwpHRleHSwVGhlIHVz"
    "ZXIgcHJlZmVyc6hjYXRlZ29yeapwcmVmZXJlbmNlqmltcG9ydGFuY2UDqGVudGl0aWVzkaR1c2VypnNvdXJjZaR1c2VypG1ldGGA"
    "qHJlcGxhY2VzwKt2YWxpZF91bnRpbMCja2V5pWxpbmU6haR0eXBlr2ZhY3RzLmV4dHJhY3RlZKhpbnB1dF9pZLowMUowMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMKVmYWN0c5GFqW1lbW9yeV9pZLowMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMKR0ZXh0o1RoZahjYXRl"
    "Z29yeaRmYWN0qmltcG9ydGFuY2UDqGVudGl0aWVzkKh3YXJuaW5nc5CqcHJvdmVuYW5jZYiuaW1wbGVtZW50YXRpb26lcnVsZXOn"
    "dmVyc2lvbqExpW1vZGVswKtwcm9tcHRfaGFzaMCrZmluZ2VycHJpbnTAqmxhdGVuY3lfbXPLAAAAAAAAAACpdG9rZW5zX2luAKp0"
    "b2tlbnNfb3V0AISkdHlwZbFtZW1vcnkucmVjb25jaWxlZKhpbnB1dF9pZLowMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMKlkZWNp"
    "c2lvbnORhqltZW1vcnlfaWS6MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDCmYWN0aW9uo0FERKZ0YXJnZXTApnJlYXNvbqCqY2Fu"
    "ZGlkYXRlc5GCqW1lbW9yeV9pZLowMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMKpzaW1pbGFyaXR5yz/gAAAAAAAApHRleHTAqnBy"
    "b3ZlbmFuY2WIrmltcGxlbWVudGF0aW9upXJ1bGVzp3ZlcnNpb26hMqVtb2RlbMCrcHJvbXB0X2hhc2jAq2ZpbmdlcnByaW50wKps"
    "YXRlbmN5X21zywAAAAAAAAAAqXRva2Vuc19pbgCqdG9rZW5zX291dACEpHR5cGWuZWRnZXMuaW5mZXJyZWSlZWRnZXOVhaNzcmO6"
    "MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDCjZHN0ujAxSjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwqWVkZ2VfdHlwZah0ZW1wb3Jh"
    "bKZ3ZWlnaHTLP/AAAAAAAACkbWV0YYGjcmVsqHByZWNlZGVzhaNzcmO6MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDCjZHN0ujAx"
    "SjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwqWVkZ2VfdHlwZaZlbnRpdHmmd2VpZ2h0yz/gAAAAAAAApG1ldGGBpmVudGl0eaCFo3Ny"
    "Y7owMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMKNkc3S6MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDCpZWRnZV90eXBlqHNlbWFu"
    "dGljpndlaWdodMs/4AAAAAAAAKRtZXRhgIWjc3JjujAxSjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwo2RzdLowMUowMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMKllZGdlX3R5cGWmY2F1c2FspndlaWdodMs/4AAAAAAAAKRtZXRhg6NjdWWnYmVjYXVzZapjb25maWRlbmNl"
    "pDAuNTCiYnmlcnVsZXOFo3NyY7owMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMKNkc3S6MDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDCpZWRnZV90eXBlqHRlbXBvcmFspndlaWdodMs/4AAAAAAAAKRtZXRhgaNyZWykbmVhcqpwcm92ZW5hbmNliK5pbXBsZW1lbnRh"
    "dGlvbqVydWxlc6d2ZXJzaW9uoXClbW9kZWzAq3Byb21wdF9oYXNowKtmaW5nZXJwcmludMCqbGF0ZW5jeV9tc8sAAAAAAAAAAKl0"
    "b2tlbnNfaW4AqnRva2Vuc19vdXQAqGlucHV0X2lkujAxSjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
)


def dictionary(number: int) -> bytes | None:
    """The preset dictionary stored payloads name by `number`, if known."""
    return _DICTIONARY_1 if number == 1 else None
