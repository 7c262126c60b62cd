"""The PostgreSQL log's schema: tables, indexes and the triggers that enforce
its promises (events/backends/postgres.py lists them). Every statement is
idempotent, so an older database is brought up to date by re-running it.
"""

# Every statement in SCHEMA is idempotent, so an older database is brought up
# to date by re-running it. Version 2 added `event_keys` (idempotent remember
# and import, as SQLite's version 4); version 3 the damage marker (`log_damage`
# and the trigger that reads it).
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq            bigint  PRIMARY KEY,
    id             text    COLLATE "C" NOT NULL UNIQUE,
    type           text    COLLATE "C" NOT NULL,
    schema_version integer NOT NULL,
    recorded_at    text    COLLATE "C" NOT NULL,
    occurred_at    text    COLLATE "C" NOT NULL,
    actor          text    NOT NULL,
    causation      bigint  REFERENCES events(seq),
    stage          text    COLLATE "C",
    payload        bytea   NOT NULL,
    checksum       text    COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS events_type ON events(type, seq);
CREATE INDEX IF NOT EXISTS events_recorded ON events(recorded_at);
CREATE INDEX IF NOT EXISTS events_occurred ON events(occurred_at);
CREATE INDEX IF NOT EXISTS events_causation ON events(causation) WHERE causation IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS events_derivation
    ON events(type, causation, stage) WHERE causation IS NOT NULL AND stage IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_memories (
    memory_id text   COLLATE "C" NOT NULL,
    seq       bigint NOT NULL REFERENCES events(seq),
    PRIMARY KEY (memory_id, seq)
);
CREATE TABLE IF NOT EXISTS event_keys (
    key text   COLLATE "C" PRIMARY KEY,
    seq bigint NOT NULL REFERENCES events(seq)
);
CREATE OR REPLACE FUNCTION memman_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only' USING ERRCODE = 'MM001';
END $$;
CREATE OR REPLACE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE TRIGGER event_memories_no_update BEFORE UPDATE ON event_memories
    FOR EACH ROW EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE TRIGGER event_memories_no_delete BEFORE DELETE ON event_memories
    FOR EACH ROW EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE TRIGGER event_memories_no_truncate BEFORE TRUNCATE ON event_memories
    FOR EACH STATEMENT EXECUTE FUNCTION memman_append_only();
CREATE OR REPLACE FUNCTION memman_notify_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('memman_log', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION memman_notify_append();
CREATE TABLE IF NOT EXISTS log_damage (problem text NOT NULL);
CREATE OR REPLACE FUNCTION memman_refuse_damaged() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    finding text;
BEGIN
    SELECT problem INTO finding FROM log_damage LIMIT 1;
    IF finding IS NOT NULL THEN
        RAISE EXCEPTION 'the event log was found damaged' USING ERRCODE = 'MM002', DETAIL = finding;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_refuse_damaged BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION memman_refuse_damaged();
CREATE TABLE IF NOT EXISTS memman_schema (version integer NOT NULL);
"""

NOTIFY_CHANNEL = "memman_log"  # every append transaction notifies it on commit (wakes idle workers)

APPEND_ONLY_TRIGGERS = (
    "events_no_update",
    "events_no_delete",
    "events_no_truncate",
    "event_memories_no_update",
    "event_memories_no_delete",
    "event_memories_no_truncate",
)
