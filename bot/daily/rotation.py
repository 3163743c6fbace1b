"""Which quote a chat gets next: the daily rotation (table ``daily_rotation``, migration 2).

No quote repeats in a chat before every quote has been sent there; among the candidates, the
speaker, then the cases, seen longest ago (or never) in that chat win; chats with the same
history still get different quotes. Called inside the claim transaction of
``bot/daily/deliveries.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3

from bot.schema import max_quote_id, placeholders

ROTATION_SAMPLE = 256  # quotes ranked per pick (see pick_quote)


def _tiebreak(chat_id: int, quote_id: int, cycle: int) -> bytes:
    # Chats with the same history still get different quotes on the same day.
    return hashlib.blake2b(f"{chat_id}:{quote_id}:{cycle}".encode(), digest_size=8).digest()


def pick_quote(
    conn: sqlite3.Connection, chat_id: int, now: float, sample: int = ROTATION_SAMPLE
) -> int | None:
    """The chat's next quote: none repeats before every quote has been sent there; among
    the candidates, the speaker, then the cases, seen longest ago (or never) in this chat win.

    A corpus of up to ``sample`` quotes is ranked whole. A larger one is ranked over a
    pseudo-random sample of ``sample`` unsent quotes, so a pick costs the same at a million
    quotes as at a thousand (ranking them all took 1.5 s per chat at 1M, holding the one
    database connection that every lookup waits for)."""
    history = conn.execute(
        """SELECT r.quote_id, r.cycle, r.sent_at, q.speaker_id FROM daily_rotation r
           LEFT JOIN quotes q ON q.id = r.quote_id WHERE r.chat_id = ?""",
        (chat_id,),
    ).fetchall()
    cycle = max((c for _, c, _, _ in history), default=0)
    used = {q for q, c, _, _ in history if c == cycle}
    pool = _rotation_pool(conn, chat_id, cycle, used, sample)
    if not pool:  # every quote has been sent in this cycle: the next one begins
        cycle += 1
        latest = max(history, key=lambda h: h[2])[0] if history else None
        used = {latest} if latest is not None else set()
        pool = _rotation_pool(conn, chat_id, cycle, used, sample) or _rotation_pool(
            conn, chat_id, cycle, set(), sample
        )
    if not pool:
        return None
    speaker_seen: dict[int, float] = {}
    for _, _, sent_at, speaker_id in history:
        if speaker_id is not None:
            speaker_seen[speaker_id] = max(speaker_seen.get(speaker_id, -1), sent_at)
    case_seen: dict[int, float] = {}
    for case_id, sent_at in conn.execute(
        """SELECT qc.case_id, max(r.sent_at) FROM daily_rotation r
           JOIN quote_cases qc ON qc.quote_id = r.quote_id
           WHERE r.chat_id = ? GROUP BY qc.case_id""",
        (chat_id,),
    ):
        case_seen[case_id] = sent_at
    cases: dict[int, list[int]] = {}
    ids = [quote_id for quote_id, _ in pool]
    for quote_id, case_id in conn.execute(
        f"SELECT quote_id, case_id FROM quote_cases WHERE quote_id IN ({placeholders(ids)})", ids
    ):
        cases.setdefault(quote_id, []).append(case_id)

    def score(entry: tuple[int, int]) -> tuple[float, float, bytes]:
        quote_id, speaker_id = entry
        seen = max((case_seen.get(c, -1.0) for c in cases.get(quote_id, ())), default=-1.0)
        return (speaker_seen.get(speaker_id, -1.0), seen, _tiebreak(chat_id, quote_id, cycle))

    chosen = min(pool, key=score)[0]
    conn.execute(
        """INSERT INTO daily_rotation (chat_id, quote_id, cycle, sent_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (chat_id, quote_id) DO UPDATE SET
               cycle = excluded.cycle, sent_at = excluded.sent_at""",
        (chat_id, chosen, cycle, now),
    )
    return chosen


def _rotation_pool(
    conn: sqlite3.Connection, chat_id: int, cycle: int, used: set[int], sample: int
) -> list[tuple[int, int]]:
    """Up to ``sample`` (quote id, speaker id) pairs not in ``used``: all of them when the
    corpus is that small, else a sample that is the same for the same chat and history."""
    max_id = max_quote_id(conn)
    if max_id <= sample:
        rows = conn.execute(
            "SELECT id, speaker_id FROM quotes WHERE withdrawn_at IS NULL"
        ).fetchall()
        return [(int(i), int(s)) for i, s in rows if i not in used]
    rng = random.Random(f"{chat_id}:{cycle}:{len(used)}")
    ids = rng.sample(range(1, max_id + 1), sample)
    rows = conn.execute(
        f"SELECT id, speaker_id FROM quotes WHERE id IN ({placeholders(ids)}) "
        "AND withdrawn_at IS NULL",
        ids,
    ).fetchall()
    pool = [(int(i), int(s)) for i, s in rows if i not in used]
    if pool:
        return pool
    # Late in a cycle most quotes are used: look for the rest instead of guessing.
    rows = conn.execute(
        """SELECT id, speaker_id FROM quotes
           WHERE withdrawn_at IS NULL AND id NOT IN (SELECT value FROM json_each(?)) LIMIT ?""",
        (json.dumps(sorted(used)), sample),
    ).fetchall()
    return [(int(i), int(s)) for i, s in rows]
