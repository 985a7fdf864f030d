"""Where the CPU goes: the py-spy stacks of `--profile` summed into areas of the work.

`python -m benchmarks.load.profile DIR [--markdown]` prints, for each profiled phase in DIR
(all its workers together), the share of samples per area.

Each sample is charged to one area: the **leaf-most** frame that some rule below recognises.
A sample in `re` called from the NLU is the NLU's; one in psycopg called from SQLAlchemy
called from the ledger is psycopg's; SQLAlchemy's own frames are the ORM's or Core's. So an
area is the CPU spent in that layer itself, below the layers above it and above the layers it
calls, which is what a cut in that layer can save. The order of the rules matters only where
one frame could match two (none do by design: they match on file paths).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load.flamegraph import read_collapsed

__all__ = ["AREAS", "area_of", "main", "summarize"]

FRAME_FILE = re.compile(r"\((?P<file>[^:()]+)(?::\d+)?\)$")
LINE = re.compile(r":\d+\)$")

AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HMAC / signature check", ("twilio/request_validator.py", "hmac.py")),
    ("prometheus metrics", ("prometheus_client/",)),
    ("logging / JSON", ("logging/", "json/", "api/logging_setup.py", "bot/observe.py",
                        "db/observe.py", "api/logctx")),
    ("psycopg (driver, Python side)", ("psycopg/", "psycopg_binary/", "psycopg_pool/")),
    ("SQLAlchemy ORM (session, unit of work, loading)", ("sqlalchemy/orm/",)),
    ("SQLAlchemy Core (compile, execute, result)", ("sqlalchemy/",)),
    ("NLU classify", ("nlu/",)),
    ("reply rendering (TwiML, texts, GSM-7)", ("twilio/twiml", "danish/",
                                               "bot/texts.py", "bot/texts/",
                                               "bot/readability.py", "xml/", "jinja2/",
                                               "bot/voice/", "api/channels/twilio_voice.py")),
    ("outbox / Telegram / Twilio delivery", ("api/scheduler.py", "telegram/",
                                             "api/channels/telegram_sender.py",
                                             "api/channels/twilio_sender.py",
                                             "conversations/outbox.py", "httpx/",
                                             "httpcore/", "twilio/", "requests/", "urllib3/",
                                             "api/channels/senders.py")),
    ("dialogue / bot logic", ("bot/",)),
    ("domain code (ledger, conversations, db kernel...; queries built)", (
        "ledger/", "conversations/", "db/", "smalljobs/", "staff/", "outreach/", "cpr/")),
    ("request parsing, FastAPI, Starlette, pydantic", ("fastapi/", "starlette/", "pydantic",
                                                       "python_multipart/", "multipart/",
                                                       "api/")),
    ("uvicorn, asyncio, anyio, threads (the server's plumbing)", (
        "uvicorn/", "h11/", "httptools/", "anyio/", "asyncio/", "concurrent/", "threading.py",
        "queue.py", "uvloop/", "selectors.py", "socket.py")),
)
"""(area, path fragments) in order; a frame belongs to the first area one of whose fragments
its file path contains. "api/" and the plumbing come last: the app's own middleware and
routes, and the loop that runs them, get only what no deeper layer claimed."""
OTHER = "other (stdlib and the rest)"
TELEGRAM_INBOUND = "python-telegram-bot in the webhook (Update objects, Application)"
"""python-telegram-bot's frames are delivery in the outbox but parsing in the webhook route."""

PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("outbox delivery (claim, send, mark sent)", (
        "(api/scheduler.py", "BackgroundScheduler.", "Conversations.claim_outbox",
        "Conversations.mark_sent", "claim_outbox (", "mark_sent (",
        "api/channels/twilio_sender.py", "api/channels/telegram_sender.py")),
    ("background jobs (retention, task jobs, expiry)", (
        "api/smalljob_jobs.py", "api/retention_job.py", "api/outreach_job.py", "expire_due")),
    ("Telegram button check (pending_buttons)", ("_answers_the_waiting_question",)),
    ("dialogue turn in the thread pool (Dialogue.handle: store, NLU, flow, reply)", (
        "Dialogue.handle",)),
    ("phone line turn in the thread pool (PhoneLine.answer)", ("bot/voice/",)),
    ("Telegram webhook on the event loop (secret, JSON, PTB Update, Application)", (
        "telegram_webhook (", "on_update (")),
    ("Twilio SMS and voice routes on the event loop (form, signature, TwiML)", (
        "twilio_sms (", "api/routes/voice.py")),
    ("/metrics scrape", ("metrics_endpoint", "prometheus_client/exposition")),
)
"""Where a sample's work started (the first rule any frame of its stack matches): what the
CPU was spent on behalf of. Work handed to the thread pool has its own stack, so a dialogue
turn cannot be told by channel here (the cost phases and turn_statements do that)."""
REST = "server plumbing outside those (uvicorn, middleware, the loop, the pool's threads)"


