"""The seed lab's state API, rebuilt to its design as the baseline for bench/api-vs-seed.ts.

One `state` table (key, JSON value, updated_at) in SQLite WAL mode with synchronous=NORMAL and
busy_timeout=5000, one connection per thread (Flask's threaded dev server, as the seed ran it),
GET /api/state selecting every row and JSON-decoding each value, POST /api/command writing the body's
keys in one transaction, retried with backoff on "database is locked".
Usage: python3 seed_state_server.py <db-file> <port> [seed-json-file]
"""
import json
import sqlite3
import sys
import threading
import time

from flask import Flask, jsonify, request

DB, PORT = sys.argv[1], int(sys.argv[2])
SEED = sys.argv[3] if len(sys.argv) > 3 else None

app = Flask(__name__)
local = threading.local()


def conn():
    c = getattr(local, "conn", None)
    if c is None:
        c = sqlite3.connect(DB, timeout=5)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        c.execute("PRAGMA busy_timeout=5000")
        local.conn = c
    return c


def init():
    c = conn()
    c.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)")
    if SEED:
        with open(SEED) as f:
            values = json.load(f)
        now = int(time.time() * 1000)
        with c:
            c.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", [(k, json.dumps(v), now) for k, v in values.items()])


@app.get("/api/state")
def get_state():
    rows = conn().execute("SELECT key, value FROM state").fetchall()
    return jsonify({k: json.loads(v) for k, v in rows})


@app.post("/api/command")
def post_command():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return jsonify({"error": "body must be a non-empty JSON object"}), 400
    now = int(time.time() * 1000)
    delay = 0.01
    for attempt in range(8):
        try:
            c = conn()
            with c:
                c.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", [(k, json.dumps(v), now) for k, v in body.items()])
            return jsonify({"ok": True, "written": list(body)})
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == 7:
                raise
            time.sleep(delay)
            delay *= 2
    return jsonify({"error": "unreachable"}), 500


if __name__ == "__main__":
    init()
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
