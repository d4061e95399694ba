"""Outreach email: drafts from the team's templates, filled from what we know of the customer.

`fields` turns a subscriber, their events and risk into template fields (plain strings, every
one present, empty when unknown); `templates` renders a kind's template in a sandbox; `contact`
says when a customer was last reached, by whom and how.
"""
