"""Proactive Care's domain: subscribers, signals, lifecycle, risk, tasks, digest, inbox. No Slack here."""
