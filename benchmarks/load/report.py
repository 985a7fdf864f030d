"""The results as one Markdown table plus the notes needed to read it (machine, load, mix)."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.load.drive import PhaseResult

__all__ = ["RunReport", "ServerRun", "machine_description", "render"]

TARGET_SATURATION = 300.0
TARGET_P99_MS = 100.0
TARGET_P99_AT = 100.0


@dataclass
class ServerRun:
    """One server measured: ours on a database, or Rasa."""

    name: str
    phases: list[PhaseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warmup_errors: Counter[str] = field(default_factory=Counter)
    sent_ok_http: int = 0
    server_counted: float | None = None
    instance_counts: list[float] = field(default_factory=list)
    """With several instances: the new inbound messages each counted (their sum is above)."""
    mix: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(p.error_count for p in self.phases) + sum(self.warmup_errors.values())


@dataclass
class RunReport:
    machine: list[str]
    runs: list[ServerRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)


def machine_description(extra: list[str]) -> list[str]:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return [f"{os.cpu_count()} CPU cores ({cpu}), {memory:.1f} GB RAM, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}", *extra]


def _ms(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _cpu_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _ratio(value: float, sms: float) -> str:
    if math.isnan(value) or math.isnan(sms) or sms <= 0:
        return "–"
    return f"{value / sms:.2f}×"


def _phase_label(phase: PhaseResult) -> str:
    if phase.focus is not None:
        return f"cost: {phase.focus}, {phase.concurrency} in flight"
    if phase.offered is not None:
        return f"fixed {phase.offered:g}/s"
    return f"saturation, {phase.concurrency} in flight"


HEADER = ("Server", "Phase", "Offered msg/s", "Achieved msg/s", "Sent", "p50 ms", "p95 ms",
          "p99 ms", "max ms", "Telegram reply p95 ms", "Errors", "Server CPU %",
          "Server CPU ms/msg", "DB CPU %", "Generator CPU %", "Server RSS MB")
CHANNEL_HEADER = ("Server", "Phase", "Channel", "Answered", "p50 ms", "p95 ms", "p99 ms",
                  "max ms", "p50 vs SMS", "p95 vs SMS")
CHANNELS = ("sms", "telegram", "voice")


def _row(run: ServerRun, phase: PhaseResult) -> tuple[str, ...]:
    usage = phase.usage
    errors = str(phase.error_count) if not phase.error_count else f"**{phase.error_count}**"
    return (run.name, _phase_label(phase),
            "–" if phase.offered is None else f"{phase.offered:g}", f"{phase.achieved:.1f}",
            str(phase.sent), _ms(phase.latency(50)), _ms(phase.latency(95)),
            _ms(phase.latency(99)), _ms(phase.latency(100)),
            _ms(phase.delivery(95)) if phase.delivery_ms else "–", errors,
            _pct(usage.get("server_cpu_pct")), _cpu_ms(phase.server_cpu_ms_per_message),
            _pct(usage.get("db_cpu_pct")),
            _pct(usage.get("generator_cpu_pct")),
            "n/a" if usage.get("server_rss_mb") is None else f"{usage['server_rss_mb']:.0f}")


def table(report: RunReport) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    for run in report.runs:
        for phase in run.phases:
            lines.append("| " + " | ".join(_row(run, phase)) + " |")
    return lines


def channel_table(report: RunReport) -> list[str]:
    """Latency per channel within each phase (one load, one server, so ratios compare):
    does a phone-call turn cost more than an SMS turn?"""
    lines = ["| " + " | ".join(CHANNEL_HEADER) + " |",
             "|" + "|".join(["---"] * 3 + ["---:"] * (len(CHANNEL_HEADER) - 3)) + "|"]
    for run in report.runs:
        for phase in run.phases:
            sms = phase.latencies_by_channel.get("sms", [])
            for channel in CHANNELS:
                values = phase.latencies_by_channel.get(channel)
                if not values:
                    continue
                p50, p95 = phase.channel_latency(channel, 50), phase.channel_latency(channel, 95)
                lines.append("| " + " | ".join((
                    run.name, _phase_label(phase), channel, str(len(values)), _ms(p50),
                    _ms(p95), _ms(phase.channel_latency(channel, 99)),
                    _ms(phase.channel_latency(channel, 100)),
                    _ratio(p50, phase.channel_latency("sms", 50)) if sms else "–",
                    _ratio(p95, phase.channel_latency("sms", 95)) if sms else "–")) + " |")
    return lines


def _per(value: float | None, count: int | None) -> float | None:
    return None if value is None or not count else value / count


def cost_lines(report: RunReport) -> list[str]:
    """The cost phases side by side: a call turn against an SMS turn, in server CPU and in
    latency; and per conversation, since a call needs more turns for the same answer."""
    lines = []
    for run in report.runs:
        phases = {p.label: p for p in run.phases if p.focus is not None}
        sms, voice = phases.get("cost sms"), phases.get("cost voice")
        if sms is None or voice is None:
            continue
        cpu_sms, cpu_voice = sms.server_cpu_ms_per_message, voice.server_cpu_ms_per_message
        per_sms = _per(sms.usage.get("server_cpu_s"), sms.conversations)
        per_voice = _per(voice.usage.get("server_cpu_s"), voice.conversations)
        cpu = ("server CPU n/a" if cpu_sms is None or cpu_voice is None else
               f"server CPU {cpu_voice:.1f} vs {cpu_sms:.1f} ms per turn "
               f"({_ratio(cpu_voice, cpu_sms)})")
        whole = ("" if per_sms is None or per_voice is None else
                 f"; per finished conversation {per_voice * 1000:.0f} vs "
                 f"{per_sms * 1000:.0f} ms ({_ratio(per_voice, per_sms)}: "
                 f"{voice.ok / (voice.conversations or 1):.1f} turns per call, "
                 f"{sms.ok / (sms.conversations or 1):.1f} per SMS conversation)")
        lines.append(
            f"{run.name}, cost phases (voice vs SMS, {sms.concurrency} in flight): {cpu}; "
            f"latency p50 {_ms(voice.latency(50))} vs {_ms(sms.latency(50))} ms "
            f"({_ratio(voice.latency(50), sms.latency(50))}), p95 {_ms(voice.latency(95))} vs "
            f"{_ms(sms.latency(95))} ms ({_ratio(voice.latency(95), sms.latency(95))}){whole}")
    return lines


def _targets(run: ServerRun) -> list[str]:
    found = []
    saturation = [p.achieved for p in run.phases if p.offered is None and p.focus is None]
    if saturation and "PostgreSQL" in run.name:
        best = max(saturation)
        verdict = "met" if best >= TARGET_SATURATION else "NOT met"
        found.append(f"{run.name}: target ≥ {TARGET_SATURATION:.0f} msg/s at saturation "
                     f"{verdict} ({best:.0f} msg/s)")
    at = [p for p in run.phases if p.offered == TARGET_P99_AT]
    if at and not run.name.startswith("Rasa"):
        p99 = at[0].latency(99)
        verdict = "met" if p99 < TARGET_P99_MS and not at[0].error_count else "NOT met"
        found.append(f"{run.name}: target p99 < {TARGET_P99_MS:.0f} ms at "
                     f"{TARGET_P99_AT:.0f} msg/s {verdict} ({_ms(p99)} ms)")
    return found


def _mix(run: ServerRun) -> str:
    total = sum(run.mix.values()) or 1
    parts = ", ".join(f"{name.replace('_', ' ')} {100 * n / total:.1f} %"
                      for name, n in run.mix.most_common())
    channels = " / ".join(f"{name} {100 * n / total:.0f} %"
                          for name, n in run.channels.most_common())
    return f"{run.name}: messages sent {total}: {parts}; {channels}"


def render(report: RunReport) -> str:
    """The whole report in Markdown; a run with errors says so at the top and the bottom."""
    out: list[str] = []
    if report.errors:
        out += [f"**!!! THIS RUN HAD {report.errors} ERRORS: the figures below are not "
                "valid; see the error list at the end. !!!**", ""]
    out += table(report)
    out += ["", "CPU columns are percent of one core (200 % = both cores of a 2-core machine), "
            "summed over the process tree (server: uvicorn's supervisor and workers; DB: the "
            "PostgreSQL backends of the bench database; generator: this process, with the fake "
            "providers). Server CPU ms/msg: the server tree's CPU time during the phase "
            "(including its drain) over the messages answered, all channels together. Latency "
            "is from the scheduled send time to the webhook's answer; Telegram reply: to the "
            "reply's arrival at the fake Bot API, through the outbox."]
    if any(p.latencies_by_channel for run in report.runs for p in run.phases):
        out += ["", "By channel (a call's turns are its start and each <Gather> answer; the "
                "status callback after a call is not a turn):", ""]
        out += channel_table(report)
    costs = cost_lines(report)
    if costs:
        out += ["", "What a turn costs by channel (the cost phases: rule questions and balances "
                "only, by SMS senders alone, then by callers alone; a call's status callback "
                "counts in its CPU but is not a turn):", ""] + [f"- {line}" for line in costs]
    out += ["", "Machine and run:", ""] + [f"- {line}" for line in report.machine]
    out += [f"- {note}" for note in report.notes]
    for run in report.runs:
        if run.mix:
            out.append(f"- Mix actually sent (warm-up, fixed rates, saturation), {_mix(run)}")
        out += [f"- {note}" for note in run.notes]
        out += [f"- {line}" for line in _targets(run)]
        for p in run.phases:
            if p.stopped_after_s is not None:
                out.append(f"- {run.name}, {_phase_label(p)}: **stopped sending after "
                           f"{p.stopped_after_s:.1f} s** of {p.duration_s:g} s: over 5 s of "
                           "messages were waiting for an answer (the server could not keep up)")
        late = [f"{_phase_label(p)}: {p.late} of {p.sent}" for p in run.phases if p.late]
        if late:
            out.append(f"- {run.name}: sends that left the generator more than 10 ms after "
                       f"their scheduled time (their latency counts from the schedule): "
                       f"{'; '.join(late)}")
    error_lines = []
    for run in report.runs:
        if run.warmup_errors:
            error_lines.append(f"{run.name}, warm-up: {dict(run.warmup_errors)}")
        for phase in run.phases:
            if phase.errors:
                error_lines.append(f"{run.name}, {_phase_label(phase)}: {dict(phase.errors)}")
                error_lines += [f"    {sample}" for sample in phase.samples]
    if error_lines:
        out += ["", f"**ERRORS ({report.errors}):**", "", "```text", *error_lines, "```"]
    else:
        out += ["", "No errors: every message got HTTP 200 and the reply its script expects."]
    return "\n".join(out) + "\n"


def publish(text: str, markdown: Path | None) -> None:
    """The report on stdout, and in the Markdown file when one was asked for."""
    sys.stdout.write(text)
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(text, "utf-8")
