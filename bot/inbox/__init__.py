"""The shared inbox: read email, filter noise, detect intent, and hand conversations to triage.

Modules: `parse` (raw bytes -> ParsedEmail), `filters` (noise or human), `intent` (keyword
rules), `ingest` (the service that dedupes, threads and posts through a `TriagePoster`),
`imap` (the IMAP connector), `webhook` (signature check for the inbound webhook).
"""
