"""Block Kit builders: pure functions that turn domain objects into Slack message and view dicts.

No Slack client here: handlers call these and send the result. Every outside string goes
through `bot.blocks.text.escape`; `bot.blocks.limits.check_message` proves the limits.
"""
