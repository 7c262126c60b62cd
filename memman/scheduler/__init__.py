"""The background scheduler: running/stopped state, heartbeat, the serve loop,
systemd/launchd units behind a small control interface, and the drain queue.

    <data_dir>/scheduler/stopped         present = recall-only (writes and drains refused)
    <data_dir>/scheduler/heartbeat.json  the last drain pass: when, by whom, what it did
    <data_dir>/scheduler/trigger         touched by `scheduler trigger` to wake `serve`

config.toml's `[scheduler] state` is the setting people read and set; the
marker file mirrors it so the write path pays one stat(), not a TOML parse.
"""
