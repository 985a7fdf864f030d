"""Load harness: the real server under realistic SMS, Telegram and phone-call traffic, side by
side with Rasa 3.6's /model/parse.

    python -m benchmarks.load                      # PostgreSQL, 2 workers, 10.000 senders
    python -m benchmarks.load --db both --workers 4
    python -m benchmarks.load --quick --db sqlite  # a smoke run of some seconds
    make bench-load

Modules: `server` (start/stop `frikort serve`, the database), `seed` (the senders, through the
Ledger facade), `traffic` + traffic.yml (the mix and the conversations), `wire` (signed Twilio
SMS and voice forms, Telegram updates, voice TwiML read back), `httpclient` (a lean
keep-alive client), `providers` (fake Telegram and Twilio APIs for the outbox), `drive` (open
and closed loop), `targets` (our webhooks and calls, Rasa), `resources` (CPU and memory),
`rasa`, `report`, `run`. Method and results: docs/load-bench.md.
"""
