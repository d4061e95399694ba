"""Sending email: compose (stdlib `email`), send once (SMTP), keep a copy (IMAP Sent), log it."""
