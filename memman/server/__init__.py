"""The warm path: one recall server per user and data dir.

A cold `memman recall` spends most of its time importing (numpy, msgspec, the
extractor, the embedder's vocabulary) before ~20 ms of real work. The warm
server pays that once and answers the hot-path commands (`recall`, `hook ...`)
over an owner-only Unix socket, so a hook or a recall costs an interpreter
start plus a round trip.

- `wire`: what client and server share: where the socket lives, which argv
  the server serves, the frame format. Standard library only.
- `client`: forwards one invocation; any failure means "run it in-process".
  Standard library only: it runs before anything heavy is imported.
- `daemon`: the server loop: peer check, version check, run the command with
  the client's argv, stdin, environment and working directory, reply.
- `spawn`: starts a detached server on demand, one per socket (file lock).

The server runs the very code a cold process runs (`memman.entry`), and every
read catches the projections up from the log first, so it is never staler
than a cold process. A crash, a stale socket, a version mismatch or a timeout
falls back to the in-process path with no user-visible error. See
docs/warm-path.md.
"""