def frame_file(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `path/to/file.py`."""
    match = FRAME_FILE.search(frame)
    return match.group("file") if match else frame


def _rule(path: str) -> str | None:
    for area, fragments in AREAS:
        if any(fragment in path for fragment in fragments):
            return area
    return None


def area_of(frames: list[str]) -> str:
    """The area of one sample: its leaf-most recognised frame's."""
    for frame in reversed(frames):
        found = _rule(frame_file(frame))
        if found is not None:
            if found.startswith("outbox") and "telegram/" in frame and path_of(frames) != \
                    PATHS[0][0]:
                return TELEGRAM_INBOUND
            return found
    return OTHER


def path_of(frames: list[str]) -> str:
    """On whose behalf one sample worked (PATHS)."""
    for path, markers in PATHS:
        if any(marker in frame for frame in frames for marker in markers):
            return path
    return REST


@dataclass
class PhaseSummary:
    phase: str
    workers: int
    samples: int
    areas: Counter[str]
    paths: Counter[str]

    def share(self, area: str) -> float:
        return self.areas[area] / self.samples * 100 if self.samples else 0.0

    def path_share(self, path: str) -> float:
        return self.paths[path] / self.samples * 100 if self.samples else 0.0


def summarize(directory: Path) -> list[PhaseSummary]:
    """Every phase in `directory` (files `<phase>-worker<k>.txt`), workers summed."""
    phases: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*-worker*.txt")):
        phases.setdefault(path.stem.rsplit("-worker", 1)[0], []).append(path)
    summaries = []
    for phase, paths in phases.items():
        areas: Counter[str] = Counter()
        work: Counter[str] = Counter()
        for frames, count in read_collapsed(paths):
            areas[area_of(frames)] += count
            work[path_of(frames)] += count
        summaries.append(PhaseSummary(phase, len(paths), sum(areas.values()), areas, work))
    return summaries


def table(summaries: Iterable[PhaseSummary], *, by_path: bool = False) -> str:
    """A Markdown table: one row per area (or per path), one column per phase, % of its
    samples."""
    summaries = list(summaries)
    if by_path:
        names = [path for path, _ in PATHS] + [REST]
    else:
        names = [area for area, _ in AREAS] + [TELEGRAM_INBOUND, OTHER]
    lines = [f"| {'On behalf of' if by_path else 'Area'} | "
             + " | ".join(s.phase for s in summaries) + " |",
             "|---|" + "---:|" * len(summaries)]
    order = sorted(names, key=lambda a: -sum(s.share(a) for s in summaries))
    if by_path:
        order = sorted(names, key=lambda a: -sum(s.path_share(a) for s in summaries))
    for name in order:
        shares = (s.path_share(name) if by_path else s.share(name) for s in summaries)
        lines.append(f"| {name} | " + " | ".join(f"{share:.1f} %" for share in shares) + " |")
    lines.append("| samples (GIL held, 200 Hz, workers summed) | "
                 + " | ".join(str(s.samples) for s in summaries) + " |")
    return "\n".join(lines)


def top_frames(directory: Path, phase: str, area: str, limit: int = 12) -> list[tuple[str, int]]:
    """The leaf-most recognised functions (lines merged) that make up one area of one phase:
    what to look at."""
    found: Counter[str] = Counter()
    for frames, count in read_collapsed(sorted(directory.glob(f"{phase}-worker*.txt"))):
        for frame in reversed(frames):
            rule = _rule(frame_file(frame))
            if rule is not None:
                if rule == area:
                    found[LINE.sub(")", frame)] += count
                break
    return found.most_common(limit)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.profile",
                                     description="Where the CPU goes in a --profile directory.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", metavar="AREA",
                        help="also list the frames of this area (a prefix of its name)")
    args = parser.parse_args(argv)
    summaries = summarize(args.directory)
    print(table(summaries))
    print()
    print(table(summaries, by_path=True))
    if args.top:
        names = [a for a, _ in AREAS] + [TELEGRAM_INBOUND, OTHER]
        area = next(a for a in names if a.startswith(args.top))
        for summary in summaries:
            print(f"\n{summary.phase}, {area}:")
            for frame, count in top_frames(args.directory, summary.phase, area):
                print(f"  {count / max(summary.samples, 1) * 100:5.1f} %  {frame}")
